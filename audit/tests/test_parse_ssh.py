"""The pure parsers and evaluators of tests/test_ssh.py, on captured ``sshd -T`` output."""

from __future__ import annotations

from driftvakt_checks import test_ssh as CHECK


def _sshd_t(lines: list[tuple[str, str | tuple[str, ...]]]) -> str:
    """Text as ``sshd -T`` prints it: "keyword value" per line; a tuple is a comma list."""
    return "".join(f"{k} {v if isinstance(v, str) else ','.join(v)}\n" for k, v in lines)


_HARDENED_SIGNATURES = (
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp256",
    "ssh-ed25519",
    "rsa-sha2-512",
    "rsa-sha2-256",
)
# `sshd -T` on a stock Debian 12 lab host (OpenSSH 9.2p1), the keywords the checks read.
STOCK_DEBIAN12 = _sshd_t(
    [
        ("port", "22"),
        ("clientaliveinterval", "0"),
        ("clientalivecountmax", "3"),
        ("permitrootlogin", "without-password"),
        ("passwordauthentication", "yes"),
        ("kbdinteractiveauthentication", "no"),
        ("permitemptypasswords", "no"),
        (
            "ciphers",
            (
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes192-ctr",
                "aes256-ctr",
                "aes128-gcm@openssh.com",
                "aes256-gcm@openssh.com",
            ),
        ),
        (
            "macs",
            (
                "umac-64-etm@openssh.com",
                "umac-128-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-512-etm@openssh.com",
                "hmac-sha1-etm@openssh.com",
                "umac-64@openssh.com",
                "umac-128@openssh.com",
                "hmac-sha2-256",
                "hmac-sha2-512",
                "hmac-sha1",
            ),
        ),
        (
            "kexalgorithms",
            (
                "sntrup761x25519-sha512",
                "sntrup761x25519-sha512@openssh.com",
                "curve25519-sha256",
                "curve25519-sha256@libssh.org",
                "ecdh-sha2-nistp256",
                "ecdh-sha2-nistp384",
                "ecdh-sha2-nistp521",
                "diffie-hellman-group-exchange-sha256",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group18-sha512",
                "diffie-hellman-group14-sha256",
            ),
        ),
        (
            "hostkeyalgorithms",
            (
                "ssh-ed25519-cert-v01@openssh.com",
                "ecdsa-sha2-nistp256-cert-v01@openssh.com",
                "ssh-ed25519",
                "ecdsa-sha2-nistp256",
                "sk-ssh-ed25519@openssh.com",
                "rsa-sha2-512",
                "rsa-sha2-256",
            ),
        ),
        (
            "pubkeyacceptedalgorithms",
            (
                "ssh-ed25519-cert-v01@openssh.com",
                "ssh-ed25519",
                "ecdsa-sha2-nistp256",
                "sk-ssh-ed25519@openssh.com",
                "rsa-sha2-512",
                "rsa-sha2-256",
            ),
        ),
        ("hostkey", "/etc/ssh/ssh_host_rsa_key"),
        ("hostkey", "/etc/ssh/ssh_host_ecdsa_key"),
        ("hostkey", "/etc/ssh/ssh_host_ed25519_key"),
    ]
)
# The same host after the ssh role.
HARDENED_DEBIAN12 = _sshd_t(
    [
        ("port", "22"),
        ("clientaliveinterval", "300"),
        ("clientalivecountmax", "2"),
        ("permitrootlogin", "no"),
        ("passwordauthentication", "no"),
        ("kbdinteractiveauthentication", "no"),
        ("permitemptypasswords", "no"),
        (
            "ciphers",
            (
                "aes256-gcm@openssh.com",
                "aes128-gcm@openssh.com",
                "aes256-ctr",
                "aes192-ctr",
                "aes128-ctr",
            ),
        ),
        (
            "macs",
            (
                "hmac-sha2-512-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-512",
                "hmac-sha2-256",
            ),
        ),
        (
            "kexalgorithms",
            (
                "ecdh-sha2-nistp521",
                "ecdh-sha2-nistp384",
                "ecdh-sha2-nistp256",
                "diffie-hellman-group18-sha512",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group14-sha256",
            ),
        ),
        ("hostkeyalgorithms", _HARDENED_SIGNATURES),
        ("pubkeyacceptedalgorithms", _HARDENED_SIGNATURES),
    ]
)
# OpenSSH 8.0 (RHEL 8) names: pubkeyacceptedkeytypes, and challengeresponseauthentication.
HARDENED_RHEL8_NAMES = (
    HARDENED_DEBIAN12.replace("pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes")
    + "challengeresponseauthentication no\n"
)

