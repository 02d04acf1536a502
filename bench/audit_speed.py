"""Benchmark: driftvakt audit vs plain testinfra on the same lab hosts and the same checks.

Run as root:  .venv/bin/python bench/audit_speed.py [--sizes 1,10,50] [--scale 1,10,50,200]
              [--ssh-sizes 1,10] [--ansible-sizes 1,10] [--scale-not-before HH:MM]
              [--wan-sizes 10] [--wan-rtt-ms 20]

For each size, one lab ("bench") of that many real hosts is started, and in one run, side by
side: driftvakt audit (warm prefetch cache), testinfra's paramiko backend, its ssh backend
(one ssh process per command, so only --ssh-sizes) and its ansible backend (one ansible
process per command, so only --ansible-sizes). Then driftvakt alone as hosts grow (--scale),
with per-host time and the auditor's own peak memory (sizes already measured are reused).
For --wan-sizes, driftvakt and testinfra's paramiko backend once more on the same hosts through
relays adding --wan-rtt-ms of round trip (bench/wan.py; this kernel has no netem);
--scale-not-before waits for an agreed UTC time before a lab of more than 100 hosts (a shared
machine). Each row names the load average when it was taken. Every tool runs with Python's
bytecode cache on, as on an installed system (PYTHONDONTWRITEBYTECODE is dropped).
Writes the tables to docs/performance.md between the audit markers.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LAB = "bench"
INV = PROJECT / "inventories" / f"lab-{LAB}"
BEGIN, END = "<!-- audit-bench:begin -->", "<!-- audit-bench:end -->"
WORK = Path("/tmp/driftvakt-audit-bench")  # this benchmark's own stores and outputs only


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def run(*args: str, env: dict[str, str] | None = None) -> tuple[float, str, int, float]:
    """Wall time, output, exit code and the command's own peak memory (MiB)."""
    start = time.monotonic()
    with (
        tempfile.TemporaryFile() as out,
        subprocess.Popen(
            list(args), cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT, env=_env(env)
        ) as proc,
    ):
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        took = time.monotonic() - start
        out.seek(0)
        text = out.read().decode(errors="replace")
    return took, text, proc.returncode, usage.ru_maxrss / 1024


def sh(*args: str, check: bool = True, env: dict[str, str] | None = None) -> tuple[float, str]:
    took, text, code, _ = run(*args, env=env)
    if check and code not in (0, 1, 2):
        raise SystemExit(f"{' '.join(args[:4])} failed ({code}): {text[-800:]}")
    return took, text


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def lab(size: int) -> None:
    sh(str(BIN / "driftvakt"), "lab", "down", "--name", LAB)
    sh(str(BIN / "driftvakt"), "lab", "up", "--name", LAB, "--hosts", str(size))


def ssh_config() -> Path:
    """An OpenSSH config naming each lab host, for testinfra's ssh and paramiko backends."""
    import yaml

    hosts = yaml.safe_load((INV / "hosts.yml").read_text())["all"]["children"]["lab"]["hosts"]
    group = yaml.safe_load((INV / "group_vars" / "all.yml").read_text())
    known = group["ansible_ssh_common_args"].split("UserKnownHostsFile=")[1].split()[0]
    path = Path("/tmp/driftvakt-bench-ssh_config")
    path.write_text(
        "".join(
            f"Host {name}\n  HostName {h['ansible_host']}\n  User {group['ansible_user']}\n"
            f"  IdentityFile {group['ansible_ssh_private_key_file']}\n"
            f"  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n"
            for name, h in hosts.items()
        )
    )
    return path


def host_names() -> list[str]:
    import yaml

    return list(yaml.safe_load((INV / "hosts.yml").read_text())["all"]["children"]["lab"]["hosts"])


def _fresh_store(name: str) -> Path:
    """An empty run store (and prefetch cache) in WORK: the first audit then learns the reads."""
    WORK.mkdir(exist_ok=True)
    for p in WORK.glob(f"{name}.*"):
        p.unlink()
    return WORK / f"{name}.db"


