"""``driftvakt lab`` and ``driftvakt demo``: the lab of real Debian hosts on this machine."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from driftvakt.exitcodes import Exit


def cmd_lab(args: argparse.Namespace) -> int:
    from driftvakt import lab
    from driftvakt.lab import LabConfig
    from driftvakt.lab.machine import ssh_login
    from driftvakt.progress import Progress

    cfg = LabConfig(args.name, Path(args.project).resolve())
    progress = Progress(quiet=args.quiet)
    if args.lab_command == "up":
        lab.up(cfg, args.hosts, progress, rpm=args.rpm)
    elif args.lab_command == "down":
        lab.down(cfg, progress)
    elif args.lab_command == "status":
        hosts = lab.status(cfg)
        if not hosts:
            print(f"lab '{cfg.name}' is not up")
            return Exit.LAB
        print(f"lab '{cfg.name}' {cfg.subnet}  inventory {cfg.inventory}")
        for h in hosts:
            state = "up" if h.reachable else ("running, no ssh" if h.running else "down")
            print(f"  {h.name:<8} {h.address:<14} {state:<16} {h.memory_mib:6.1f} MiB")
        return Exit.OK if all(h.reachable for h in hosts) else Exit.LAB
    elif args.lab_command == "ssh":
        host = lab.resolve_host(cfg, args.host)
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        argv = ssh_login(cfg, host.address, command, terminal=sys.stdin.isatty())
        os.execvp(argv[0], argv)  # noqa: S606 - hand the terminal to ssh
    return Exit.OK


def cmd_demo(args: argparse.Namespace) -> int:
    from driftvakt.demo import run_demo

    return run_demo(Path(args.project).resolve(), args.hosts)
