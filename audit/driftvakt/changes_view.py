"""Text views of change records for ``driftvakt changes``, in Swedish or English: a list, and
one record in detail with the audits nearest before and after it."""

from __future__ import annotations

from driftvakt.changes import AuditLink, ChangeRecord
from driftvakt.messages import translator

_ORDER = ("pass", "fail", "error", "waived", "not_applicable")


def _counts(link: AuditLink | None, lang: str) -> str:
    t = translator(lang)
    if link is None:
        return str(t("chg_no_audit"))
    counts = ", ".join(f"{link.counts[s]} {t(s)}" for s in _ORDER if link.counts.get(s))
    return f"{t('run').lower()} {link.run_id[:8]} {link.started}: {counts or '-'}"


def listing(records: list[ChangeRecord], lang: str = "en") -> str:
    t = translator(lang)
    if not records:
        return str(t("chg_no_records"))
    lines = []
    for r in records:
        changed = sum(s.get("changed", 0) for s in r.host_stats.values())
        mode = " check" if r.check_mode else ""
        lines.append(
            f"{r.id[:8]}  {r.started}  {r.status:<7}{mode}  {r.change_ref or '-':<14} "
            f"{r.user:<12} {len(r.hosts)} {t('hosts').lower()}, {changed} {t('chg_changed')}  "
            f"{', '.join(r.hosts)}"
        )
    return "\n".join(lines)


def detail(
    r: ChangeRecord, before: AuditLink | None, after: AuditLink | None, lang: str = "en"
) -> str:
    t = translator(lang)
    check = f" ({t('chg_check')})" if r.check_mode else ""
    rows = [
        (t("status"), f"{r.status}{check}"),
        (t("chg_ref"), r.change_ref or "-"),
        (t("by"), f"{r.user}{f' (job {r.job})' if r.job else ''}"),
        (t("started"), r.started),
        (t("chg_finished"), r.finished or f"- ({t('chg_unfinished')})"),
        ("playbook", r.playbook),
        (t("inventory"), f"{r.inventory or '-'}  {t('chg_environment')} {r.environment or '-'}"),
        (t("hosts"), ", ".join(r.hosts)),
    ]
    lines = [f"{t('chg_change')} {r.id}"]
    lines += [f"  {str(label).lower():<10} {value}" for label, value in rows]
    for host, stats in sorted(r.host_stats.items()):
        shown = ", ".join(f"{k}={v}" for k, v in sorted(stats.items()))
        lines.append(f"    {host}: {shown}")
    lines.append(str(t("chg_tasks")))
    if not r.tasks:
        lines.append(f"  {t('chg_none')}")
    for task in r.tasks:
        controls = ",".join(task.controls) or "-"
        lines.append(f"  {task.status:<11} {task.host:<10} [{controls}] {task.task}")
        if task.diff:
            lines.append(f"              {task.diff}")
    width = max(len(t("chg_before")), len(t("chg_after"))) + 2
    lines.append(f"{t('chg_before') + ':':<{width}}{_counts(before, lang)}")
    lines.append(f"{t('chg_after') + ':':<{width}}{_counts(after, lang)}")
    if before and after:
        moved = sorted(
            (host, control, old, after.by_control.get((host, control), "-"))
            for (host, control), old in before.by_control.items()
            if after.by_control.get((host, control)) != old
        )
        for host, control, old, new in moved:
            lines.append(f"  {host} {control}: {old} -> {new}")
    elif not after:
        lines.append(f"  ({t('chg_audit_hint')})")
    return "\n".join(lines)
