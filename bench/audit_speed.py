"""Benchmark: driftvakt audit vs plain testinfra on the same lab hosts and the same checks.

Run as root:  .venv/bin/python bench/audit_speed.py [--sizes 1,10,50] [--scale 1,10,50,200]
              [--ansible-sizes 1]

For each size, one lab ("bench") of that many real hosts is started, and in one run, side by
side: driftvakt audit (warm prefetch cache), testinfra's paramiko and ssh backends, and
testinfra's ansible backend (slow: one ansible process per command, so only --ansible-sizes).
Then driftvakt alone as hosts grow (--scale), with per-host time and the auditor's peak memory.
Writes the tables to docs/performance.md between the audit markers.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LAB = "bench"
INV = PROJECT / "inventories" / f"lab-{LAB}"
BEGIN, END = "<!-- audit-bench:begin -->", "<!-- audit-bench:end -->"


def sh(*args: str, check: bool = True, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.monotonic()
    done = subprocess.run(
        list(args), cwd=PROJECT, capture_output=True, text=True, check=False, env=env, timeout=7200
    )
    took = time.monotonic() - start
    if check and done.returncode not in (0, 1, 2):
        raise SystemExit(f"{' '.join(args[:4])} failed ({done.returncode}): {done.stderr[-800:]}")
    return took, done.stdout + done.stderr


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


def driftvakt_audit(store: Path) -> float:
    took, _ = sh(
        str(BIN / "driftvakt"),
        "audit",
        "-i",
        str(INV),
        "-o",
        "/tmp/bench.json",
        "--store",
        str(store),
        "-q",
    )
    return took


def testinfra(backend: str, cfg: Path, names: list[str]) -> float:
    if backend == "ansible":
        hosts = ["--hosts=ansible://all", f"--ansible-inventory={INV}", "--connection=ansible"]
    else:
        hosts = [
            f"--hosts={','.join(f'{backend}://{n}' for n in names)}",
            f"--ssh-config={cfg}",
            f"--ansible-inventory={INV}",
        ]
    env = dict(
        os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), PATH=f"{BIN}:{os.environ['PATH']}"
    )
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
    commands = json.loads(Path("/tmp/bench.prefetch.json").read_text())[name]
    sys.path.insert(0, str(PROJECT / "audit"))
    from driftvakt.transport.batch import script

    timed = "s=$(date +%s.%N)\n" + script(commands) + 'e=$(date +%s.%N)\necho "T $s $e"\n'
    done = subprocess.run(
        ["ssh", "-F", str(cfg), name, "sh -s"],
        input=timed,
        text=True,
        capture_output=True,
        check=True,
    )
    _, start, end = done.stdout.strip().splitlines()[-1].split()
    return true_t, float(end) - float(start)


def compare(sizes: list[int], ansible_sizes: list[int]) -> list[str]:
    rows = [
        "| hosts | driftvakt (s) | testinfra paramiko (s) | testinfra ssh (s) | "
        "testinfra ansible (s) | paramiko ÷ driftvakt | ssh ÷ driftvakt | "
        "ansible ÷ driftvakt |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        lab(size)
        cfg, names = ssh_config(), host_names()
        store = Path("/tmp/bench.db")
        for p in Path("/tmp").glob("bench.*"):
            p.unlink()
        driftvakt_audit(store)  # warms the prefetch cache (first audit learns the reads)
        ours = driftvakt_audit(store)
        para = testinfra("paramiko", cfg, names)
        ssh = testinfra("ssh", cfg, names)
        ans = testinfra("ansible", cfg, names) if size in ansible_sizes else None
        ans_cells = (f"{ans:.1f}", f"{ans / ours:.0f}x") if ans else ("not run", "-")
        rows.append(
            f"| {size} | {ours:.2f} | {para:.1f} | {ssh:.1f} | {ans_cells[0]} | "
            f"{para / ours:.1f}x | {ssh / ours:.1f}x | {ans_cells[1]} |"
        )
        print(rows[-1], flush=True)
        if size == 1:
            true_t, remote = floor(cfg, names[0])
            limit = true_t + remote
            rows.append(
                f"\nOne host: `ssh host true` {true_t:.2f} s + remote execution of its "
                f"reads {remote:.2f} s = {limit:.2f} s; driftvakt {ours:.2f} s = "
                f"{ours / limit:.1f}x that floor.\n"
            )
            print(rows[-1], flush=True)
    return rows


def scale(sizes: list[int]) -> list[str]:
    rows = [
        "| hosts | total (s) | per host (ms) | auditor peak memory (MiB) |",
        "|---:|---:|---:|---:|",
    ]
    for size in sizes:
        lab(size)
        store = Path("/tmp/bench-scale.db")
        for p in Path("/tmp").glob("bench-scale.*"):
            p.unlink()
        driftvakt_audit(store)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        took = driftvakt_audit(store)
        peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        rows.append(f"| {size} | {took:.2f} | {1000 * took / size:.0f} | {peak:.0f} |")
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--ansible-sizes", default="1")
    parser.add_argument("--scale", default="1,10,50,200")
    args = parser.parse_args()
    ints = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    try:
        table = compare(ints(args.sizes), ints(args.ansible_sizes))
        table += ["", "driftvakt alone as the fleet grows:", "", *scale(ints(args.scale))]
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
