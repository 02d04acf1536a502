"""Keep secrets out of evidence, logs and reports."""

from __future__ import annotations

import re

# crypt(3) hashes ($1$, $5$, $6$, $y$, $2b$, $gy$ …) and private key blocks
_HASH = re.compile(r"\$(?:1|2[abxy]?|5|6|7|y|gy|sha1|md5)\$[^\s:]+")
_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    text = _KEY.sub("[private key redacted]", text)
    text = _HASH.sub("[hash redacted]", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret redacted]")
    return text
