"""Action: the nightly audit of the play's hosts, run in-process by driftvakt's audit engine."""

# ruff: noqa: E402 - Ansible's convention: DOCUMENTATION comes before the imports
from __future__ import annotations

DOCUMENTATION = """
module: driftvakt_audit
short_description: Audit the play's hosts as C(driftvakt audit) does, into the run store
description:
  - Runs once on the controller (C(run_once)) and never through Ansible's connection; it hands
    the play's hosts (after C(--limit), so one slice of a sliced AWX job), their inventory
    variables (the extra vars included) and the command line's connection context (C(-u),
    C(--become), C(--private-key); an ssh-agent key through C(SSH_AUTH_SOCK)) to driftvakt's
    audit engine in this process. The engine contacts each host itself, one round trip per
    host, and chains the run into the run store named by C(DRIFTVAKT_STORE).
  - Every slice of one AWX launch gets the same run group, C(awx-<awx_workflow_job_id>), or
    C(awx-<awx_job_id>) for a job outside a workflow; C(driftvakt report --group) and the
    other commands then take the whole launch. Each slice is a complete chained run.
  - Bad input (no inventory source, no hosts, an unreachable store) fails the task with one
    line. Findings do not fail it unless C(fail_on) says so.
options:
  store:
    description: The run store, a file or C(postgresql://) URL.
    type: str
    default: C(DRIFTVAKT_STORE), else var/driftvakt.db in the project
  run_group:
    description: The run group; by default from AWX's C(awx_workflow_job_id) or C(awx_job_id).
    type: str
  output:
    description: The results file (the run's JSON).
    type: str
    default: var/results/<run group or audit>-<awx_job_id or pid>.json in the project
  fail_on:
    description: Fail the task when the audit finds C(errors) (a host or check could not be
      read), C(failures) (errors or failed controls), or C(never).
    type: str
    default: never
  timeout:
    description: Seconds to wait for one host.
    type: float
    default: 20
requirements:
  - the driftvakt Python package importable by ansible-playbook's Python
"""

import contextlib
import io
import os
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

FAIL_ON = {"never": 99, "failures": 1, "errors": 2}  # the audit's exit codes, worst last
AWX_DETAILS = ("awx_job_id", "awx_workflow_job_id", "awx_execution_node", "awx_job_template_name")


def run_group(task_vars: dict[str, Any], given: str | None) -> str:
    if given:
        return given
    for key in ("awx_workflow_job_id", "awx_job_id"):  # one id space: AWX's unified jobs
        if task_vars.get(key) not in (None, ""):
            return f"awx-{task_vars[key]}"
    return ""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        try:
            from ansible import context

            from driftvakt.audit import Launch, run_audit
            from driftvakt.errors import DriftvaktError
            from driftvakt.playcontext import PlayContext
        except ImportError as exc:
            return {**result, "failed": True, "msg": f"cannot import driftvakt: {exc}"}
        args = self._task.args
        fail_on = str(args.get("fail_on") or "never")
        if fail_on not in FAIL_ON:
            return {**result, "failed": True, "msg": f"fail_on {fail_on!r}: use {list(FAIL_ON)}"}
        sources = [str(s) for s in task_vars.get("ansible_inventory_sources") or []]
        hosts = [str(h) for h in task_vars.get("ansible_play_hosts_all") or []]
        if len(sources) != 1:
            return {**result, "failed": True, "msg": f"the audit reads one inventory source, "
                    f"not {len(sources)}: give one -i"}  # fmt: skip
        if not hosts:
            return {**result, "failed": True, "msg": "the play has no hosts to audit"}
        project = Path(str(task_vars.get("playbook_dir") or ".")).resolve().parent
        group = run_group(task_vars, args.get("run_group"))
        store = str(args.get("store") or os.environ.get("DRIFTVAKT_STORE") or "")
        stem = f"{group or 'audit'}-{task_vars.get('awx_job_id') or os.getpid()}"
        output = Path(str(args.get("output") or project / "var" / "results" / f"{stem}.json"))
        cli = context.CLIARGS
        launch = Launch(
            group,
            {k: str(task_vars[k]) for k in AWX_DETAILS if task_vars.get(k) not in (None, "")},
            PlayContext(cli.get("remote_user"), bool(cli.get("become")),
                        cli.get("private_key_file")),
        )  # fmt: skip
        printed = io.StringIO()
        try:
            from driftvakt.store.location import resolve

            with contextlib.redirect_stdout(printed):
                code = run_audit(
                    sources[0],
                    ",".join(hosts),  # the play's hosts: the inventory read as the play read it
                    output,
                    "en",
                    quiet=True,
                    project=project,
                    store_path=resolve(store) if store else None,
                    timeout=float(args.get("timeout") or 20),
                    launch=launch,
                )
        except DriftvaktError as exc:
            return {**result, "failed": True, "msg": str(exc).splitlines()[0]}
        except Exception as exc:  # never a traceback in the job's output: one line
            return {**result, "failed": True, "msg": f"the audit stopped: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0] if str(exc) else ''}"}  # fmt: skip
        lines = printed.getvalue().splitlines()
        return {
            **result,
            "changed": False,
            "failed": code >= FAIL_ON[fail_on],
            "rc": code,
            "run_group": group,
            "hosts": len(hosts),
            "output": str(output),
            "msg": lines[-1] if lines else "audited",
            "stdout_lines": lines,
        }
