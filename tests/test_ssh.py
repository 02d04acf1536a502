"""The SSH server: no root login, keys only, NIST SP 800-131A crypto, unresponsive sessions end.

Every check reads sshd's EFFECTIVE configuration: ``sshd -T``, run as root with the ``-f``/``-o``
options the running daemon was started with (RHEL 8 passes its crypto policy that way), never
a grep of a file. sshd keeps the first value it reads, so only ``sshd -T`` tells what applies.
"""

from __future__ import annotations

from typing import Any

import pytest

SSHD = "/usr/sbin/sshd"
SSHD_UNITS = ("sshd", "ssh")  # RHEL/SLES name it sshd, Debian ssh (with an sshd alias)

# NIST SP 800-131A: AES (GCM, CTR), HMAC with SHA-2, ECDH on NIST curves and finite-field DH of
# at least 2048 bits with SHA-2, ECDSA on NIST curves, EdDSA (FIPS 186-5) and RSA with SHA-2.
# No ChaCha20-Poly1305, Curve25519/sntrup, SHA-1, CBC, UMAC, 3DES or DSA.
_SIGNATURES = {
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-ed25519",
    "rsa-sha2-256",
    "rsa-sha2-512",
}
_CERTIFICATES = {
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
}
_SECURITY_KEYS = {
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
}
APPROVED: dict[str, frozenset[str]] = {
    "ciphers": frozenset(
        {
            "aes128-gcm@openssh.com",
            "aes256-gcm@openssh.com",
            "aes128-ctr",
            "aes192-ctr",
            "aes256-ctr",
        }
    ),
    "macs": frozenset(
        {
            "hmac-sha2-256",
            "hmac-sha2-512",
            "hmac-sha2-256-etm@openssh.com",
            "hmac-sha2-512-etm@openssh.com",
        }
    ),
    "kexalgorithms": frozenset(
        {
            "ecdh-sha2-nistp256",
            "ecdh-sha2-nistp384",
            "ecdh-sha2-nistp521",
            "diffie-hellman-group14-sha256",
            "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512",
        }
    ),
    "hostkeyalgorithms": frozenset(_SIGNATURES | _CERTIFICATES),
    "pubkeyacceptedalgorithms": frozenset(_SIGNATURES | _CERTIFICATES | _SECURITY_KEYS),
}
# Before OpenSSH 8.5 (RHEL 8, SLES 15) `sshd -T` names the user-key algorithms this way.
_ALIASES = {"pubkeyacceptedalgorithms": "pubkeyacceptedkeytypes"}

DEFAULT_MAX_ALIVE_INTERVAL = 300  # seconds between probes of a silent client
DEFAULT_IDLE_TIMEOUT = 900  # RST-6.2.6: an unresponsive session ends within 15 minutes


def parse_sshd_t(output: str) -> dict[str, str]:
    """``sshd -T`` output as {keyword: value}; the first line wins for repeated keywords."""
    config: dict[str, str] = {}
    for line in output.splitlines():
        keyword, _, value = line.strip().partition(" ")
        if keyword:
            config.setdefault(keyword.lower(), value.strip())
    return config


def daemon_options(cmdline: str) -> list[str]:
    """The ``-f FILE``/``-o OPTION`` arguments of a running sshd, for ``sshd -T``.

    ``cmdline`` is ``/proc/PID/cmdline`` with NULs as spaces: either the plain argument list
    (``/usr/sbin/sshd -D -oCiphers=...``) or the listener's process title
    (``sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups``).
    """
    words = cmdline.replace("\0", " ").split()
    if words and words[0] == "sshd:":
        words = words[1:]
    options: list[str] = []
    pending = ""
    for word in words[1:]:
        if word.startswith("["):
            break
        if pending:
            options += [pending, word]
            pending = ""
        elif word in ("-o", "-f"):
            pending = word
        elif word.startswith(("-o", "-f")) and len(word) > 2:
            options += [word[:2], word[2:]]
    return options


def root_login_problems(config: dict[str, str]) -> list[str]:
    value = config.get("permitrootlogin", "<unset>")
    return [] if value == "no" else [f"permitrootlogin {value}"]


