"""The cached images: one debootstrap base, a services layer, and the lab's package mirror.

Everything here is built once per machine and reused: the base image is the lower layer of
every host's overlay; the services layer adds chrony and rsyslog for the lab services host; the
mirror is a real Debian repository (``apt-ftparchive``) that lab hosts install packages from over
HTTP, the way a region's hosts use an internal mirror.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from driftvakt.lab.config import cache_root
from driftvakt.lab.overlay import mount_overlay
from driftvakt.lab.system import run
from driftvakt.lock import exclusive
from driftvakt.progress import Progress

SUITE = "bookworm"
UPSTREAM = "http://deb.debian.org/debian"
BASE_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "iproute2",
    "sudo",
    "libpam-systemd",
    "procps",
    "iputils-ping",
    # priority "important" on every real Debian server; firewalld needs /etc/protocols from it
    "netbase",
)
# What the roles install, served by the lab mirror. Add here when a role needs a package.
MIRROR_PACKAGES = (
    "chrony",
    "nftables",
    "firewalld",
    "python3-firewall",
    "rsyslog",
    "auditd",
    "aide",
    "aide-common",
    "clamav",
    "clamav-daemon",
    "clamav-freshclam",
    "locales",
    "libpam-pwquality",
    "openssl",
    "ca-certificates",
)
SERVICES_PACKAGES = ("chrony", "rsyslog")
# RHEL's and SLES's package clients as Debian packages them (dnf 4.14, zypper 1.14, rpm 4.18):
# the layer of the lab's RPM hosts (`lab up --rpm`), built only when one is asked for.
RPM_PACKAGES = ("rpm", "dnf", "python3-dnf", "zypper")


def _key(*parts: tuple[str, ...]) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def base_dir() -> Path:
    return cache_root() / f"base-{SUITE}-{_key(BASE_PACKAGES)}"


def services_layer_dir() -> Path:
    return cache_root() / f"services-{_key(BASE_PACKAGES, MIRROR_PACKAGES, SERVICES_PACKAGES)}"


def mirror_dir() -> Path:
    return services_layer_dir().with_name(services_layer_dir().name.replace("services", "mirror"))


def rpm_layer_dir() -> Path:
    return cache_root() / f"rpm-{_key(BASE_PACKAGES, RPM_PACKAGES)}"


def ensure_rpm_layer(progress: Progress) -> None:
    """The layer with RPM_PACKAGES installed over the base image (once per machine)."""
    final = rpm_layer_dir()
    if (final / ".complete").exists():
        return
    with exclusive(cache_root() / "images.lock", 3600, "lab image build"):
        if (final / ".complete").exists():
            return
        tmp = final.with_name(final.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        progress.step(f"building the RPM host layer ({', '.join(RPM_PACKAGES)}; once)")
        with _chroot_overlay(base_dir(), tmp) as root:
            apt = ["chroot", str(root), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
            apt += ["-q", "-y", "-o", "Acquire::Languages=none"]
            run([*apt, "update"], timeout=600)
            run([*apt, "install", "--no-install-recommends", *RPM_PACKAGES], timeout=1200)
            run([*apt, "clean"])
            shutil.rmtree(root / "var" / "lib" / "apt" / "lists", ignore_errors=True)
            (root / "var" / "lib" / "apt" / "lists" / "partial").mkdir(parents=True)
        (tmp / ".complete").write_text("ok\n")
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)


def ensure_images(progress: Progress) -> None:
    if _images_complete():
        return
    # Two `lab up` at once on a fresh machine would build into the same .tmp directories and
    # ruin each other's build: the second waits for the first and then finds the images done.
    with exclusive(cache_root() / "images.lock", 3600, "lab image build"):
        if not (base_dir() / ".complete").exists():
            _build_base(progress)
        if not _images_complete():
            _build_services_and_mirror(progress)


def _images_complete() -> bool:
    return all((d / ".complete").exists() for d in (base_dir(), services_layer_dir(), mirror_dir()))


def _build_base(progress: Progress) -> None:
    final = base_dir()
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    progress.step(f"building the Debian {SUITE} base image with debootstrap (once, ~1-2 min)")
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            SUITE,
            str(tmp),
            UPSTREAM,
        ],
        timeout=1200,
    )
    # Every host gets its own host keys and machine id; none may come from the image.
    for key in (tmp / "etc" / "ssh").glob("ssh_host_*"):
        key.unlink()
    (tmp / "etc" / "machine-id").write_text("")
    run(["chroot", str(tmp), "apt-get", "clean"])
    (tmp / ".complete").write_text("ok\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


@contextmanager
def _chroot_overlay(lower: Path, upper: Path) -> Iterator[Path]:
    work = upper.with_name(upper.name + ".work")
    merged = upper.with_name(upper.name + ".merged")
    mounted = [mount_overlay([lower], upper, work, merged)]
    try:
        for sub, args in (("proc", ["-t", "proc", "proc"]), ("dev", ["--bind", "/dev"])):
            run(["mount", *args, str(merged / sub)])
            mounted.append(merged / sub)
        shutil.copy("/etc/resolv.conf", merged / "etc" / "resolv.conf")
        policy = merged / "usr" / "sbin" / "policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")  # never start services inside the chroot
        policy.chmod(0o755)
        yield merged
        policy.unlink()
        (merged / "etc" / "resolv.conf").unlink()
    finally:
        for path in reversed(mounted):
            run(["umount", "-l", str(path)], check=False)
        shutil.rmtree(work, ignore_errors=True)
        merged.rmdir()


def _build_services_and_mirror(progress: Progress) -> None:
    layer, mirror = services_layer_dir(), mirror_dir()
    tmp_layer = layer.with_name(layer.name + ".tmp")
    tmp_mirror = mirror.with_name(mirror.name + ".tmp")
    for path in (tmp_layer, tmp_mirror):
        shutil.rmtree(path, ignore_errors=True)
    progress.step("fetching packages for the lab mirror and the services host (once)")
    with _chroot_overlay(base_dir(), tmp_layer) as root:
        apt = [
            "chroot",
            str(root),
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "-q",
            "-y",
            "-o",
            "Acquire::Languages=none",
        ]
        run([*apt, "update"], timeout=600)
        run(
            [*apt, "install", "--download-only", "--no-install-recommends", *MIRROR_PACKAGES],
            timeout=1200,
        )
        pool = tmp_mirror / "pool" / "main"
        pool.mkdir(parents=True)
        for deb in (root / "var" / "cache" / "apt" / "archives").glob("*.deb"):
            shutil.copy2(deb, pool / deb.name)
        run([*apt, "install", "--no-install-recommends", *SERVICES_PACKAGES], timeout=1200)
        run([*apt, "clean"])
        shutil.rmtree(root / "var" / "lib" / "apt" / "lists", ignore_errors=True)
        (root / "var" / "lib" / "apt" / "lists" / "partial").mkdir(parents=True)
    _index_mirror(tmp_mirror)
    (tmp_layer / ".complete").write_text("ok\n")
    (tmp_mirror / ".complete").write_text("ok\n")
    for tmp, final in ((tmp_layer, layer), (tmp_mirror, mirror)):
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)


def _index_mirror(mirror: Path) -> None:
    """Write dists/<suite>/main/binary-amd64/Packages and a Release file, as a real mirror has."""
    dist = mirror / "dists" / SUITE
    binary = dist / "main" / "binary-amd64"
    binary.mkdir(parents=True)
    packages = run(["apt-ftparchive", "packages", "pool/main"], cwd=mirror).stdout
    (binary / "Packages").write_text(packages)
    release = run(
        [
            "apt-ftparchive",
            "-o",
            f"APT::FTPArchive::Release::Suite={SUITE}",
            "-o",
            f"APT::FTPArchive::Release::Codename={SUITE}",
            "-o",
            "APT::FTPArchive::Release::Components=main",
            "-o",
            "APT::FTPArchive::Release::Architectures=amd64",
            "release",
            str(dist),
        ]
    ).stdout
    (dist / "Release").write_text(release)
