"""Acting on a photo: record permission (what `permit` records), make and download the
publishable copy (what `redact` makes), mark "do not publish"; recheck consent. Each action
is one call into screening/review.py, the code the commands use, and lands in the audit trail
with the account's name."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from screening.review import copy_from, permit_file, screen_copies
from screening.store.accounts import Session
from screening.trust import SetupError
from screening.web import uploads, verdicts
from screening.web.app import checked_form, ctx_of, signed_in
from screening.web.security import Refused

MAX_NOTE = 2000


def routes() -> list[Route]:
    base = "/photo/{batch:str}/{n:int}"
    return [
        Route(base + "/permit", permit, methods=["POST"]), Route(base + "/copy", make_copy, methods=["POST"]),
        Route(base + "/hold", hold, methods=["POST"]), Route(base + "/download", download),
        Route(base + "/original", original), Route("/recheck", recheck_now, methods=["POST"]),
    ]


def copy_folder(ctx, batch_id: str, n: int) -> Path:
    if not batch_id.isalnum():
        raise Refused(404, "No such batch.")
    return ctx.trust().config.state.parent / "copies" / batch_id / f"{n:04d}"


def _photo(ctx, request: Request):
    batch_id, n = request.path_params["batch"], request.path_params["n"]
    f = ctx.workspace.file(batch_id, n)
    if f is None or not f.path or f.status in ("pending", "refused"):
        raise Refused(404, "No screened photo here.")
    return batch_id, n, f


def _back(batch_id: str, n: int, said: str = "") -> RedirectResponse:
    return RedirectResponse(f"/photo/{batch_id}/{n}" + (f"?said={said}" if said else ""), status_code=303)


def _not_held(ctx, v, channel: str) -> None:
    if v is not None and ctx.workspace.held(v.sha256, channel):
        raise Refused(409, "This photo is marked \u201cdo not publish\u201d.")


def _original_not_held(ctx, trail, f, channel: str) -> None:
    """A copy is refused when the photo it was made from is marked "do not publish", whenever the
    copy was made (the mark is kept under the original's sha256: its last screening's and the
    batch's record of it)."""
    entry = trail.latest_for_path(f.path, channel)
    for sha in {entry.sha256 if entry else None, f.sha256}:
        if sha and ctx.workspace.held(sha, channel):
            raise Refused(409, "The photo this copy was made from is marked \u201cdo not publish\u201d.")


@signed_in()
async def permit(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    form = await checked_form(request, session, max_files=0, max_fields=10, max_part_size=8192)
    by, note = str(form.get("by", "")).strip()[:200], str(form.get("note", "")).strip()[:MAX_NOTE]
    if not by or not note:
        raise Refused(400, "Say who obtained the permission and what it is (both are recorded).")

    def act() -> str:
        batch_id, n, f = _photo(ctx, request)
        trust = ctx.trust()
        rules = trust.rules()
        trail = ctx.trail("permit", session.account.name)
        try:
            _not_held(ctx, verdicts.decided(trail, rules, f.path), rules.channel)
            return permit_file(trust, rules, trail, Path(f.path), f.path, by, note).what
        finally:
            trail.close()

    try:
        what = await run_in_threadpool(act)
    except SetupError as exc:
        raise Refused(500, f"Nothing was recorded: {exc}") from None
    return _back(request.path_params["batch"], request.path_params["n"], what)


@signed_in()
async def make_copy(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    await checked_form(request, session, max_files=0, max_fields=5)

    def act() -> str:
        batch_id, n, f = _photo(ctx, request)
        trust = ctx.trust()
        rules = trust.rules()
        trail = ctx.trail("redact", session.account.name)
        try:
            entry = trail.latest_for_path(f.path, rules.channel)
            if entry is None:
                raise Refused(404, "This photo has not been screened.")
            screening = replace(entry.raw(), path=f.path)
            original = trail.decide(screening, rules)
            _not_held(ctx, original, rules.channel)
            folder = uploads.private_dir(copy_folder(ctx, batch_id, n), under=trust.config.state.parent)
            for old in folder.glob("*"):  # one copy per photo: a new one replaces the last
                old.unlink()
            if trust.gallery is None:
                trust.enrol()
            made = copy_from(trust, rules, original, screening, folder)
            if made.copy is None:
                return "nocopy"
            os.chmod(made.copy, 0o600)
            list(screen_copies(trust, rules, trail, [made.copy], workers=1))
            return "copied"
        finally:
            trail.close()

    return _back(request.path_params["batch"], request.path_params["n"], await run_in_threadpool(act))


@signed_in()
async def hold(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    await checked_form(request, session, max_files=0, max_fields=5)

    def act() -> None:
        _, _, f = _photo(ctx, request)
        trust = ctx.trust()
        rules = trust.rules()
        trail = ctx.trail("do-not-publish", session.account.name)
        try:
            entry = trail.latest_for_path(f.path, rules.channel)
            if entry is None or not entry.sha256:
                raise Refused(404, "This photo has not been screened.")
            ctx.workspace.hold(entry.sha256, rules.channel, session.account.name)
            screening = replace(entry.raw(), path=f.path)
            trail.record(screening, trail.decide(screening, rules))
        finally:
            trail.close()

    await run_in_threadpool(act)
    return _back(request.path_params["batch"], request.path_params["n"], "held")


def _sent(ctx, session: Session, path: Path, shown: str, made_from=None) -> Response:
    """The file as an attachment, once its download is recorded; only a cleared, unheld file (and
    for a copy, `made_from` the batch file it was made from, not held either)."""
    trust = ctx.trust()
    rules = trust.rules()
    trail = ctx.trail("download", session.account.name)
    try:
        if made_from is not None:
            _original_not_held(ctx, trail, made_from, rules.channel)
        entry = trail.latest_for_path(str(path), rules.channel)
        if entry is None:
            raise Refused(404, "Nothing to download here.")
        screening = replace(entry.raw(), path=str(path))
        v = trail.decide(screening, rules)
        _not_held(ctx, v, rules.channel)
        if not verdicts.is_cleared(v):
            raise Refused(409, "Only a cleared file can be downloaded for publishing.")
        trail.record(screening, v)
    finally:
        trail.close()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(shown).stem).strip("._")[:80] or "photo"
    return FileResponse(path, filename=f"{stem}-publishable{path.suffix or '.jpg'}",
                        media_type="application/octet-stream")


@signed_in(image=True)
async def download(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)

    def act() -> Response:
        batch_id, n, f = _photo(ctx, request)
        folder = copy_folder(ctx, batch_id, n)
        made = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
        if not made:
            raise Refused(404, "No publishable copy has been made.")
        return _sent(ctx, session, made[0], f.name, made_from=f)

    return await run_in_threadpool(act)


@signed_in(image=True)
async def original(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)

    def act() -> Response:
        _, _, f = _photo(ctx, request)
        return _sent(ctx, session, Path(f.path), f.name)

    return await run_in_threadpool(act)


@signed_in()
async def recheck_now(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    await checked_form(request, session, max_files=0, max_fields=5)
    ctx.runner.submit_recheck(session.account.name)
    return RedirectResponse("/", status_code=303)