def password_auth_problems(config: dict[str, str]) -> list[str]:
    keywords = ["passwordauthentication", "kbdinteractiveauthentication", "permitemptypasswords"]
    if "challengeresponseauthentication" in config:  # OpenSSH < 8.7 has it as its own keyword
        keywords.append("challengeresponseauthentication")
    return [f"{k} {config.get(k, '<unset>')}" for k in keywords if config.get(k) != "no"]


def crypto_problems(config: dict[str, str]) -> list[str]:
    problems = []
    for keyword, approved in APPROVED.items():
        name = keyword if keyword in config else _ALIASES.get(keyword, keyword)
        if name not in config:
            problems.append(f"{keyword}: not reported by sshd -T")
            continue
        algorithms = [a for a in config[name].split(",") if a]
        bad = [a for a in algorithms if a not in approved]
        if bad or not algorithms:
            problems.append(f"{name} allows {bad or 'nothing'} (all: {config[name]})")
    return problems


def idle_problems(config: dict[str, str], max_interval: int, max_idle: int) -> list[str]:
    try:
        interval = int(config.get("clientaliveinterval", "0"))
        count = int(config.get("clientalivecountmax", "0"))
    except ValueError:
        return [
            f"unreadable: clientaliveinterval {config.get('clientaliveinterval')}, "
            f"clientalivecountmax {config.get('clientalivecountmax')}"
        ]
    seen = f"clientaliveinterval {interval}, clientalivecountmax {count}"
    problems = []
    if not 0 < interval <= max_interval:
        problems.append(f"{seen}: the interval must be 1..{max_interval} s")
    if count < 1:
        problems.append(f"{seen}: a count of 0 never ends a session")
    elif interval * (count + 1) > max_idle:
        problems.append(
            f"{seen}: an unresponsive session lasts up to "
            f"{interval * (count + 1)} s, more than {max_idle} s"
        )
    return problems


def _effective_config(host: Any) -> dict[str, str]:
    """``sshd -T`` with the running daemon's own -f/-o options (as root)."""
    if host.system_info.type != "linux":
        pytest.skip(
            f"not applicable: OpenSSH server checked on Linux, this is {host.system_info.type}"
        )
    options: list[str] = []
    with host.sudo():
        for unit in SSHD_UNITS:
            pid = host.run("systemctl show -p MainPID --value %s", f"{unit}.service").stdout.strip()
            if pid.isdigit() and int(pid) > 0:
                cmdline = host.run("tr '\\0' ' ' < /proc/%s/cmdline", pid).stdout
                options = daemon_options(cmdline)
                break
        result = host.run(SSHD + " -T" + " %s" * len(options), *options)
    assert result.rc == 0, (
        f"`sshd -T {' '.join(options)}` failed (rc {result.rc}): {result.stderr.strip()}"
    )
    return parse_sshd_t(result.stdout)


def _evidence(config: dict[str, str], *keywords: str) -> str:
    return ", ".join(f"{k} {config[k]}" for k in keywords if k in config)


@pytest.mark.control("ssh_root_login_disabled")
def test_root_cannot_log_in(host: Any, hostvars: dict[str, Any]) -> None:
    config = _effective_config(host)
    problems = root_login_problems(config)
    assert not problems, f"sshd -T shows {problems}; expected permitrootlogin no"


@pytest.mark.control("ssh_password_auth_disabled")
def test_only_keys_authenticate(host: Any, hostvars: dict[str, Any]) -> None:
    config = _effective_config(host)
    problems = password_auth_problems(config)
    assert not problems, f"sshd -T shows {problems}; each must be 'no'"


@pytest.mark.control("ssh_crypto_nist")
def test_only_nist_approved_algorithms(host: Any, hostvars: dict[str, Any]) -> None:
    config = _effective_config(host)
    problems = crypto_problems(config)
    assert not problems, f"sshd -T allows algorithms outside NIST SP 800-131A: {problems}"


@pytest.mark.control("ssh_idle_timeout")
def test_unresponsive_sessions_end(host: Any, hostvars: dict[str, Any]) -> None:
    config = _effective_config(host)
    max_interval = int(hostvars.get("ssh_client_alive_interval", DEFAULT_MAX_ALIVE_INTERVAL))
    max_idle = int(hostvars.get("ssh_idle_timeout", DEFAULT_IDLE_TIMEOUT))
    problems = idle_problems(config, max_interval, max_idle)
    seen = _evidence(config, "clientaliveinterval", "clientalivecountmax")
    assert not problems, f"sshd -T shows {problems} ({seen})"
