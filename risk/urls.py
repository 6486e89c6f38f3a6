"""Connection URLs in messages: where a backend is, never the secret to log in to it.

Redis and PostgreSQL URLs carry passwords (`redis://:pw@host`, `postgresql://user:pw@host/db`,
`...?password=pw`), and error messages and start-up lines name the backend they failed
on. Every such message shows `redacted_url(url)`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# libpq's key/value form ("host=db password=pw"): a value is a single-quoted string or a word.
_CONNINFO_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)", re.IGNORECASE)


def redacted_url(url: str) -> str:
    """The URL without user, password, query or fragment: scheme, host(s), port and path only.

    Handles RFC 3986 URLs (credentials percent-encoded, IPv6 hosts in brackets, libpq's
    comma-separated hosts, which `urlsplit(...).port` refuses) and libpq key/value strings
    (`host=db password=pw`), whose password is replaced by `***`.
    """
    if "://" not in url:
        return _CONNINFO_PASSWORD.sub(r"\1***", url)
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]  # what follows the user info, port included
    return f"{parts.scheme}://{hosts}{parts.path}"
