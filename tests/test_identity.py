"""Who is who: signed browser ids, the secret that signs them, and the middleware that hands them out."""

import asyncio
import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from app_pages.web import BrowserIdCookie
from kerasways import identity


def test_a_signed_id_is_recognised_and_a_forged_or_edited_one_is_not(tmp_path):
    secret = identity.load_secret(tmp_path)
    value = identity.new_cookie_value(secret)
    browser = identity.browser_id(value, secret)
    assert browser and len(browser) == 32 and value.startswith(browser + ".")
    other = identity.new_cookie_value(secret)
    assert identity.browser_id(other, secret) not in (None, browser)  # every browser its own
    forged = browser[:-1] + ("0" if browser[-1] != "0" else "1") + value[len(browser):]  # a classmate's id, guessed
    for bad in (forged, value + "0", value.replace(".", ""), "", None, "a.b", "../../etc.x", value.upper(),
                browser + "." + identity.new_cookie_value(secret).split(".")[1]):
        assert identity.browser_id(bad, secret) is None, bad
    assert identity.browser_id(value, identity.load_secret(tmp_path / "another server")) is None


def test_the_secret_is_kept_in_the_data_folder_for_the_owner_only_and_survives_a_restart(tmp_path, monkeypatch):
    monkeypatch.delenv(identity.SECRET_ENV, raising=False)
    first = identity.load_secret(tmp_path)
    path = tmp_path / identity.SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert identity.load_secret(tmp_path) == first  # a restart, or a second server on the same folder
    monkeypatch.setenv(identity.SECRET_ENV, "a school's shared secret for every app server")
    assert identity.load_secret(tmp_path) == b"a school's shared secret for every app server"


def test_an_unwritable_data_folder_still_gives_one_secret_for_the_whole_process(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv(identity.SECRET_ENV, raising=False)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    secret = identity.load_secret(blocked / "data")
    assert secret == identity.load_secret(blocked / "data")  # the middleware and the pages agree
    assert "browser ids last until the server restarts" in caplog.text


def served(middleware, path="/", cookie=None, content_type=b"text/html; charset=utf-8"):
    """One HTTP request through `middleware` in front of an app answering with `content_type`."""
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": b"page"})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}

    headers = [(b"cookie", cookie.encode())] if cookie else []
    request = middleware(app)({"type": "http", "path": path, "headers": headers, "scheme": "http"}, receive, send)
    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, request).result()
    return dict(sent[0]["headers"]), sent[1]["body"]


@pytest.fixture
def middleware(tmp_path):
    secret = identity.load_secret(tmp_path)
    return secret, lambda app: BrowserIdCookie(app, secret=secret)


def test_the_page_hands_a_new_browser_its_id_once(middleware):
    secret, wrap = middleware
    headers, body = served(wrap)
    assert body == b"page"
    cookie = headers[b"set-cookie"].decode()
    name, value = cookie.split(";")[0].split("=", 1)
    assert name == identity.COOKIE_NAME and identity.browser_id(value, secret)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=" in cookie
    again, _ = served(wrap, cookie=f"other=1; {identity.COOKIE_NAME}={value}")
    assert b"set-cookie" not in again  # the same browser keeps its id
    forged, _ = served(wrap, cookie=f"{identity.COOKIE_NAME}=0123.abcd")
    assert forged[b"set-cookie"].decode().split(";")[0].split("=", 1)[1] != "0123.abcd"  # a new, real one
    for script_or_image in (b"application/javascript", b"image/png"):
        assert b"set-cookie" not in served(wrap, path="/static/x", content_type=script_or_image)[0]
    assert b"set-cookie" in served(wrap, cookie='broken="')[0]  # a malformed header is no cookie