# /proc/PID/cmdline of the listener (NULs shown as spaces).
LISTENER_TITLE = "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups "
RHEL8_CRYPTO_POLICY = (
    "/usr/sbin/sshd -D -oCiphers=aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr "
    "-oMACs=hmac-sha2-256-etm@openssh.com,hmac-sha1 -oKexAlgorithms=curve25519-sha256,"
    "ecdh-sha2-nistp256 -oHostKeyAlgorithms=ecdsa-sha2-nistp256,ssh-rsa "
    "-oPubkeyAcceptedKeyTypes=ecdsa-sha2-nistp256,ssh-rsa "
)


def test_parse_first_value_wins_and_keywords_lowercase() -> None:
    config = CHECK.parse_sshd_t(STOCK_DEBIAN12 + "PermitRootLogin no\n")
    assert config["permitrootlogin"] == "without-password"
    assert config["hostkey"] == "/etc/ssh/ssh_host_rsa_key"
    assert config["port"] == "22"


def test_daemon_options_from_the_listener_title() -> None:
    assert CHECK.daemon_options(LISTENER_TITLE) == []


def test_daemon_options_from_rhel8_crypto_policy() -> None:
    options = CHECK.daemon_options(RHEL8_CRYPTO_POLICY.replace(" ", "\0"))
    assert options[0::2] == ["-o"] * 5
    assert options[1].startswith("Ciphers=aes256-gcm@openssh.com,chacha20")
    assert options[-1] == "PubkeyAcceptedKeyTypes=ecdsa-sha2-nistp256,ssh-rsa"


def test_daemon_options_with_separate_arguments_and_config_file() -> None:
    cmdline = "/usr/sbin/sshd -D -f /etc/ssh/alt_config -o PermitRootLogin=yes -p 2222"
    assert CHECK.daemon_options(cmdline) == [
        "-f",
        "/etc/ssh/alt_config",
        "-o",
        "PermitRootLogin=yes",
    ]


def test_stock_debian_fails_every_ssh_control() -> None:
    config = CHECK.parse_sshd_t(STOCK_DEBIAN12)
    assert CHECK.root_login_problems(config) == ["permitrootlogin without-password"]
    assert CHECK.password_auth_problems(config) == ["passwordauthentication yes"]
    problems = " ".join(CHECK.crypto_problems(config))
    for weak in (
        "chacha20-poly1305@openssh.com",
        "umac-64-etm@openssh.com",
        "hmac-sha1",
        "curve25519-sha256",
        "sntrup761x25519-sha512",
        "diffie-hellman-group-exchange-sha256",
        "sk-ssh-ed25519@openssh.com",
    ):
        assert weak in problems
    assert CHECK.idle_problems(config, 300, 900) == [
        "clientaliveinterval 0, clientalivecountmax 3: the interval must be 1..300 s"
    ]


def test_hardened_debian_passes_every_ssh_control() -> None:
    config = CHECK.parse_sshd_t(HARDENED_DEBIAN12)
    assert CHECK.root_login_problems(config) == []
    assert CHECK.password_auth_problems(config) == []
    assert CHECK.crypto_problems(config) == []
    assert CHECK.idle_problems(config, 300, 900) == []


def test_older_keyword_names_are_understood() -> None:
    config = CHECK.parse_sshd_t(HARDENED_RHEL8_NAMES)
    assert CHECK.crypto_problems(config) == []
    assert CHECK.password_auth_problems(config) == []
    config["challengeresponseauthentication"] = "yes"
    assert CHECK.password_auth_problems(config) == ["challengeresponseauthentication yes"]


def test_missing_crypto_keyword_is_a_problem() -> None:
    config = CHECK.parse_sshd_t(HARDENED_DEBIAN12.replace("macs ", "notmacs "))
    assert CHECK.crypto_problems(config) == ["macs: not reported by sshd -T"]


def test_idle_timeout_bounds() -> None:
    def problems(interval: int, count: int) -> list[str]:
        config = {"clientaliveinterval": str(interval), "clientalivecountmax": str(count)}
        return list(CHECK.idle_problems(config, 300, 900))

    assert problems(300, 2) == []  # 300 * 3 = 900 s
    assert problems(60, 3) == []
    assert problems(300, 3) == [
        "clientaliveinterval 300, clientalivecountmax 3: an unresponsive session lasts up to "
        "1200 s, more than 900 s"
    ]
    assert problems(600, 0)[0].endswith("the interval must be 1..300 s")
    assert problems(60, 0) == [
        "clientaliveinterval 60, clientalivecountmax 0: a count of 0 never ends a session"
    ]
    assert CHECK.idle_problems({"clientaliveinterval": "x"}, 300, 900)[0].startswith("unreadable")