def driftvakt_audit(store: Path, inventory: Path = INV) -> tuple[float, float]:
    """Wall time and the auditor's peak memory (MiB)."""
    took, text, code, peak = run(
        str(BIN / "driftvakt"),
        "audit",
        "-i",
        str(inventory),
        "-o",
        str(WORK / "result.json"),
        "--store",
        str(store),
        "-q",
    )
    if code not in (0, 1, 2):
        raise SystemExit(f"driftvakt audit failed ({code}): {text[-800:]}")
    return took, peak


def by_testinfra(backend: str, cfg: Path, names: list[str], inventory: Path = INV) -> float:
    if backend == "ansible":
        hosts = [
            "--hosts=ansible://all",
            f"--ansible-inventory={inventory}",
            "--connection=ansible",
        ]
    else:
        hosts = [
            f"--hosts={','.join(f'{backend}://{n}' for n in names)}",
            f"--ssh-config={cfg}",
            f"--ansible-inventory={inventory}",
        ]
    env = dict(ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), PATH=f"{BIN}:{os.environ['PATH']}")
    took, out = sh(
        str(BIN / "pytest"),
        "tests",
        "-q",
        "-p",
        "no:cacheprovider",
        "--sudo",
        "-o",
        "addopts=",
        *hosts,
        env=env,
    )
    if not re.search(r"\d+ (passed|failed)", out):
        raise SystemExit(f"testinfra {backend} ran no checks: {out[-800:]}")
    return took


def floor(cfg: Path, name: str) -> tuple[float, float]:
    """One `ssh host true`, and the remote execution time of all the host's reads."""
    import json

    true_t, _ = sh("ssh", "-F", str(cfg), "-o", "ControlMaster=no", name, "true")
    commands = json.loads((WORK / "compare.prefetch.json").read_text())[name]
    sys.path.insert(0, str(PROJECT / "audit"))
    from driftvakt.transport.batch import script

    # exactly as the audit sends it: the lab audits with become, so one sudo for the batch
    batch = script(commands, as_root_already=True)
    timed = "s=$(date +%s.%N)\n" + batch + 'e=$(date +%s.%N)\necho "T $s $e"\n'
    done = subprocess.run(
        ["ssh", "-F", str(cfg), name, "sudo -n sh -s"],
        input=timed,
        text=True,
        capture_output=True,
        check=True,
    )
    _, start, end = done.stdout.strip().splitlines()[-1].split()
    return true_t, float(end) - float(start)


Measured = dict[int, tuple[float, float, str]]  # hosts -> (seconds, peak MiB, load average)


def _cells(theirs: float | None, ours: float, fmt: str) -> tuple[str, str]:
    if theirs is None:
        return "not run", "-"
    return f"{theirs:.1f}", f"{theirs / ours:{fmt}}x"


def wan_row(size: int, rtt_ms: float) -> str:
    """driftvakt and testinfra's paramiko backend on the same hosts through relays that add
    `rtt_ms` of round-trip time (bench/wan.py): a region's WAN instead of the lab's bridge."""
    import yaml

    from wan import Relays, variant

    hosts = yaml.safe_load((INV / "hosts.yml").read_text())["all"]["children"]["lab"]["hosts"]
    relays = Relays({name: (h["ansible_host"], 22) for name, h in hosts.items()}, rtt_ms)
    try:
        where = WORK / "wan"
        where.mkdir(parents=True, exist_ok=True)
        inv, cfg = variant(INV, relays, where)
        store = _fresh_store("wan")
        driftvakt_audit(store, inv)  # warms this store's prefetch cache
        ours, _ = driftvakt_audit(store, inv)
        para = by_testinfra("paramiko", cfg, list(hosts), inv)
    finally:
        relays.close()
    return f"| {size} | {rtt_ms:g} | {ours:.2f} | {para:.1f} | {para / ours:.1f}x | {load()} |"


