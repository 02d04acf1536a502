"""Print the accounts of /etc/shadow whose password is one of the given (known default) passwords.

Run as root with the host's own python3: ``python3 find_default_passwords.py PASSWORD...``.
Each usable hash is tested with its own scheme: the host's crypt(3) through Python's ``crypt``
module (yescrypt, SHA-512/256, MD5, ...), else ``openssl passwd`` for $1$, $5$ and $6$.
Prints ``default NAME`` per match and ``unverifiable NAME SCHEME`` for a hash neither can test;
never a password or a hash. Runs on python3 >= 3.6 (SLES 15).
"""

import subprocess
import sys
import warnings

warnings.simplefilter("ignore")
try:
    import crypt  # removed in Python 3.13; present on Debian 12, RHEL 8-10, SLES 15
except ImportError:
    crypt = None

OPENSSL_SCHEMES = {"1": "-1", "5": "-5", "6": "-6"}


def _crypt(password, hashed):
    if crypt is None:
        return None
    try:
        return crypt.crypt(password, hashed) or None
    except (OSError, ValueError):
        return None


def _openssl(password, hashed):
    parts = hashed.split("$")
    if len(parts) != 4 or parts[1] not in OPENSSL_SCHEMES:  # no rounds=, known scheme only
        return None
    try:
        done = subprocess.run(
            ["openssl", "passwd", OPENSSL_SCHEMES[parts[1]], "-salt", parts[2], "-stdin"],
            input=password + "\n",
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def main(passwords):
    with open("/etc/shadow") as shadow:
        entries = [line.rstrip("\n").split(":") for line in shadow if ":" in line]
    for fields in entries:
        name, hashed = fields[0], fields[1]
        if not hashed or hashed[0] in "!*":
            continue  # empty (another control), locked or no password login
        scheme = hashed.split("$")[1] if hashed.startswith("$") and "$" in hashed[1:] else "des"
        verified = False
        for password in passwords:
            result = _crypt(password, hashed)
            if result is None:
                result = _openssl(password, hashed)
            if result is None:
                continue
            verified = True
            if result == hashed:
                print("default " + name)
                break
        else:
            if not verified:
                print("unverifiable " + name + " " + scheme)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
