"""The lab's RPM hosts (``lab up --rpm``): Debian lab hosts that answer package questions the way
RHEL and SLES do, with the real dnf and zypper, their own rpm database and labsvc's lab RPM
repositories.

No RHEL or SLES root file system can be had here, but their package clients can: the RPM layer
(driftvakt.lab.image) adds Debian's rpm, dnf and zypper. Odd target hosts (lab-01, lab-03, ...)
are Red Hat kind: dnf, and zypper removed; even ones SUSE kind: zypper, and dnf removed, so the
patching check's probe finds the client a real host of that family has. Each has
driftvakt-lab-canary 1.0 in its rpm database (``/var/lib/rpm``, as on RHEL and SLES; Debian's
rpm would use ~/.rpmdb) and one repository on labsvc, ``http://labsvc/rpm/redhat`` or
``/rpm/suse`` (driftvakt.lab.rpm_repos), carrying 1.1 with a Critical advisory issued 60 hours
before ``lab up``; tests republish it with other versions, severities and dates (``publish``).
Everything here is a lab adaptation (docs/lab.md), never part of a role.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from driftvakt.lab import rpm_repos, security_suite
from driftvakt.lab.config import FIRST_TARGET_INDEX, LabConfig, LabHost

SERVED_AT = "/srv/mirror/rpm"  # in labsvc; http://labsvc/rpm/<kind>
FIRST_ADVISORY = "DVLAB-2026-0001"
# as the Debian security suite: older than the patching control's 48 hours
FIRST_UPDATE_AGE = security_suite.FIRST_UPDATE_AGE
_OTHER_CLIENT = {"redhat": ("usr/bin/zypper",), "suse": ("usr/bin/dnf", "usr/bin/dnf-3")}


def kind_of(host: LabHost) -> rpm_repos.Style:
    return "redhat" if (host.index - FIRST_TARGET_INDEX) % 2 == 0 else "suse"


def repo_url(cfg: LabConfig, kind: str) -> str:
    return f"http://{cfg.services_host().address}/rpm/{kind}"


def prepare(cfg: LabConfig, host: LabHost, root: Path) -> None:
    """Write the RPM host's rpm database, repository and client configuration before boot."""
    kind = kind_of(host)
    _write(root / "etc/rpm/macros", f"%_dbpath {rpm_repos.RPMDB}\n")
    with tempfile.TemporaryDirectory() as tmp:
        built = rpm_repos.build_rpm(rpm_repos.INSTALLED_VERSION, Path(tmp))
        rpm_repos.install_rpm(root, built)
    for path in _OTHER_CLIENT[kind]:
        (root / path).unlink(missing_ok=True)
    url = repo_url(cfg, kind)
    if kind == "redhat":
        _write(root / "etc/dnf/dnf.conf", "[main]\ngpgcheck=1\nbest=True\n")
        # metadata_expire=0: tests republish the repository within minutes (RHEL's default is 48 h)
        _write(
            root / "etc/yum.repos.d/driftvakt-lab.repo",
            "# driftvakt lab RPM repository (unsigned, lab only)\n"
            f"[driftvakt-lab]\nname=driftvakt lab\nbaseurl={url}\nenabled=1\ngpgcheck=0\n"
            "metadata_expire=0\n",
        )
    else:
        _write(
            root / "etc/zypp/repos.d/driftvakt-lab.repo",
            "# driftvakt lab RPM repository (unsigned, lab only)\n"
            f"[driftvakt-lab]\nname=driftvakt lab\nenabled=1\nautorefresh=1\nbaseurl={url}\n"
            "type=rpm-md\ngpgcheck=0\nrepo_gpgcheck=0\npkg_gpgcheck=0\n",
        )
        # refresh on every command: tests republish within minutes (zypper's default: 10 min)
        conf = root / "etc/zypp/zypp.conf"
        text = conf.read_text() if conf.exists() else "[main]\n"
        _write(conf, text.rstrip("\n") + "\n# driftvakt lab\nrepo.refresh.delay = 0\n")


def publish(
    labsvc_root: Path,
    kind: rpm_repos.Style,
    version: str,
    advisories: list[rpm_repos.Advisory] | None,
) -> None:
    """(Re)publish labsvc's repository of ``kind`` (None advisories: no updateinfo at all)."""
    repo = labsvc_root / SERVED_AT.lstrip("/") / kind
    rpm_repos.publish(repo, version, advisories, kind)


def publish_initial(labsvc_root: Path, now: datetime.datetime) -> None:
    """At ``lab up``: 1.1 in both repositories, its Critical advisory issued 60 h ago."""
    kinds: tuple[rpm_repos.Style, ...] = ("redhat", "suse")
    for kind in kinds:
        advisory = rpm_repos.Advisory(FIRST_ADVISORY, "Critical", now - FIRST_UPDATE_AGE)
        publish(labsvc_root, kind, rpm_repos.FIRST_UPDATE, [advisory])
    for path in (labsvc_root / "srv/mirror/rpm", labsvc_root / "srv/mirror"):
        path.chmod(0o755)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)
