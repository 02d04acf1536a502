"""Report texts in Swedish and English."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"en": "Baseline compliance report", "sv": "Efterlevnadsrapport för baslinjen"},
    "run": {"en": "Run", "sv": "Körning"},
    "started": {"en": "Started", "sv": "Startad"},
    "by": {"en": "by", "sv": "av"},
    "revision": {"en": "Baseline revision", "sv": "Baslinjens version"},
    "inventory": {"en": "Inventory", "sv": "Inventarie"},
    "hosts": {"en": "Hosts", "sv": "Värdar"},
    "host": {"en": "Host", "sv": "Värd"},
    "control": {"en": "Control", "sv": "Kontroll"},
    "controls": {"en": "Controls", "sv": "Kontroller"},
    "status": {"en": "Status", "sv": "Status"},
    "severity": {"en": "Severity", "sv": "Allvarlighet"},
    "requirements": {"en": "Requirements", "sv": "Krav"},
    "evidence": {"en": "Evidence", "sv": "Underlag"},
    "reason": {"en": "Reason", "sv": "Orsak"},
    "drift": {"en": "Drift since the previous run", "sv": "Avvikelser sedan föregående körning"},
    "no_drift": {
        "en": "No change since the previous run.",
        "sv": "Ingen förändring sedan föregående körning.",
    },
    "was": {"en": "was", "sv": "var"},
    "now": {"en": "now", "sv": "nu"},
    "pass": {"en": "pass", "sv": "godkänd"},
    "fail": {"en": "fail", "sv": "underkänd"},
    "error": {"en": "error", "sv": "fel"},
    "waived": {"en": "waived", "sv": "undantagen"},
    "not_applicable": {"en": "not applicable", "sv": "ej tillämplig"},
    "new": {"en": "new", "sv": "ny"},
    "gone": {"en": "gone", "sv": "borta"},
    "all": {"en": "All", "sv": "Alla"},
    "filter": {"en": "Show", "sv": "Visa"},
    "low": {"en": "low", "sv": "låg"},
    "medium": {"en": "medium", "sv": "medel"},
    "high": {"en": "high", "sv": "hög"},
    "critical": {"en": "critical", "sv": "kritisk"},
    # HTML report (driftvakt report)
    "summary": {"en": "Summary", "sv": "Sammanfattning"},
    "compliance": {"en": "Compliance", "sv": "Efterlevnad"},
    "duration": {"en": "Duration", "sv": "Varaktighet"},
    "results": {"en": "results", "sv": "resultat"},
    "results_heading": {"en": "All results", "sv": "Alla resultat"},
    "per_host": {"en": "Per host", "sv": "Per värd"},
    "per_control": {"en": "Per control", "sv": "Per kontroll"},
    "requirement": {"en": "Requirement", "sv": "Krav"},
    "reset": {"en": "Show all", "sv": "Visa alla"},
    "lines": {"en": "lines", "sv": "rader"},
    "shown_of": {"en": "{n} of {total} shown", "sv": "{n} av {total} visas"},
    "no_previous": {
        "en": "No earlier run to compare with.",
        "sv": "Ingen tidigare körning att jämföra med.",
    },
    "compared_with": {"en": "Compared with run", "sv": "Jämfört med körning"},
    "unchanged": {"en": "unchanged", "sv": "oförändrade"},
    "hosts_appeared": {"en": "Hosts added", "sv": "Tillkomna värdar"},
    "hosts_vanished": {"en": "Hosts no longer audited", "sv": "Värdar som inte längre granskas"},
    "controls_added": {"en": "Controls added", "sv": "Tillkomna kontroller"},
    "controls_removed": {"en": "Controls removed", "sv": "Borttagna kontroller"},
    "change": {"en": "Change", "sv": "Förändring"},
    "none": {"en": "none", "sv": "inget"},
    "waivers": {"en": "Waivers", "sv": "Undantag"},
    "no_waivers": {"en": "No waivers apply to this run.", "sv": "Inga undantag gäller körningen."},
    "expires": {"en": "Expires", "sv": "Upphör"},
    "risk_analysis": {"en": "Risk analysis", "sv": "Riskanalys"},
    "approver": {"en": "Approved by", "sv": "Godkänt av"},
    "expired": {"en": "expired", "sv": "utgånget"},
    "expired_note": {
        "en": "Expired: the result counts as a failure again.",
        "sv": "Utgånget: resultatet räknas åter som underkänt.",
    },
    # Fleet view of the HTML report
    "fleet": {
        "en": "The fleet by host group and concern",
        "sv": "Flottan per värdgrupp och område",
    },
    "fleet_note": {
        "en": "Compliance per host group (rows) and concern (columns); a cell shows the hosts "
        "of that group in that concern. Click a cell to list its hosts.",
        "sv": "Efterlevnad per värdgrupp (rader) och område (kolumner); en cell visar gruppens "
        "värdar inom området. Klicka på en cell för att lista dess värdar.",
    },
    "group": {"en": "Host group", "sv": "Värdgrupp"},
    "ungrouped": {"en": "(no group)", "sv": "(ingen grupp)"},
    "all_hosts": {"en": "All hosts", "sv": "Alla värdar"},
    "concern": {"en": "Concern", "sv": "Område"},
    "by_severity": {"en": "By severity", "sv": "Per allvarlighet"},
    "failing_most": {"en": "Controls failing most", "sv": "Kontroller som oftast underkänns"},
    "hosts_affected": {"en": "hosts affected", "sv": "berörda värdar"},
    "new_since": {"en": "New since the last run", "sv": "Nytt sedan förra körningen"},
    "nothing_new": {
        "en": "No new failures or errors since the last run.",
        "sv": "Inga nya avvikelser eller fel sedan förra körningen.",
    },
    "and_more": {"en": "and {n} more", "sv": "och {n} till"},
    "repaired_since": {"en": "results repaired", "sv": "resultat åtgärdade"},
    "heatmap": {"en": "Hosts by concern", "sv": "Värdar per område"},
    "heatmap_note": {
        "en": "Each host's worst result per concern, worst hosts first. Click a host for its "
        "results.",
        "sv": "Varje värds sämsta resultat per område, sämsta värdar först. Klicka på en värd "
        "för dess resultat.",
    },
    "search_host": {"en": "Host name contains", "sv": "Värdnamnet innehåller"},
    "show_more": {"en": "Show more hosts", "sv": "Visa fler värdar"},
    "hosts_shown_of": {"en": "{n} of {total} hosts", "sv": "{n} av {total} värdar"},
    "host_detail": {"en": "Host", "sv": "Värd"},
    "host_detail_note": {
        "en": "Choose a host in the table above to see its results here.",
        "sv": "Välj en värd i tabellen ovan för att se dess resultat här.",
    },
    "needs_script": {
        "en": "This run has too many results to list them all: the hosts and their results are "
        "shown with JavaScript. Every result is in the run's JSON (driftvakt report "
        "--format json).",
        "sv": "Körningen har för många resultat för att lista alla: värdarna och deras resultat "
        "visas med JavaScript. Alla resultat finns i körningens JSON (driftvakt report "
        "--format json).",
    },
    "more_rows": {
        "en": "{n} more are not listed here; the fleet view above counts them.",
        "sv": "{n} till listas inte här; flottöversikten ovan räknar dem.",
    },
    "passing_not_shown": {
        "en": "Evidence of passing results is in the run's JSON.",
        "sv": "Underlag för godkända resultat finns i körningens JSON.",
    },
    "trends": {
        "en": "Compliance over the last runs",
        "sv": "Efterlevnad över de senaste körningarna",
    },
    "trends_note": {
        "en": "{n} runs from the run store, {first} to {last}. A run with nothing judged (no "
        "host answered) has no point.",
        "sv": "{n} körningar ur körningsarkivet, {first} till {last}. En körning där inget "
        "kunde bedömas (ingen värd svarade) saknar punkt.",
    },
    "no_trends": {
        "en": "No stored history for this run (it is not in the run store).",
        "sv": "Ingen lagrad historik för körningen (den finns inte i körningsarkivet).",
    },
    "overall": {"en": "All hosts", "sv": "Alla värdar"},
    "per_concern": {"en": "Per concern", "sv": "Per område"},
    "per_group": {"en": "Per host group", "sv": "Per värdgrupp"},
    "commands_unchanged": {
        "en": "{n} command(s) with the same output",
        "sv": "{n} kommando(n) med samma utdata",
    },
    "concern_accounts": {"en": "Accounts", "sv": "Konton"},
    "concern_antivirus": {"en": "Antivirus", "sv": "Antivirus"},
    "concern_backup": {"en": "Backup", "sv": "Säkerhetskopiering"},
    "concern_crypto": {"en": "Cryptography", "sv": "Kryptografi"},
    "concern_file_integrity": {"en": "File integrity", "sv": "Filintegritet"},
    "concern_firewall": {"en": "Firewall", "sv": "Brandvägg"},
    "concern_logging": {"en": "Logging", "sv": "Loggning"},
    "concern_patching": {"en": "Patching", "sv": "Uppdateringar"},
    "concern_platform": {"en": "Platform", "sv": "Plattform"},
    "concern_remote_access": {"en": "Remote access", "sv": "Fjärråtkomst"},
    "concern_services": {"en": "Services", "sv": "Tjänster"},
    "concern_session_lock": {"en": "Session lock", "sv": "Skärmlås"},
    "concern_ssh": {"en": "SSH", "sv": "SSH"},
    "concern_timesync": {"en": "Time sync", "sv": "Tidssynkronisering"},
    # Rights report (driftvakt rights)
    "rights_title": {"en": "Rights report", "sv": "Behörighetsrapport"},
    "rights_intro": {
        "en": "Every local account per host with its groups, administrator rights, sudo rules, "
        "SSH keys (fingerprints only) and last login, as collected by the audit.",
        "sv": "Alla lokala konton per värd med grupper, administratörsrättigheter, sudo-regler, "
        "SSH-nycklar (endast fingeravtryck) och senaste inloggning, insamlade av granskningen.",
    },
    "rights_changes": {"en": "Changes since", "sv": "Förändringar sedan"},
    "rights_no_changes": {
        "en": "No change in accounts or rights.",
        "sv": "Inga förändringar av konton eller behörigheter.",
    },
    "account": {"en": "Account", "sv": "Konto"},
    "accounts": {"en": "accounts", "sv": "konton"},
    "administrators": {"en": "administrators", "sv": "administratörer"},
    "groups": {"en": "Groups", "sv": "Grupper"},
    "admin_rights": {"en": "Administrator rights", "sv": "Administratörsrättigheter"},
    "ssh_keys": {"en": "SSH keys", "sv": "SSH-nycklar"},
    "last_login": {"en": "Last login", "sv": "Senaste inloggning"},
    "never": {"en": "never", "sv": "aldrig"},
    "password": {"en": "Password", "sv": "Lösenord"},
    "sudo_rules": {"en": "Sudo rules", "sv": "Sudo-regler"},
    "system_accounts": {
        "en": "System accounts without login, key or rights",
        "sv": "Systemkonton utan inloggning, nyckel eller rättigheter",
    },
    "no_inventory": {
        "en": "No rights inventory in this run for",
        "sv": "Ingen behörighetsinventering i körningen för",
    },
    "account_added": {"en": "account added", "sv": "konto tillagt"},
    "account_removed": {"en": "account removed", "sv": "konto borttaget"},
    "group_added": {"en": "group added", "sv": "grupp tillagd"},
    "group_removed": {"en": "group removed", "sv": "grupp borttagen"},
    "admin_added": {"en": "administrator right added", "sv": "administratörsrätt tillagd"},
    "admin_removed": {"en": "administrator right removed", "sv": "administratörsrätt borttagen"},
    "key_added": {"en": "SSH key added", "sv": "SSH-nyckel tillagd"},
    "key_removed": {"en": "SSH key removed", "sv": "SSH-nyckel borttagen"},
    "sudo_added": {"en": "sudo rule added", "sv": "sudo-regel tillagd"},
    "sudo_removed": {"en": "sudo rule removed", "sv": "sudo-regel borttagen"},
    "host_new": {"en": "host new in the report", "sv": "värden är ny i rapporten"},
    "host_gone": {"en": "host no longer in the report", "sv": "värden finns inte längre med"},
    "hash": {"en": "password set", "sv": "lösenord satt"},
    "locked": {"en": "locked", "sv": "låst"},
    "no_login": {"en": "no login", "sv": "ingen inloggning"},
    "empty": {"en": "EMPTY", "sv": "TOMT"},
    "nopasswd": {"en": "without password", "sv": "utan lösenord"},
    "commands": {"en": "Commands", "sv": "Kommandon"},
    "source": {"en": "Source", "sv": "Källa"},
    # driftvakt changes (change records of hardening runs)
    "chg_change": {"en": "change", "sv": "ändring"},
    "chg_ref": {"en": "change ref", "sv": "ändrings-id"},
    "chg_check": {"en": "check mode: nothing was changed", "sv": "provkörning: inget ändrades"},
    "chg_unfinished": {
        "en": "never finished: killed or still running",
        "sv": "aldrig avslutad: avbruten eller pågår",
    },
    "chg_finished": {"en": "finished", "sv": "klar"},
    "chg_environment": {"en": "environment", "sv": "miljö"},
    "chg_tasks": {
        "en": "tasks that changed, failed or were waived:",
        "sv": "uppgifter som ändrade, misslyckades eller var undantagna:",
    },
    "chg_none": {"en": "none", "sv": "inga"},
    "chg_before": {"en": "audit before", "sv": "granskning före"},
    "chg_after": {"en": "audit after", "sv": "granskning efter"},
    "chg_no_audit": {"en": "none stored", "sv": "ingen lagrad"},
    "chg_audit_hint": {
        "en": "run `driftvakt audit` on these hosts to record the state after the change",
        "sv": "kör `driftvakt audit` på dessa värdar för att spara läget efter ändringen",
    },
    "chg_no_records": {"en": "no change records match", "sv": "inga ändringar matchar"},
    "chg_changed": {"en": "changed", "sv": "ändrade"},
    # Drift (driftvakt drift, the end of driftvakt audit, the report's drift section)
    "drift_new_failure": {"en": "new failure", "sv": "ny avvikelse"},
    "drift_repaired": {"en": "repaired", "sv": "åtgärdad"},
    "drift_new_error": {"en": "new error", "sv": "nytt fel"},
    "drift_error_cleared": {"en": "error cleared", "sv": "fel upphört"},
    "drift_still_failing": {"en": "still failing", "sv": "kvarstående avvikelse"},
    "drift_status_changed": {"en": "status changed", "sv": "ändrad status"},
    "drift_result_missing": {"en": "result missing", "sv": "resultat saknas"},
    "drift_host_appeared": {"en": "host appeared", "sv": "värd tillkommen"},
    "drift_host_vanished": {"en": "host vanished", "sv": "värd försvunnen"},
    "drift_control_added": {"en": "control added", "sv": "kontroll tillkommen"},
    "drift_control_removed": {"en": "control removed", "sv": "kontroll borttagen"},
    "drift_header": {"en": "Drift {before} -> {after}", "sv": "Förändringar {before} -> {after}"},
    "drift_none": {
        "en": "No change since run {before}.",
        "sv": "Ingen förändring sedan körning {before}.",
    },
    "drift_more": {"en": "... {n} more line(s)", "sv": "... {n} rad(er) till"},
}


def translator(lang: str):  # type: ignore[no-untyped-def]
    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry.get(lang, entry["en"]) if entry else key

    return t
