"""The web server's own part of the app: what happens to HTTP requests before Streamlit sees them.

`streamlit run app.py` finds `app.App` (app.py) and serves it with this middleware and error
handler in front of Streamlit's own routes.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, SimpleCookie

from kerasways import identity

LOG = logging.getLogger("kerasways")


def _cookies(scope) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed header is a browser without our cookie
                continue
    return {key: morsel.value for key, morsel in jar.items()}


class BrowserIdCookie:
    """ASGI middleware: hand every browser that has no valid id one, with the page itself.

    The id arrives with the HTML page, so the page's websocket (where `st.context.cookies` is read)
    already carries it on the very first visit. Responses other than HTML pages are left alone.

    Args:
        app: the ASGI app it wraps (Streamlit's).
    """

    def __init__(self, app, secret: bytes | None = None):
        self.app = app
        self.secret = secret if secret is not None else identity.load_secret()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or identity.browser_id(_cookies(scope).get(identity.COOKIE_NAME), self.secret):
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html"):
                    cookie = identity.set_cookie_header(identity.new_cookie_value(self.secret), secure=secure)
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def short_error_instead_of_traceback(error: Exception) -> bool:
    """Show an unexpected error as one short sentence; the server log keeps the traceback.

    A traceback shows server paths and code to every student; it helps nobody in class.

    Args:
        error: what the page raised.

    Returns:
        True: Streamlit's own error display is suppressed.
    """
    from app_pages import views

    views.unexpected_error(error)
    return True
