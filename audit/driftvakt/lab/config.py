"""Names, addresses and paths of one lab. Several labs (``--name``) can run side by side."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from driftvakt.errors import LabError

LAB_NET_PREFIX = "10.77"  # /24 per lab: 10.77.<octet>.0/24, checked against `ip route`
SERVICES_HOST = "labsvc"
SERVICES_INDEX = 2
FIRST_TARGET_INDEX = 11
MAX_HOSTS = 230


def lab_root() -> Path:
    return Path(os.environ.get("DRIFTVAKT_LAB_ROOT", "/var/lib/driftvakt"))


def cache_root() -> Path:
    return Path(os.environ.get("DRIFTVAKT_CACHE", "/var/cache/driftvakt"))


@dataclass(frozen=True)
class LabHost:
    name: str
    address: str
    index: int

    @property
    def is_services(self) -> bool:
        return self.name == SERVICES_HOST


@dataclass(frozen=True)
class LabConfig:
    name: str
    project: Path

    def __post_init__(self) -> None:
        if not self.name.isalnum() or not self.name.islower() or len(self.name) > 8:
            raise LabError(f"lab name {self.name!r}: use up to 8 lower-case letters or digits")

    @property
    def octet(self) -> int:
        if self.name == "default":
            return 0
        return 1 + int(hashlib.sha256(self.name.encode()).hexdigest(), 16) % 250

    @property
    def subnet(self) -> str:
        return f"{LAB_NET_PREFIX}.{self.octet}.0/24"

    @property
    def gateway(self) -> str:
        """The controller's own address on the lab bridge (it is no router: no forwarding)."""
        return f"{LAB_NET_PREFIX}.{self.octet}.1"

    @property
    def bridge(self) -> str:
        return f"dvbr{self.octet}"

    def veth(self, host: LabHost) -> str:
        return f"dv{self.octet}h{host.index}"

    def netns(self, host: LabHost) -> str:
        return f"driftvakt-{self.name}-{host.name}"

    @property
    def state(self) -> Path:
        return lab_root() / "lab" / self.name

    def host_dir(self, host: LabHost) -> Path:
        return self.state / "hosts" / host.name

    @property
    def key(self) -> Path:
        return self.state / "id_ed25519"

    @property
    def sftp_key(self) -> Path:
        return self.state / "driftpartner_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state / "known_hosts"

    @property
    def inventory(self) -> Path:
        suffix = "" if self.name == "default" else f"-{self.name}"
        return self.project / "inventories" / f"lab{suffix}"

    def services_host(self) -> LabHost:
        return LabHost(
            SERVICES_HOST, f"{LAB_NET_PREFIX}.{self.octet}.{SERVICES_INDEX}", SERVICES_INDEX
        )

    def targets(self, count: int) -> list[LabHost]:
        if not 1 <= count <= MAX_HOSTS:
            raise LabError(f"--hosts must be between 1 and {MAX_HOSTS}")
        return [
            LabHost(
                f"lab-{i:02d}",
                f"{LAB_NET_PREFIX}.{self.octet}.{FIRST_TARGET_INDEX + i - 1}",
                FIRST_TARGET_INDEX + i - 1,
            )
            for i in range(1, count + 1)
        ]
