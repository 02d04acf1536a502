"""What the lab writes into a host's root filesystem before it boots.

Everything here is a lab adaptation (listed in docs/lab.md), never part of a role: the lab's
admin account and key (its user manager lingering), per-host SSH host keys, the mirror and its
security suite as the apt sources (and the lab-only package that suite updates), names of the
lab hosts, and chronyd allowed to run without the right to set this machine's clock.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

from driftvakt.lab import security_suite
from driftvakt.lab.config import LabConfig, LabHost
from driftvakt.lab.system import run

LAB_ADMIN = "ops"

CHRONY_NO_CLOCK = """\
# driftvakt lab adaptation: a container must never set this machine's clock.
# Run chronyd anyway (it still measures and selects sources) but with -x: never adjust the clock.
[Unit]
ConditionCapability=

[Service]
ExecStart=
ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x
"""


def _write(root: Path, rel: str, text: str, mode: int = 0o644) -> None:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _enable(root: Path, unit: str) -> None:
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / unit
    if not link.is_symlink():
        link.symlink_to(f"/etc/systemd/system/{unit}")


def host_keys(root: Path) -> list[str]:
    """Fresh host keys for this host; returns the public keys (type and key) for known_hosts."""
    pubs = []
    for kind in ("ed25519", "ecdsa"):
        key = root / f"etc/ssh/ssh_host_{kind}_key"
        for old in (key, key.with_suffix(".pub")):
            old.unlink(missing_ok=True)
        run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "", "-f", str(key)])
        pubs.append(" ".join(key.with_name(key.name + ".pub").read_text().split()[:2]))
    return pubs


def add_user(root: Path, name: str, shell: str, groups: str | None, pubkey: str) -> None:
    args = ["chroot", str(root), "useradd", "--create-home", "--shell", shell]
    if groups:
        args += ["--groups", groups]
    run([*args, name])
    ssh_dir = root / "home" / name / ".ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "authorized_keys").write_text(pubkey)
    (ssh_dir / "authorized_keys").chmod(0o600)
    run(["chroot", str(root), "chown", "-R", f"{name}:{name}", f"/home/{name}/.ssh"])


def prepare_common(
    cfg: LabConfig, host: LabHost, all_hosts: list[LabHost], root: Path
) -> list[str]:
    svc = cfg.services_host()
    _write(root, "/etc/hostname", f"{host.name}\n")
    names = "".join(f"{h.address}\t{h.name}\n" for h in [svc, *all_hosts])
    _write(root, "/etc/hosts", f"127.0.0.1\tlocalhost\n::1\tlocalhost\n{names}")
    _write(
        root,
        "/etc/apt/sources.list",
        f"# driftvakt lab mirror (unsigned, lab only)\n"
        f"deb [trusted=yes] http://{svc.address}/debian bookworm main\n"
        f"deb [trusted=yes] http://{svc.address}/debian-security {security_suite.SUITE} main\n",
    )
    (root / "etc/apt/sources.list.d").mkdir(parents=True, exist_ok=True)
    for extra in (root / "etc/apt/sources.list.d").iterdir():
        extra.unlink()
    _write(
        root, "/etc/systemd/system/chrony.service.d/driftvakt-lab-no-clock.conf", CHRONY_NO_CLOCK
    )
    if not host.is_services:  # the package whose security update the lab's suite carries
        security_suite.install_canary(root)
    add_user(root, LAB_ADMIN, "/bin/bash", "sudo", cfg.key.with_suffix(".pub").read_text())
    # The admin's user manager stays up (logind's linger): otherwise it stops 10 s after each
    # login and starts again at the next, and systemd under nspawn loses that race now and then
    # ("user-runtime-dir@1000.service: Failed at step CGROUP", "Failed to kill control group
    # ... Input/output error"): a login then opens no session at all (seen in CI).
    _write(root, f"/var/lib/systemd/linger/{LAB_ADMIN}", "")
    _write(
        root,
        f"/etc/sudoers.d/driftvakt-lab-{LAB_ADMIN}",
        f"# driftvakt lab: the automation account Ansible and the auditor use\n"
        f"{LAB_ADMIN} ALL=(ALL:ALL) NOPASSWD: ALL\n",
        0o440,
    )
    return host_keys(root)


def prepare_services(cfg: LabConfig, root: Path) -> None:
    """The lab services host: region NTP server, package mirror, SFTP drop, syslog receiver."""
    _write(
        root,
        "/etc/chrony/chrony.conf",
        "# driftvakt lab: the region's NTP server\n"
        "local stratum 8\n"
        f"allow {cfg.subnet}\n"
        "driftfile /var/lib/chrony/chrony.drift\n",
    )
    _write(
        root,
        "/etc/rsyslog.d/10-driftvakt-lab-receiver.conf",
        "# driftvakt lab: the region's central log receiver\n"
        'module(load="imudp")\nmodule(load="imtcp")\n'
        'template(name="LabRemoteFile" type="string" string="/var/log/remote/%FROMHOST-IP%.log")\n'
        'ruleset(name="lab_remote") { action(type="omfile" dynaFile="LabRemoteFile") }\n'
        'input(type="imudp" port="514" ruleset="lab_remote")\n'
        'input(type="imtcp" port="514" ruleset="lab_remote")\n',
    )
    svc = cfg.services_host()
    _write(
        root,
        "/etc/systemd/system/driftvakt-lab-mirror.service",
        "[Unit]\nDescription=driftvakt lab package mirror (HTTP)\nAfter=network.target\n\n"
        "[Service]\nDynamicUser=yes\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n"
        f"ExecStart=/usr/bin/python3 -m http.server 80 --bind {svc.address} "
        "--directory /srv/mirror\nRestart=on-failure\n\n"
        "[Install]\nWantedBy=multi-user.target\n",
    )
    _enable(root, "driftvakt-lab-mirror.service")
    (root / "srv/mirror/debian").mkdir(parents=True, exist_ok=True)
    security_suite.publish(
        root,
        security_suite.FIRST_UPDATE,
        datetime.datetime.now(datetime.UTC) - security_suite.FIRST_UPDATE_AGE,
    )
    add_user(
        root,
        "driftpartner",
        "/usr/sbin/nologin",
        None,
        cfg.sftp_key.with_suffix(".pub").read_text(),
    )
    sftp = root / "srv/sftp"
    (sftp / "incoming").mkdir(parents=True, exist_ok=True)
    sftp.chmod(0o755)
    run(["chroot", str(root), "chown", "driftpartner:driftpartner", "/srv/sftp/incoming"])
    _write(
        root,
        "/etc/ssh/sshd_config.d/driftvakt-lab-sftp.conf",
        "# driftvakt lab: the driftpartner's SFTP drop\n"
        "Match User driftpartner\n  ChrootDirectory /srv/sftp\n  ForceCommand internal-sftp\n"
        "  AllowTcpForwarding no\n  X11Forwarding no\n",
    )


def reset(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
