"""Pages: home (consent changes, batches), a batch (upload, progress, tiles, filters), a photo."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from screening import files as file_selection
from screening.store.accounts import Session
from screening.web import uploads, verdicts
from screening.web.app import checked_form, ctx_of, render, signed_in
from screening.web.security import Refused

PREVIEW_SIDES = (640, 1600)
MAX_UPLOAD_FILES = 5000


def routes() -> list[Route]:
    return [
        Route("/", home), Route("/batches", upload, methods=["POST"]),
        Route("/batches/folder", from_folder, methods=["POST"]),
        Route("/batches/{batch:str}", batch_page), Route("/batches/{batch:str}/progress", progress),
        Route("/photo/{batch:str}/{n:int}", photo_page), Route("/photo/{batch:str}/{n:int}/image", image),
    ]


@signed_in()
async def home(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    batches = await run_in_threadpool(ctx.workspace.batches)
    counts = {b.id: await run_in_threadpool(ctx.workspace.counts, b.id) for b in batches[:50]}
    return render(request, "home.html", session, batches=batches[:50], counts=counts,
                  recheck=ctx.runner.last_recheck, folders=[str(f) for f in ctx.settings.folders],
                  words=verdicts.STATUS_WORDS, names=await run_in_threadpool(ctx.workspace.names_by_path))


@signed_in()
async def upload(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > ctx.settings.max_upload_bytes:
        raise Refused(413, f"An upload may hold at most {ctx.settings.max_upload_bytes:,} bytes "
                           "(and must say its length): send the batch in parts.")
    form = await checked_form(request, session, max_files=MAX_UPLOAD_FILES, max_fields=20, max_part_size=4096)
    sent = [f for f in form.getlist("files") if hasattr(f, "read") and (f.filename or f.size)]
    if not sent:
        raise Refused(400, "Choose or drop at least one file to screen.")
    batch_id = uploads.new_batch_id()

    def keep() -> list[tuple[str, str, str, str]]:
        folder = uploads.uploads_dir(ctx.trust().config.state, batch_id)
        kept = []
        for n, f in enumerate(sent, start=1):
            f.file.seek(0)
            kept.append((f.filename or "", *uploads.store(folder, n, f.file, f.filename or "")))
        aside = uploads.set_aside([(raw, path) for raw, path, _ in kept])  # clutter, sidecars: as scan
        rows = []
        for i, (raw, path, why) in enumerate(kept):
            name, why = uploads.display_name(raw), aside.get(i, why)
            rows.append((name, str(path), "pending", "") if path and not why else (name, "", "refused", why))
        return rows

    rows = await run_in_threadpool(keep)
    for f in sent:
        await f.close()
    title = uploads.display_name(str(form.get("title") or "")) if form.get("title") else f"{len(rows)} file(s) uploaded"
    await run_in_threadpool(ctx.workspace.add_batch, batch_id, title, session.account.name, rows)
    ctx.runner.submit(batch_id, session.account.name)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@signed_in()
async def from_folder(request: Request, session: Session) -> Response:
    """A batch of one of the folders IT offered with --folder (chosen by number, never by path)."""
    ctx = ctx_of(request)
    form = await checked_form(request, session, max_files=0, max_fields=5)
    chosen = str(form.get("folder", ""))
    if not (chosen.isascii() and chosen.isdigit()) or int(chosen) >= len(ctx.settings.folders):
        raise Refused(400, "Choose one of the folders offered.")
    folder = ctx.settings.folders[int(chosen)]

    def select() -> list[tuple[str, str, str, str]]:
        picked = file_selection.select([folder])
        return ([(name, str(Path(path).resolve()), "pending", "") for path, name in picked.items]
                + [(name, "", "refused", why) for _, name, why in picked.refused])

    try:
        rows = await run_in_threadpool(select)
    except (file_selection.MissingPath, OSError) as exc:
        raise Refused(400, f"That folder cannot be read: {exc}") from None
    if not rows:
        raise Refused(400, "That folder holds no files to screen.")
    batch_id = uploads.new_batch_id()
    await run_in_threadpool(ctx.workspace.add_batch, batch_id, f"folder {folder}", session.account.name, rows)
    ctx.runner.submit(batch_id, session.account.name)
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


def _batch_or_404(ctx, batch_id: str):
    batch = ctx.workspace.batch(batch_id)
    if batch is None:
        raise Refused(404, "No such batch.")
    return batch


@signed_in(image=True)  # polled by a script: 401, not the login page
async def progress(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)

    def read() -> dict:
        batch = _batch_or_404(ctx, request.path_params["batch"])
        counts = ctx.workspace.counts(batch.id)
        total = sum(counts.values())
        return {"state": batch.state, "message": batch.message, "total": total,
                "done": total - counts.get("pending", 0), "counts": counts}

    return JSONResponse(await run_in_threadpool(read))


@signed_in()
async def batch_page(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    show = set(request.query_params.getlist("status"))
    only = set(request.query_params.getlist("kind"))

    def build() -> dict:
        batch = _batch_or_404(ctx, request.path_params["batch"])
        trust = ctx.trust()
        rules = trust.rules()
        trail = ctx.trail("serve", session.account.name)
        try:
            all_cards = verdicts.cards(trail, rules, ctx.workspace.files(batch.id))
        finally:
            trail.close()
        statuses, kinds = verdicts.summary(all_cards)
        shown = [c for c in all_cards if (not show or c.status in show) and (not only or only & set(c.kinds))]
        order = {s: i for i, s in enumerate(["needs_permission", "error", "refused", "pending", "cleared"])}
        shown.sort(key=lambda c: (order.get(c.status, 9), c.file.name, c.file.n))
        return {"batch": batch, "cards": shown, "total": len(all_cards), "statuses": statuses,
                "kinds": sorted(kinds.items()), "channel": rules.channel,
                "done": len(all_cards) - statuses.get("pending", 0)}

    values = await run_in_threadpool(build)
    return render(request, "batch.html", session, show=show, only=only, words=verdicts.STATUS_WORDS,
                  kind_word=verdicts.kind_word, **values)


def _file_or_404(ctx, batch_id: str, n: int):
    f = ctx.workspace.file(batch_id, n)
    if f is None:
        raise Refused(404, "No such photo in this batch.")
    return f


@signed_in()
async def photo_page(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    batch_id, n = request.path_params["batch"], request.path_params["n"]

    def build() -> dict:
        batch = _batch_or_404(ctx, batch_id)
        f = _file_or_404(ctx, batch_id, n)
        trust = ctx.trust()
        rules = trust.rules()
        trail = ctx.trail("serve", session.account.name)
        try:
            v = verdicts.decided(trail, rules, f.path) if f.status not in ("pending", "refused") else None
            copy = ctx_copy(ctx, trail, rules, batch_id, n)
        finally:
            trail.close()
        names = {p.person_id: p.name for p in trust.register.people.values()}
        values = {"batch": batch, "file": f, "v": v, "channel": rules.channel, "copy": copy,
                  "hold": ctx.workspace.held(v.sha256 if v else None, rules.channel)}
        if v is not None:
            values.update(legend=verdicts.LEGEND_HTML, card=verdicts.Card(f, v), reasons=verdicts.reasons(v), boxes=verdicts.boxes(v, names),
                          strip=verdicts.strip(v, names), location=verdicts.location_line(v))
        return values

    values = await run_in_threadpool(build)
    return render(request, "photo.html", session, words=verdicts.STATUS_WORDS, **values)


def ctx_copy(ctx, trail, rules, batch_id: str, n: int):
    """(path, verdict) of the publishable copy made for this photo, or None."""
    from screening.web.views_act import copy_folder

    folder = copy_folder(ctx, batch_id, n)
    made = sorted(p for p in folder.glob("*") if p.is_file() and not p.name.startswith(".")) if folder.is_dir() else []
    if not made:
        return None
    return made[0], verdicts.decided(trail, rules, str(made[0]))


@signed_in(image=True)
async def image(request: Request, session: Session) -> Response:
    ctx = ctx_of(request)
    try:
        side = int(request.query_params.get("side", "640"))
    except ValueError:
        side = 640
    side = min(PREVIEW_SIDES, key=lambda s: abs(s - side))

    def build() -> bytes | None:
        f = _file_or_404(ctx, request.path_params["batch"], request.path_params["n"])
        if not f.path:
            return None
        return verdicts.preview(Path(f.path), f.sha256, side)

    data = await run_in_threadpool(build)
    if data is None:  # a picture saying so, rather than a broken-image icon
        return Response(_no_preview(), media_type="image/png")
    return Response(data, media_type="image/jpeg")


_NO_PREVIEW: list[bytes] = []


def _no_preview() -> bytes:
    if not _NO_PREVIEW:
        import io

        from PIL import Image, ImageDraw

        img = Image.new("RGB", (320, 200), (51, 51, 51))
        ImageDraw.Draw(img).text((112, 92), "no preview", fill=(221, 221, 221))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        _NO_PREVIEW.append(buf.getvalue())
    return _NO_PREVIEW[0]
