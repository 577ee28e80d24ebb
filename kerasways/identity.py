"""Who is who: a lasting, anonymous id for each browser, in a cookie the server signs.

The server gives a browser an id once (a random token) and signs it with a secret kept in the data
folder, so a reload, a new tab or a server restart is the same student, and a forged or edited
cookie is simply a browser without an id. The id names nobody: it is random, and the drawing store
keeps only a hash of it (`store.writer_id`). Runs, drawings and per-browser limits hang on it; a
browser that refuses cookies gets none, and the app falls back to its Streamlit session (limits per
tab, gone on reload).

Several app servers (a school deployment) recognise each other's cookies when they share the data
folder or are given the same `KERASWAYS_BROWSER_SECRET`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from kerasways.store import default_data_dir

COOKIE_NAME = "kerasways_browser"
SECRET_ENV = "KERASWAYS_BROWSER_SECRET"  # noqa: S105 - the variable's name, not a secret
SECRET_FILE = "browser-secret"  # noqa: S105 - a file name
# Chrome keeps a cookie at most 400 days whatever it is asked; a school year fits.
COOKIE_MAX_AGE_SECONDS = 400 * 24 * 60 * 60
ID_BYTES = 16  # 128 random bits: unguessable, so one student cannot claim another's id
SIGNATURE_HEX = 32  # 128 bits of HMAC-SHA256
LOG = logging.getLogger("kerasways")


def load_secret(data_dir: Path | None = None) -> bytes:
    """The server's signing secret: `KERASWAYS_BROWSER_SECRET`, else the one kept in the data folder.

    The first server to start writes a new random secret there (readable by its user only); every
    later start, and every server sharing the folder, reads the same one. When the folder cannot be
    written, a secret for this process's life is used: cookies then last until the server restarts.

    Args:
        data_dir: the data folder (default: `store.default_data_dir()`).

    Returns:
        The secret's bytes.
    """
    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        return configured.encode()
    path = (data_dir or default_data_dir()) / SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:  # this server is the first: O_EXCL makes two starting at once agree on one secret
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret.encode()
        LOG.warning("kerasways: %s is too short to sign browser ids; using a secret for this run only.", path)
    except OSError as error:
        LOG.warning("kerasways: cannot keep the browser-id secret in %s (%s); browser ids last until the "
                    "server restarts.", path, error.strerror or error)
    # One per folder for the process's life, so the middleware and the pages agree.
    return _fallback_secrets.setdefault(str(path), secrets.token_bytes(32))


_fallback_secrets: dict[str, bytes] = {}


def _signature(secret: bytes, browser_id: str) -> str:
    return hmac.new(secret, browser_id.encode(), hashlib.sha256).hexdigest()[:SIGNATURE_HEX]


def new_cookie_value(secret: bytes) -> str:
    """A fresh browser id with its signature, as the cookie's value ("<id>.<signature>").

    Args:
        secret: the server's signing secret (`load_secret`).

    Returns:
        The cookie value, URL- and cookie-safe (hex digits and one dot).
    """
    browser_id = secrets.token_hex(ID_BYTES)
    return f"{browser_id}.{_signature(secret, browser_id)}"


def browser_id(cookie_value: str | None, secret: bytes) -> str | None:
    """The browser id a cookie carries, if the server signed it.

    Args:
        cookie_value: the cookie as the browser sent it (None when it sent none).
        secret: the server's signing secret.

    Returns:
        The id (hex), or None for a missing, malformed or forged cookie.
    """
    if not cookie_value or cookie_value.count(".") != 1:
        return None
    candidate, signature = cookie_value.split(".")
    if len(candidate) != 2 * ID_BYTES or any(character not in "0123456789abcdef" for character in candidate):
        return None
    return candidate if hmac.compare_digest(signature, _signature(secret, candidate)) else None


def set_cookie_header(cookie_value: str, path: str = "/", secure: bool = False) -> str:
    """The `Set-Cookie` header value that hands a browser its id.

    HttpOnly: no script on the page can read it; SameSite=Lax: sent with the page and its websocket,
    not with other sites' requests.

    Args:
        cookie_value: from `new_cookie_value`.
        path: the app's base path.
        secure: mark it Secure (the server speaks HTTPS).

    Returns:
        The header's value.
    """
    attributes = [f"{COOKIE_NAME}={cookie_value}", f"Path={path}", f"Max-Age={COOKIE_MAX_AGE_SECONDS}",
                  "HttpOnly", "SameSite=Lax"]
    return "; ".join(attributes + (["Secure"] if secure else []))
