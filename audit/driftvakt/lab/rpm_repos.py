"""The lab's RPM repositories: a dnf repository with Red Hat style security advisories and a
SUSE style one with patches, each carrying the lab canary in the version the caller names.

RHEL and SLES judge pending security fixes from the repositories' ``updateinfo.xml`` (dnf's
``updateinfo``, zypper's ``list-patches``); the patching control (SKA-SRV-04) reads exactly
that. The lab builds both kinds here so the real dnf and zypper clients answer the control's
commands: one noarch package, ``driftvakt-lab-canary``, built with ``rpmbuild`` (Debian's
``rpm`` package), ``createrepo_c`` for the repository metadata and ``modifyrepo_c`` to add the
advisories, with the severities and release times the caller sets.

The two styles differ where the distributions differ: Red Hat writes capitalised severities,
dates as "YYYY-MM-DD HH:MM:SS" (UTC) and ``status="final"``; SUSE writes lower-case severities,
``issued`` as seconds since the epoch, ``status="stable"``; zypper shows an update's ``type``
as the patch's ``category``. Both are read by libsolv, as on the real distributions.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from driftvakt.lab.system import run

CANARY = "driftvakt-lab-canary"  # the same name as the Debian security suite's canary
RELEASE = "1"
# Where RHEL and SLES keep the rpm database; Debian's rpm defaults to ~/.rpmdb, so the lab names
# it (``--dbpath`` here, ``%_dbpath`` in the rpm macros of whatever runs dnf or zypper).
RPMDB = "/var/lib/rpm"
INSTALLED_VERSION = "1.0"
FIRST_UPDATE = "1.1"
Style = Literal["redhat", "suse"]

_SPEC = """\
Name: {name}
Version: {version}
Release: {release}
Summary: driftvakt lab only: stands in for a package with a security update
License: MIT
BuildArch: noarch

%description
driftvakt lab package. It does nothing; the lab's RPM repositories publish newer versions
of it to exercise the patching control.

%install
mkdir -p %{{buildroot}}/usr/share/doc/{name}
echo "driftvakt lab package, version {version}." > %{{buildroot}}/usr/share/doc/{name}/README

%files
/usr/share/doc/{name}/README
"""


@dataclass(frozen=True)
class Advisory:
    """One security advisory (Red Hat) or patch (SUSE) for the canary's ``version``."""

    advisory_id: str
    severity: str  # "Critical", "Important", ... (written in the style's case)
    issued: datetime.datetime
    version: str = FIRST_UPDATE
    updated: datetime.datetime | None = None  # Red Hat only: dnf shows the later date
    kind: str = "security"  # the update's type; zypper's "category"


def build_rpm(version: str, out_dir: Path, name: str = CANARY) -> Path:
    """A minimal noarch package of ``version`` (one text file, no scripts); returns the .rpm."""
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        spec = top / f"{name}.spec"
        spec.write_text(_SPEC.format(name=name, version=version, release=RELEASE))
        run(
            [
                "rpmbuild",
                "-bb",
                "--quiet",
                "--define",
                f"_topdir {top}",
                # the package's build time and host are fixed so a rebuild is the same package
                "--define",
                "use_source_date_epoch_as_buildtime 1",
                "--define",
                "_buildhost driftvakt-lab",
                str(spec),
            ]
        )
        built = top / "RPMS" / "noarch" / f"{name}-{version}-{RELEASE}.noarch.rpm"
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / built.name
        shutil.copyfile(built, target)
    return target


def install_rpm(root: Path, package: Path) -> None:
    """Install ``package`` into the rpm database of the root file system at ``root``."""
    # --nodeps: the lab root has rpm's database but no RPM-packaged base system to depend on
    run(["rpm", "--root", str(root), "--dbpath", RPMDB, "--install", "--nodeps", str(package)])


def publish(
    repo: Path, version: str | None, advisories: list[Advisory] | None, style: Style
) -> None:
    """(Re)publish the repository at ``repo`` with the canary in ``version`` (None: no
    package) and ``advisories`` as its ``updateinfo.xml`` (None: no updateinfo at all)."""
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    if version is not None:
        build_rpm(version, repo / "Packages")
    run(["createrepo_c", "--quiet", "--simple-md-filenames", str(repo)])
    if advisories is not None:
        with tempfile.TemporaryDirectory() as tmp:
            info = Path(tmp) / "updateinfo.xml"
            info.write_text(updateinfo_xml(advisories, style))
            run(
                [
                    "modifyrepo_c",
                    "--simple-md-filenames",
                    "--mdtype=updateinfo",
                    str(info),
                    str(repo / "repodata"),
                ]
            )
    for path in (repo, *repo.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)


def publish_packages(repo: Path, names: list[str], version: str) -> None:
    """(Re)publish ``repo`` holding a stand-in package of ``version`` for each of ``names``
    (no updateinfo): a package source, e.g. the lab's stand-in for EPEL."""
    shutil.rmtree(repo, ignore_errors=True)
    for name in names:
        build_rpm(version, repo / "Packages", name=name)
    run(["createrepo_c", "--quiet", "--simple-md-filenames", str(repo)])
    for path in (repo, *repo.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)


def updateinfo_xml(advisories: list[Advisory], style: Style) -> str:
    """``updateinfo.xml`` in the style of Red Hat's errata or SUSE's patches."""
    root = ET.Element("updates")
    for adv in advisories:
        update = ET.SubElement(
            root,
            "update",
            {
                "from": "lab@driftvakt.invalid",
                "status": "final" if style == "redhat" else "stable",
                "type": adv.kind,
                "version": "2.0" if style == "redhat" else "1",
            },
        )
        ET.SubElement(update, "id").text = adv.advisory_id
        severity = adv.severity if style == "redhat" else adv.severity.lower()
        title = f"{severity}: {CANARY} security update"
        ET.SubElement(update, "title").text = title
        ET.SubElement(update, "severity").text = severity
        ET.SubElement(update, "issued", {"date": _date(adv.issued, style)})
        if adv.updated is not None and style == "redhat":
            ET.SubElement(update, "updated", {"date": _date(adv.updated, style)})
        ET.SubElement(update, "summary").text = title
        ET.SubElement(update, "description").text = f"driftvakt lab advisory for {CANARY}."
        ET.SubElement(update, "references")
        collection = ET.SubElement(ET.SubElement(update, "pkglist"), "collection")
        ET.SubElement(collection, "name").text = "driftvakt lab"
        package = ET.SubElement(
            collection,
            "package",
            {
                "name": CANARY,
                "version": adv.version,
                "release": RELEASE,
                "epoch": "0",
                "arch": "noarch",
            },
        )
        ET.SubElement(package, "filename").text = f"{CANARY}-{adv.version}-{RELEASE}.noarch.rpm"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _date(when: datetime.datetime, style: Style) -> str:
    utc = when.astimezone(datetime.UTC)
    if style == "suse":
        return str(int(utc.timestamp()))
    return utc.strftime("%Y-%m-%d %H:%M:%S")  # libsolv reads it as UTC
