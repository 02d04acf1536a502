"""Group memberships from ``getent group`` output, for the accounts role."""

from __future__ import annotations

from typing import Any


def supplementary_groups(
    getent_group: list[str], only_members_of: list[str] | None = None
) -> dict[str, list[str]]:
    """{account: [groups it is a listed member of]} from the lines of ``getent group``;
    with ``only_members_of``, only the accounts that are a member of at least one of those."""
    groups: dict[str, list[str]] = {}
    for line in getent_group:
        fields = line.split(":")
        if len(fields) < 4:
            continue
        for member in filter(None, (m.strip() for m in fields[3].split(","))):
            groups.setdefault(member, []).append(fields[0])
    if only_members_of is not None:
        groups = {a: g for a, g in groups.items() if set(g) & set(only_members_of)}
    return groups


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"accounts_supplementary_groups": supplementary_groups}
