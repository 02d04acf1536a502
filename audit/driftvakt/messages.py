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
}


def translator(lang: str):  # type: ignore[no-untyped-def]
    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry.get(lang, entry["en"]) if entry else key

    return t
