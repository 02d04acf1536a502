"""Ansible callback: record every hardening run as a change record in driftvakt's run store."""

# ruff: noqa: E402 - Ansible's convention: DOCUMENTATION comes before the imports
from __future__ import annotations

DOCUMENTATION = """
name: driftvakt_changes
type: notification
short_description: Record hardening runs as change records in driftvakt's run store
description:
  - Records who ran the playbook, when, under which change reference, on which hosts, and every
    task that changed or failed something on a host (task name, control IDs from the task's
    tags, a diff summary without content). Tasks under no_log are recorded as censored.
  - A notification callback, not a stdout one, so it works beside AWX's own stdout callback.
  - Sets DRIFTVAKT_CHANGE_ID for the run's workers so the driftvakt_change_gate action can prove
    that the record exists before anything is changed.
requirements:
  - the driftvakt Python package importable by ansible-playbook's Python
options:
  store:
    description: >-
      The run store: a file (default var/driftvakt.db beside the playbook) or a PostgreSQL
      URL (postgresql://...) shared by several controllers.
    env:
      - name: DRIFTVAKT_STORE
    ini:
      - section: callback_driftvakt_changes
        key: store
"""

import difflib
import getpass
import os
import uuid
from pathlib import Path
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase

try:
    from driftvakt import changes
    from driftvakt.errors import DriftvaktError
    from driftvakt.redact import redact

    IMPORT_ERROR = ""
except ImportError as exc:  # reported at play start, where the gate then stops production runs
    IMPORT_ERROR = str(exc)

CHANGE_ID_ENV = "DRIFTVAKT_CHANGE_ID"
CHANGE_STORE_ENV = "DRIFTVAKT_CHANGE_STORE"
CHANGE_REF_ENV = "DRIFTVAKT_CHANGE_REF"
CHANGE_ERROR_ENV = "DRIFTVAKT_CHANGE_ERROR"
# Identities AWX passes as extra vars: the person who launched the job, not the runner's account.
_AWX_USER_VARS = ("awx_user_name", "tower_user_name")
_AWX_JOB_VARS = ("awx_job_id", "tower_job_id")


def control_ids(tags: list[str], known: set[str]) -> list[str]:
    """The control IDs among a task's tags (role and 'always' tags are not controls)."""
    return sorted(tag for tag in tags if tag in known)


def diff_summary(result: dict[str, Any]) -> str:
    """Which files changed and by how many lines; never the content (it may hold secrets)."""
    if result.get("censored") or result.get("_ansible_no_log"):
        return "censored (no_log)"
    parts: list[str] = []
    items = result.get("results") if isinstance(result.get("results"), list) else [result]
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("censored") or item.get("_ansible_no_log"):
            parts.append("censored (no_log)")
            continue
        diffs = item.get("diff")
        for diff in diffs if isinstance(diffs, list) else [diffs]:
            if isinstance(diff, dict) and diff:
                parts.append(_one_diff(diff))
        if not diffs:
            target = item.get("dest") or item.get("path") or item.get("name")
            if isinstance(target, str) and target and item.get("changed"):
                parts.append(target)
    return "; ".join(dict.fromkeys(p for p in parts if p))


def failure_summary(result: dict[str, Any]) -> str:
    """The failure's message, first line, with hashes and private keys redacted."""
    if result.get("censored") or result.get("_ansible_no_log"):
        return "censored (no_log)"
    message = str(result.get("msg") or result.get("reason") or "").strip()
    first = message.splitlines()[0] if message else ""
    return redact(first)[:300]


