"""The audit page and its CSV export (any account); accounts and settings (admins only)."""

from __future__ import annotations

import csv
import io
import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from screening.store.accounts import ROLES, AccountError, Session
from screening.store.audit import csv_rows
from screening.web import passwords
from screening.web.app import checked_form, ctx_of, render, signed_in
from screening.web.security import Refused

AUDIT_PAGE_ROWS = 500
_COPY = re.compile(r"[/\\]copies[/\\]([0-9a-f]{16})[/\\](\d{4})[/\\][^/\\]+$")


def routes() -> list[Route]:
    return [Route("/audit", audit_page), Route("/audit.csv", audit_csv),
            Route("/admin", admin_page), Route("/admin/users", add_user, methods=["POST"]),
            Route("/admin/users/remove", remove_user, methods=["POST"])]


def _entries(ctx, account: str):
    trail = ctx.trail("audit", account)
    try:
        return trail.entries()
    finally:
        trail.close()


def _account_changes(ctx, account: str) -> list[dict[str, str]]:
    trail = ctx.trail("audit", account)
    try:
        return trail.account_changes()
    finally:
        trail.close()


@signed_in()
async def audit_page(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    who = request.query_params.get("user", "")

    def build() -> list[dict]:
        names = ctx.workspace.names_by_path()

        def shown(path: str) -> str:
            """An uploaded file by its uploaded name; a publishable copy as "copy of NAME"."""
            if path in names:
                return names[path]
            m = _COPY.search(path)
            f = ctx.workspace.file(m[1], int(m[2])) if m else None
            return f"publishable copy of {f.name}" if f else path

        rows = []
        for e in reversed(_entries(ctx, session.account.name)):
            if who and e.user != who:
                continue
            permission = json.loads(e.permission) if e.permission else None
            rows.append({"at": e.at.replace("T", " ")[:19], "user": e.user, "command": e.command,
                         "file": shown(e.path), "status": e.status, "channel": e.channel,
                         "kinds": ", ".join(sorted({r.get("kind", "?") for r in e.reason_list()})),
                         "permission": permission, "sha256": (e.sha256 or "")[:12]})
            if len(rows) >= AUDIT_PAGE_ROWS:
                break
        return rows

    rows = await run_in_threadpool(build)
    changes = [c | {"at": c["at"].replace("T", " ")[:19]}
               for c in reversed(await run_in_threadpool(_account_changes, ctx, session.account.name))
               if not who or c["user"] == who][:AUDIT_PAGE_ROWS]
    return render(request, "audit.html", session, rows=rows, who=who, limit=AUDIT_PAGE_ROWS, changes=changes)


@signed_in(image=True)
async def audit_csv(request: Request, session: Session) -> Response:
    """The whole trail as `screening audit --csv` writes it (same rows: store/audit.csv_rows)."""
    ctx = ctx_of(request)

    def build() -> str:
        buf = io.StringIO()
        csv.writer(buf).writerows(csv_rows(_entries(ctx, session.account.name)))
        return "\ufeff" + buf.getvalue()  # utf-8-sig, as the command writes it

    return Response(await run_in_threadpool(build), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="audit.csv"'})


@signed_in(role="admin")
async def admin_page(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    accounts = await run_in_threadpool(ctx.accounts.all)
    s = ctx.settings
    settings = [("config", str(ctx.config_path)), ("state database", str(ctx.trust().config.state)),
                ("listening on", f"{s.host}:{s.port}"), ("TLS", "yes" if s.tls else "behind a proxy" if s.behind_tls_proxy else "no"),
                ("client address from X-Forwarded-For", "yes" if s.trust_proxy else "no"),
                ("session idle timeout", f"{s.idle_minutes:g} min"), ("session longest", f"{s.max_hours:g} h"),
                ("failed sign-ins allowed", f"{s.account_failures} per account, {s.address_failures} per address "
                                            f"in {s.failure_window_minutes:g} min"),
                ("watch folders offered", ", ".join(str(f) for f in s.folders) or "none")]
    return render(request, "admin.html", session, accounts=accounts, roles=ROLES, settings=settings,
                  said=request.query_params.get("said", ""))


@signed_in(role="admin")
async def add_user(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    form = await checked_form(request, session, max_files=0, max_fields=10, max_part_size=4096)
    name, role, password = str(form.get("name", "")).strip(), str(form.get("role", "")), str(form.get("password", ""))
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise Refused(400, "A name is 1 to 64 letters, digits, '.', '-' or '_'.")
    try:
        hashed = await run_in_threadpool(passwords.hash_password, password)
        await run_in_threadpool(ctx.accounts.add, name, role, hashed)
    except (passwords.PasswordError, AccountError) as exc:
        raise Refused(400, str(exc)) from None
    await run_in_threadpool(_record, ctx, session, "add", name, f"role {role}")
    return RedirectResponse("/admin?said=added", status_code=303)


def _record(ctx, session: Session, action: str, name: str, detail: str = "") -> None:
    """An account change in the audit trail, under the admin's account name."""
    trail = ctx.trail("accounts", session.account.name)
    try:
        trail.record_account_change(action, name, detail)
    finally:
        trail.close()


@signed_in(role="admin")
async def remove_user(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    form = await checked_form(request, session, max_files=0, max_fields=5)
    name = str(form.get("name", ""))
    if name == session.account.name:
        raise Refused(400, "You cannot remove your own account while signed in with it.")
    try:
        await run_in_threadpool(ctx.accounts.remove, name)
    except AccountError as exc:
        raise Refused(400, str(exc)) from None
    await run_in_threadpool(_record, ctx, session, "remove", name)
    return RedirectResponse("/admin?said=removed", status_code=303)