def compare(
    sizes: list[int],
    ssh_sizes: list[int],
    ansible_sizes: list[int],
    measured: Measured,
    wan: tuple[list[int], float],
) -> list[str]:
    rows = [
        "| hosts | driftvakt (s) | testinfra paramiko (s) | testinfra ssh (s) | "
        "testinfra ansible (s) | paramiko ÷ driftvakt | ssh ÷ driftvakt | "
        "ansible ÷ driftvakt | load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes: list[str] = []
    wan_rows = [
        "| hosts | added round trip (ms) | driftvakt (s) | testinfra paramiko (s) | "
        "paramiko ÷ driftvakt | load average |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        lab(size)
        cfg, names = ssh_config(), host_names()
        store = _fresh_store("compare")
        driftvakt_audit(store)  # warms the prefetch cache (first audit learns the reads)
        ours, peak = driftvakt_audit(store)
        measured[size] = (ours, peak, load())
        para = by_testinfra("paramiko", cfg, names)
        ssh = by_testinfra("ssh", cfg, names) if size in ssh_sizes else None
        ans = by_testinfra("ansible", cfg, names) if size in ansible_sizes else None
        para_cells = _cells(para, ours, ".1f")
        ssh_cells, ans_cells = _cells(ssh, ours, ".1f"), _cells(ans, ours, ".0f")
        rows.append(
            f"| {size} | {ours:.2f} | {para_cells[0]} | {ssh_cells[0]} | {ans_cells[0]} | "
            f"{para_cells[1]} | {ssh_cells[1]} | {ans_cells[1]} | {load()} |"
        )
        print(rows[-1], flush=True)
        if size in wan[0]:
            wan_rows.append(wan_row(size, wan[1]))
            print(wan_rows[-1], flush=True)
        if size == 1:
            # the floor and driftvakt once more, back to back, so both see the same load
            true_t, remote = floor(cfg, names[0])
            again, _ = driftvakt_audit(store)
            limit = true_t + remote
            notes.append(
                f"\nOne host: `ssh host true` {true_t:.2f} s + remote execution of its "
                f"reads {remote:.2f} s = {limit:.2f} s; driftvakt {again:.2f} s right after = "
                f"{again / limit:.1f}x that floor (load average {load()}).\n"
            )
            print(notes[-1], flush=True)
    if len(wan_rows) > 2:
        notes += [f"The same hosts {wan[1]:g} ms away (bench/wan.py relays):\n", *wan_rows]
    return rows + notes  # the floor sentence after the table, never between its rows


def _wait_until(hhmm: str | None) -> None:
    if not hhmm:
        return
    now = datetime.now(UTC)
    hour, minute = (int(x) for x in hhmm.split(":"))
    start = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if start > now:
        print(f"waiting until {hhmm} UTC for the big lab", flush=True)
        time.sleep((start - now).total_seconds())


def scale(sizes: list[int], measured: Measured, not_before: str | None) -> list[str]:
    rows = [
        "| hosts | total (s) | per host (ms) | auditor peak memory (MiB) | load average |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        if size not in measured:
            if size > 100:
                _wait_until(not_before)
            lab(size)
            store = _fresh_store("scale")
            driftvakt_audit(store)
            took, peak = driftvakt_audit(store)
            measured[size] = (took, peak, load())
        took, peak, avg = measured[size]
        rows.append(f"| {size} | {took:.2f} | {1000 * took / size:.0f} | {peak:.0f} | {avg} |")
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--ssh-sizes", default="1,10")
    parser.add_argument("--ansible-sizes", default="1,10")
    parser.add_argument("--scale", default="1,10,50,200")
    parser.add_argument("--scale-not-before", default=None, metavar="HH:MM")
    parser.add_argument("--wan-sizes", default="10", help="sizes also measured over a WAN")
    parser.add_argument("--wan-rtt-ms", type=float, default=20.0)
    args = parser.parse_args()
    ints = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    measured: Measured = {}
    try:
        table = compare(
            ints(args.sizes),
            ints(args.ssh_sizes),
            ints(args.ansible_sizes),
            measured,
            (ints(args.wan_sizes), args.wan_rtt_ms),
        )
        grown = scale(ints(args.scale), measured, args.scale_not_before)
        table += ["", "driftvakt alone as the fleet grows:", "", *grown]
    finally:
        sh(str(BIN / "driftvakt"), "lab", "down", "--name", LAB)
    doc = PROJECT / "docs" / "performance.md"
    block = f"{BEGIN}\n" + "\n".join(table) + f"\n{END}"
    text = doc.read_text()
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), block, text, flags=re.S)
    else:
        text += (
            "\n## Audit\n\nMeasured by `bench/audit_speed.py`, all tools in one run on the "
            "same lab hosts with the same checks (`tests/`). Times are wall-clock on a "
            "shared 2-core machine: read the ratios, not the seconds.\n\n" + block + "\n"
        )
    doc.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
