"""The lab's security suite: ``bookworm-security`` on labsvc, with a release time the lab sets.

A region's hosts take security fixes from the distribution's security suite; the patching control
(SKA-SRV-04) judges a pending fix by when it appeared there. So the lab publishes a real
security suite next to its mirror: one lab-only package, ``driftvakt-lab-canary``, which every
lab host has installed at version 1.0 and whose security update (1.1 at ``lab up``) is in
``bookworm-security``, with the suite's Release ``Date`` set 60 hours back. Tests publish newer
versions with other dates (``publish``). The package carries one text file and no scripts.

Everything is built on this machine with ``dpkg-deb`` and ``apt-ftparchive``; the suite lives in
labsvc's own upper layer (``/srv/mirror/debian-security``), served by the mirror's HTTP server.
"""

from __future__ import annotations

import datetime
import email.utils
import shutil
import tempfile
from pathlib import Path

from driftvakt.lab.system import run

CANARY = "driftvakt-lab-canary"
INSTALLED_VERSION = "1.0"
FIRST_UPDATE = "1.1"
# How long ago the suite says the lab's first security update was released: more than the
# patching control's 48 hours, so a host without it fails, and the role's repair shows.
FIRST_UPDATE_AGE = datetime.timedelta(hours=60)
SUITE = "bookworm-security"
SERVED_AT = "/srv/mirror/debian-security"  # in labsvc; http://labsvc/debian-security
POOL = f"pool/updates/main/d/{CANARY}"


def build_canary(version: str, out_dir: Path) -> Path:
    """A minimal architecture-independent package of ``version``; returns the .deb."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        (tree / "DEBIAN").mkdir(parents=True)
        (tree / "DEBIAN" / "control").write_text(
            f"Package: {CANARY}\nVersion: {version}\nArchitecture: all\n"
            "Maintainer: driftvakt lab <root@localhost>\nSection: misc\nPriority: optional\n"
            "Description: driftvakt lab only: stands in for a package with a security update\n"
        )
        doc = tree / "usr" / "share" / "doc" / CANARY
        doc.mkdir(parents=True)
        (doc / "README").write_text(
            f"driftvakt lab package, version {version}. It does nothing; the lab's security\n"
            "suite publishes newer versions of it to exercise the patching control.\n"
        )
        for path in (tree, *tree.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        out_dir.mkdir(parents=True, exist_ok=True)
        deb = out_dir / f"{CANARY}_{version}_all.deb"
        run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)])
    return deb


def install_canary(root: Path) -> None:
    """Install version 1.0 into a host's root file system before it boots."""
    with tempfile.TemporaryDirectory() as tmp:
        deb = build_canary(INSTALLED_VERSION, Path(tmp))
        run(["dpkg", f"--root={root}", "--force-script-chrootless", "-i", str(deb)])


def publish(labsvc_root: Path, version: str, released: datetime.datetime) -> None:
    """(Re)publish the security suite in labsvc's root with ``version`` of the canary, and the
    suite's Release ``Date`` set to ``released`` (the time the update appeared there)."""
    repo = labsvc_root / SERVED_AT.lstrip("/")
    shutil.rmtree(repo / "pool", ignore_errors=True)
    build_canary(version, repo / POOL)
    dist = repo / "dists" / SUITE
    binary = dist / "main" / "binary-amd64"
    binary.mkdir(parents=True, exist_ok=True)
    (dist / "Release").unlink(missing_ok=True)
    packages = run(["apt-ftparchive", "packages", "pool"], cwd=repo).stdout
    (binary / "Packages").write_text(packages)
    date = email.utils.format_datetime(released.astimezone(datetime.UTC), usegmt=True)
    release = run(
        [
            "apt-ftparchive",
            *_opt("Origin", "Debian"),
            *_opt("Label", "Debian-Security"),
            *_opt("Suite", SUITE),
            *_opt("Codename", SUITE),
            *_opt("Components", "main"),
            *_opt("Architectures", "amd64"),
            *_opt("Date", date),
            "release",
            str(dist),
        ]
    ).stdout
    tmp = dist / "Release.tmp"
    tmp.write_text(release)
    tmp.replace(dist / "Release")
    for path in (repo, *repo.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _opt(field: str, value: str) -> list[str]:
    return ["-o", f"APT::FTPArchive::Release::{field}={value}"]