def _one_diff(diff: dict[str, Any]) -> str:
    where = str(diff.get("after_header") or diff.get("before_header") or "")
    before, after = diff.get("before"), diff.get("after")
    if isinstance(before, str) and isinstance(after, str):
        lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), n=0))
        added = sum(ln.startswith("+") and not ln.startswith("+++") for ln in lines)
        removed = sum(ln.startswith("-") and not ln.startswith("---") for ln in lines)
        return f"{where or 'content'}: +{added} -{removed} lines"
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return f"{where + ': ' if where else ''}{', '.join(keys)} changed"
    return f"{where or 'content'}: changed"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "driftvakt_changes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record: Any = None
        self.store: Path | str | None = None
        self.playbook = ""
        self.known: set[str] = set()
        self.failed_to_record = ""

    # -- helpers -------------------------------------------------------------------------

    def _store_path(self) -> Path | str:
        configured = self.get_option("store")
        if configured and str(configured).startswith(("postgresql://", "postgres://")):
            return str(configured)
        if configured:
            return Path(configured).expanduser()
        base = Path(self.playbook).resolve().parent if self.playbook else Path.cwd()
        return base / "var" / "driftvakt.db"

    def _fail(self, what: str) -> None:
        self.failed_to_record = what
        # The gate task (a forked worker) reads why; an inherited record id must not pass it.
        os.environ.pop(CHANGE_ID_ENV, None)
        os.environ[CHANGE_ERROR_ENV] = what
        self._display.error(f"driftvakt_changes: {what}")

    def _add(self, result: Any, status: str, diff: str | None = None) -> None:
        if self.record is None:
            return
        task = result.task
        self.record.tasks.append(
            changes.TaskChange(
                host=result.host.get_name(),
                task=task.get_name(),
                controls=control_ids(list(task.tags or []), self.known),
                status=status,
                diff=diff_summary(result.result) if diff is None else diff,
            )
        )

    # -- events --------------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self.playbook = str(getattr(playbook, "_file_name", "") or "")

    def v2_playbook_on_play_start(self, play: Any) -> None:
        if self.record is not None:
            return  # one record per playbook run, opened by its first play
        if (getattr(play, "vars", None) or {}).get("driftvakt_change_record") is False:
            return  # a play that changes nothing by design: the audit (playbooks/audit.yml)
        if IMPORT_ERROR:
            self._fail(f"cannot import driftvakt ({IMPORT_ERROR}): this run is not recorded")
            return
        from driftvakt.catalog import controls

        self.known = set(controls())
        manager = play.get_variable_manager()
        extra = dict(manager.extra_vars or {})
        inventory = getattr(manager, "_inventory", None)
        hosts = [h.get_name() for h in inventory.get_hosts(play.hosts)] if inventory else []
        environments = sorted(
            {
                str(manager.get_vars(play=play, host=h).get("driftvakt_environment") or "")
                for h in (inventory.get_hosts(play.hosts) if inventory else [])
            }
            - {""}
        )
        user = next((str(extra[k]) for k in _AWX_USER_VARS if extra.get(k)), getpass.getuser())
        self.record = changes.ChangeRecord(
            id=str(uuid.uuid4()),
            started=changes.now(),
            user=user,
            change_ref=str(extra.get("change_ref") or os.environ.get(CHANGE_REF_ENV) or ""),
            environment=",".join(environments),
            playbook=self.playbook,
            inventory=",".join(context.CLIARGS.get("inventory") or ()),
            hosts=hosts,
            check_mode=bool(context.CLIARGS.get("check")),
            job=next((str(extra[k]) for k in _AWX_JOB_VARS if extra.get(k)), ""),
        )
        self.store = self._store_path()
        try:
            changes.begin(self.store, self.record)
        except DriftvaktError as exc:
            self.record = None
            self._fail(f"{exc}: this run is not recorded")
            return
        # Workers fork from this process: the gate task reads these to prove the record exists.
        os.environ[CHANGE_ID_ENV] = self.record.id
        os.environ.pop(CHANGE_ERROR_ENV, None)
        os.environ[CHANGE_STORE_ENV] = str(self.store)
        self._display.display(
            f"driftvakt: change record {self.record.id[:8]} in {self.store}", screen_only=False
        )

    def v2_runner_on_ok(self, result: Any) -> None:
        facts = result.result.get("ansible_facts") or {}
        for waived in facts.get("driftvakt_waivers_applied") or []:
            if isinstance(waived, dict):
                self._add_waived(result, waived)
        if result.result.get("changed"):
            self._add(result, "changed")

    def _add_waived(self, result: Any, waived: dict[str, Any]) -> None:
        if self.record is None:
            return
        self.record.tasks.append(
            changes.TaskChange(
                host=result.host.get_name(),
                task="not enforced: waived",
                controls=[str(waived.get("control"))],
                status="waived",
                diff=f"waiver {waived.get('source')} ({waived.get('risk_analysis')}, "
                f"expires {waived.get('expires')})",
            )
        )

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        status = "failed (ignored)" if ignore_errors else "failed"
        self._add(result, status, diff=failure_summary(result.result))

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._add(result, "unreachable", diff=failure_summary(result.result))

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if self.record is None or self.store is None:
            return
        host_stats = {host: dict(stats.summarize(host)) for host in sorted(stats.processed)}
        self.record.host_stats = host_stats
        self.record.hosts = sorted(set(self.record.hosts) | set(host_stats))
        bad = any(s.get("failures") or s.get("unreachable") for s in host_stats.values())
        self.record.status = "failed" if bad or not host_stats else "ok"
        self.record.finished = changes.now()
        try:
            changes.finish(self.store, self.record)
        except DriftvaktError as exc:
            self._fail(f"{exc}: the tasks of change {self.record.id[:8]} are not recorded")
            return
        changed = sum(t.status == "changed" for t in self.record.tasks)
        self._display.display(
            f"driftvakt: change {self.record.id[:8]} recorded: {changed} task change(s) on "
            f"{len(host_stats)} host(s); see `driftvakt changes {self.record.id[:8]}`",
            screen_only=False,
        )
