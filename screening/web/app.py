"""The Starlette app of `screening serve`: the context every page shares, login, the routes."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from screening.store.accounts import Accounts, Session
from screening.store.audit import AuditTrail
from screening.store.workspace import Workspace
from screening.textsafe import visible_in_html
from screening.trust import Trust, open_trust
from screening.web import passwords, security
from screening.web.runner import Runner
from screening.web.security import LOGIN_COOKIE, SESSION_COOKIE, Refused, Settings

HERE = Path(__file__).resolve().parent


@dataclass
class Context:
    """What every request shares: the trust (reloaded when its config or register changes), the
    accounts and batches tables, the background runner, the templates."""

    config_path: Path
    settings: Settings
    accounts: Accounts = field(init=False)
    workspace: Workspace = field(init=False)
    runner: Runner = field(init=False)
    _trust: Trust | None = None
    _stamp: tuple = ()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        trust = self.trust()  # a config or register with a mistake stops `serve` before it listens
        self.accounts = Accounts(trust.config.state)
        self.workspace = Workspace(trust.config.state)
        self.runner = Runner(self)

    def trust(self) -> Trust:
        with self._lock:
            stamp = self._files_stamp()
            if self._trust is None or stamp != self._stamp:
                trust = open_trust(self.config_path)
                self._trust, self._stamp = trust, self._files_stamp(trust)
            return self._trust

    def _files_stamp(self, trust: Trust | None = None) -> tuple:
        trust = trust or self._trust
        paths = [Path(self.config_path)] + ([trust.config.register] if trust else [])
        out = []
        for p in paths:
            try:
                st = os.stat(p)
                out.append((str(p), st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((str(p), 0, 0))
        return tuple(out)

    def trail(self, command: str, account: str) -> AuditTrail:
        return AuditTrail.open(self.trust(), command, user=account)


def _shown(value):
    """Every value a template prints: bidi overrides and controls in the uploader's text are shown
    as escapes (RT6-19); markup the app built itself (Markup) passes as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_in_html(value)
    return value


def create_app(config_path: str | Path, settings: Settings | None = None, *, start_runner: bool = True) -> Starlette:
    """The app; raises SetupError when the config or register cannot be loaded."""
    from screening.web import views, views_act, views_admin

    ctx = Context(Path(config_path), settings or Settings())
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True,
                             finalize=_shown)
    templates = Jinja2Templates(env=env)  # every value escaped: file names are the uploader's text
    templates.env.globals["report_css"] = Markup(report_css())
    templates.env.filters["datetime"] = _when
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *views.routes(), *views_act.routes(), *views_admin.routes(),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        if start_runner:
            ctx.runner.start()
            ctx.runner.submit_recheck("serve")  # consent changes since the last run, at the top of home
        try:
            yield
        finally:
            ctx.runner.stop()

    app = Starlette(routes=routes, exception_handlers={Refused: refused}, lifespan=lifespan)
    app.state.ctx, app.state.templates = ctx, templates
    # outermost last: headers on every answer (a refused Host, a 500 too), then the Host allow-list
    # (DNS rebinding; no redirect is ever built from a foreign Host), then the Origin check of POSTs
    app.add_middleware(security.OriginMiddleware, settings=ctx.settings)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=ctx.settings.host_names(), www_redirect=False)
    app.add_middleware(security.HeadersMiddleware, settings=ctx.settings)
    return app


def report_css() -> str:
    """The HTML report's stylesheet: the same tiles, chips, cards and boxes (reports/html/page.py)."""
    from screening.reports.html.page import CSS

    return CSS.replace("</", "<\\/")


def _when(epoch: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def ctx_of(request: Request) -> Context:
    return request.app.state.ctx


def render(request: Request, name: str, session: Session | None, status: int = 200, **values: Any) -> Response:
    values.update(session=session, account=session.account if session else None,
                  csrf=session.csrf if session else "", trust_name=_trust_name(request))
    return request.app.state.templates.TemplateResponse(request, name, values, status_code=status)


def _trust_name(request: Request) -> str:
    try:
        return ctx_of(request).trust().config.trust
    except Exception:
        return ""


# ---------------------------------------------------------------- who may see what


def signed_in(role: str | None = None, image: bool = False):
    """Decorate an endpoint(request, session): no session -> the login page (401 for an image or
    a progress poll); a reviewer on an admin page -> 403."""

    def wrap(endpoint):
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            ctx = ctx_of(request)
            session = await run_in_threadpool(security.current_session, request, ctx.accounts, ctx.settings)
            if session is None:
                raise Refused(401, "Sign in first.", login=not image)
            if role == "admin" and session.account.role != "admin":
                raise Refused(403, "Only an admin account may do this.")
            return await endpoint(request, session)

        return guarded

    return wrap


async def checked_form(request: Request, session: Session, **limits):
    """The POSTed form, once its CSRF token is the session's (403 otherwise)."""
    form = await request.form(**limits)
    security.check_csrf(session, form.get("csrf"))
    return form


async def refused(request: Request, exc: Refused) -> Response:
    if exc.login:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if exc.status in (401,) or request.url.path.endswith(("/image", "/progress", "/download", "/original", ".csv")):
        return PlainTextResponse(exc.message, status_code=exc.status)
    return render(request, "error.html", None, status=exc.status, message=exc.message)


# ---------------------------------------------------------------- login and logout


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) is followed after login."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


async def login_page(request: Request) -> Response:
    token = security.new_token()
    response = render(request, "login.html", None, login_csrf=token,
                      next=_safe_next(request.query_params.get("next")), error="")
    response.set_cookie(LOGIN_COOKIE, token, **security.cookie_args(ctx_of(request).settings, max_age=3600))
    return response


async def login_post(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    if not security.same(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        raise Refused(403, "This sign-in form is out of date (CSRF token missing or wrong): reload it.")
    name, password = str(form.get("name", ""))[:200], str(form.get("password", ""))
    address = security.client_address(request, ctx.settings)
    nxt = _safe_next(str(form.get("next", "")))

    def attempt() -> str | None:
        if security.rate_limited(ctx.accounts, ctx.settings, name, address):
            return "limited"
        account = ctx.accounts.get(name)
        ok = passwords.verify(password, account.password if account else passwords.DUMMY)
        if not (ok and account):
            ctx.accounts.fail(f"account:{name}", f"address:{address}")
            return None
        ctx.accounts.forgive(f"account:{name}")
        token = security.new_token()
        ctx.accounts.open_session(account.name, token, security.new_token())
        return token

    token = await run_in_threadpool(attempt)
    if token is None or token == "limited":
        limited = token == "limited"
        message = ("Too many failed sign-ins: wait a few minutes, or ask an admin." if limited
                   else "That name and password do not match an account.")
        again = security.new_token()
        response = render(request, "login.html", None, status=429 if limited else 401, login_csrf=again,
                          next=nxt, error=message)
        response.set_cookie(LOGIN_COOKIE, again, **security.cookie_args(ctx.settings, max_age=3600))
        return response
    response = RedirectResponse(nxt, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, **security.cookie_args(ctx.settings))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@signed_in()
async def logout(request: Request, session: Session) -> Response:
    await checked_form(request, session, max_files=0, max_fields=5)
    await run_in_threadpool(ctx_of(request).accounts.close_session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
