"""Sessions, CSRF tokens, the login rate limit and the headers every response carries.

- A session is a random token in a cookie (HttpOnly, SameSite=Strict, Secure over TLS); the
  server keeps only its sha256, with the account and the session's CSRF token (store/accounts.py).
- Every POST form carries the session's CSRF token; it is compared server-side in constant time.
  The login form, before any session, uses a random token in a short-lived cookie (double submit).
- Failed logins are counted per account and per client address in the state database, so a
  restart does not reset them. X-Forwarded-For is read only with `--trust-proxy`.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request

from screening.store.accounts import Accounts, Session

SESSION_COOKIE = "screening_session"
LOGIN_COOKIE = "screening_login"


@dataclass(frozen=True)
class Settings:
    """How `screening serve` runs (command-line options; docs/serve.md)."""

    host: str = "127.0.0.1"
    port: int = 8765
    tls: bool = False                     # serving https itself (--tls-cert/--tls-key)
    behind_tls_proxy: bool = False        # --behind-tls-proxy: cookies Secure, HSTS
    trust_proxy: bool = False             # --trust-proxy: client address from X-Forwarded-For
    idle_minutes: float = 30.0
    max_hours: float = 12.0
    account_failures: int = 5             # failed logins per account ...
    address_failures: int = 20            # ... and per client address ...
    failure_window_minutes: float = 15.0  # ... within this window, then refused
    folders: tuple[Path, ...] = field(default_factory=tuple)  # watch output folders offered
    workers: int = 0
    max_upload_bytes: int = 8 << 30       # one upload request, all files together
    allowed_hosts: tuple[str, ...] = ()   # --allowed-host: names browsers use beside the bound host

    @property
    def secure_cookies(self) -> bool:
        return self.tls or self.behind_tls_proxy

    def host_names(self) -> list[str]:
        """The Host header names answered (TrustedHostMiddleware; a DNS-rebinding page's name is not):
        the bound address, the loopback names when bound to loopback, and every --allowed-host."""
        names = [self.host] + [h for h in self.allowed_hosts]
        if is_loopback(self.host):
            names += ["localhost", "127.0.0.1", "[::1]"]
        out = []
        for name in names:
            name = name.strip().lower()
            if ":" in name and not name.startswith("["):
                name = f"[{name}]"  # an IPv6 address, as it appears in a Host header
            if name and name not in ("0.0.0.0", "[::]") and name not in out:
                out.append(name)
        return out


def is_loopback(host: str) -> bool:
    """Whether `host` (an address, bracketed IPv6 or not, or a name) is this machine only."""
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


class Refused(Exception):
    """A request refused: status 401/403/429; `login` sends a page request to the login page."""

    def __init__(self, status: int, message: str, login: bool = False):
        super().__init__(message)
        self.status, self.message, self.login = status, message, login


def client_address(request: Request, settings: Settings) -> str:
    if settings.trust_proxy:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]  # the address our own proxy saw, not what the client claims
    return request.client.host if request.client else "unknown"


def current_session(request: Request, accounts: Accounts, settings: Settings) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    return accounts.session(token, settings.idle_minutes * 60, settings.max_hours * 3600)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def check_csrf(session: Session, submitted: str | None) -> None:
    if not same(session.csrf, submitted):
        raise Refused(403, "This form is out of date or did not come from this site (CSRF token missing "
                           "or wrong). Go back, reload the page and try again.")


def cookie_args(settings: Settings, max_age: int | None = None) -> dict:
    return {"httponly": True, "samesite": "strict", "secure": settings.secure_cookies, "path": "/",
            **({"max_age": max_age} if max_age is not None else {})}


def rate_limited(accounts: Accounts, settings: Settings, name: str, address: str) -> bool:
    window = settings.failure_window_minutes * 60
    return (accounts.failures(f"account:{name}", window) >= settings.account_failures
            or accounts.failures(f"address:{address}", window) >= settings.address_failures)


def headers_for(path: str, settings: Settings) -> list[tuple[bytes, bytes]]:
    """Headers for every response: no framing, no sniffing, no caching of pages or photos."""
    csp = ("default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    out = [(b"content-security-policy", csp.encode()), (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"cross-origin-opener-policy", b"same-origin"), (b"cross-origin-resource-policy", b"same-origin")]
    if not path.startswith("/static/"):
        out.append((b"cache-control", b"no-store"))
    if settings.secure_cookies:
        out.append((b"strict-transport-security", b"max-age=31536000"))
    return out


ORIGIN_REFUSED = ("Refused: this form was sent from another site or port (its Origin is not this server's). "
                  "Open this server's own page, reload it and try again.")


def cross_origin(scope, settings: Settings) -> bool:
    """A POST sent by a page of another origin: another site, or another port of this host (cookies
    ignore ports, so SameSite does not tell them apart). Sec-Fetch-Site, when the browser sends it,
    must be same-origin (or none: typed by the user); Origin, when sent, must be this server's own
    scheme://host:port as the browser reached it (the Host header, already checked against the
    allowed names), or https://NAME for an --allowed-host behind a TLS proxy. "null" (an opaque or
    hidden origin) is refused unless Sec-Fetch-Site says same-origin. No Origin and no
    Sec-Fetch-Site: an old browser; the CSRF token decides, as for every form."""
    headers = dict(scope.get("headers") or [])
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").strip().lower()
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return True
    origin = headers.get(b"origin")
    if origin is None:
        return False
    origin_text = origin.decode("latin-1").strip().lower()
    if origin_text == "null":
        return fetch_site != "same-origin"
    scheme = "https" if settings.secure_cookies else scope.get("scheme", "http")
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    own = {f"{scheme}://{host}"} | {f"https://{name.strip().lower()}" for name in settings.allowed_hosts
                                       if settings.behind_tls_proxy}
    default_port = ":443" if scheme == "https" else ":80"
    return origin_text not in own and origin_text + default_port not in own


class OriginMiddleware:
    """Refuses (403) every cross-origin POST, the sign-in form's included, before any form is read."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD", "OPTIONS") \
                and cross_origin(scope, self.settings):
            from starlette.responses import PlainTextResponse

            return await PlainTextResponse(ORIGIN_REFUSED, status_code=403)(scope, receive, send)
        return await self.app(scope, receive, send)


class HeadersMiddleware:
    """Pure ASGI middleware adding headers_for() to every http response (errors too: an unhandled
    exception is answered here with a plain 500 carrying the same headers, then re-raised to be
    logged; Starlette's ServerErrorMiddleware sits outside every user middleware)."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = headers_for(scope.get("path", ""), self.settings)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k for k, _ in extra}
                message["headers"] = [h for h in message.get("headers", []) if h[0] not in names] + extra
            await send(message)

        started = False

        async def send_tracked(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_with_headers(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            if not started:
                from starlette.responses import PlainTextResponse

                await PlainTextResponse("Something went wrong on the server. Try again, or ask an admin "
                                        "to read the server's log.",
                                        status_code=500)(scope, receive, send_tracked)
            raise
