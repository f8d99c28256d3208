"""`screening serve`: the review workspace in the browser (docs/serve.md)."""

from __future__ import annotations

import argparse
import ipaddress
import sqlite3
from pathlib import Path

from screening.cli import EXIT_ERROR, EXIT_OK, add_config, consoles, workers
from screening.textsafe import for_terminal
from screening.trust import SetupError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="the review workspace in the browser: upload, screen, permit, download, audit",
        description="Serve the review workspace: every page and photo needs an account "
                    "(`screening users add NAME --role admin`). Listens on 127.0.0.1 unless told "
                    "otherwise; on any other address, serve over TLS (--tls-cert/--tls-key) or behind "
                    "a TLS reverse proxy (--behind-tls-proxy). See docs/serve.md.",
    )
    add_config(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve https with this certificate (PEM)")
    p.add_argument("--tls-key", type=Path, metavar="FILE", help="... and this private key (PEM)")
    p.add_argument("--behind-tls-proxy", action="store_true",
                   help="a reverse proxy terminates TLS in front: cookies are marked Secure")
    p.add_argument("--trust-proxy", action="store_true",
                   help="take the client address (for the sign-in rate limit) from X-Forwarded-For, "
                        "as set by your own reverse proxy; otherwise the header is ignored")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a host name browsers use to reach the server (e.g. screening.trust.example), answered "
                        "beside the --host address; any other Host header is refused (DNS rebinding); repeat for more")
    p.add_argument("--folder", action="append", type=Path, default=[], metavar="FOLDER",
                   help="a folder reviewers may screen from the browser (e.g. the watch job's "
                        "screened/needs-permission); repeat for more")
    p.add_argument("--workers", type=workers, default=0, help="processes to screen with (default: one per core)")
    p.add_argument("--session-minutes", type=float, default=30.0,
                   help="a session ends after this many idle minutes (default 30)")
    p.set_defaults(func=run)


def _ipv6(name: str) -> bool:
    try:
        return ipaddress.ip_address(name.strip("[]")).version == 6
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    out, err = consoles()

    def fail(message: str) -> int:
        err.print(f"[bold red]screening serve:[/] {for_terminal(message)}", highlight=False)
        return EXIT_ERROR

    if bool(args.tls_cert) != bool(args.tls_key):
        return fail("--tls-cert and --tls-key go together")
    tls = bool(args.tls_cert)
    from screening.web.security import is_loopback

    if not is_loopback(args.host) and not (tls or args.behind_tls_proxy):
        return fail(f"--host {args.host} would send passwords and children's photos unencrypted over the "
                    "network: add --tls-cert/--tls-key, or --behind-tls-proxy when a proxy terminates TLS")
    for name in args.allowed_host:
        if not name or any(c in name for c in "/:*@ ") and not _ipv6(name):
            return fail(f"--allowed-host {name!r}: give a host name or address only (no scheme, port or wildcard)")
    if args.host in ("0.0.0.0", "::") and not args.allowed_host:
        return fail(f"--host {args.host} listens on every address: name the host browsers use with "
                    "--allowed-host NAME (any other Host header is refused)")
    for folder in args.folder:
        if not folder.is_dir():
            return fail(f"--folder {folder}: not a folder")
    if not 1 <= args.session_minutes <= 24 * 60:
        return fail("--session-minutes must be between 1 and 1440")
    try:
        from screening.web.app import create_app
        from screening.web.security import Settings
    except ImportError as exc:
        return fail(f"the web workspace is not installed: {exc}")
    settings = Settings(host=args.host, port=args.port, tls=tls, behind_tls_proxy=args.behind_tls_proxy,
                        trust_proxy=args.trust_proxy, idle_minutes=args.session_minutes,
                        folders=tuple(f.resolve() for f in args.folder), workers=args.workers,
                        allowed_hosts=tuple(args.allowed_host))
    try:
        app = create_app(args.config, settings)
    except (SetupError, OSError, sqlite3.Error) as exc:
        return fail(str(exc))
    if not app.state.ctx.accounts.all():
        return fail("no account can sign in yet: add one with `screening users add NAME --role admin`")
    import uvicorn

    scheme = "https" if tls else "http"
    out.print(f"screening serve: {scheme}://{args.host}:{args.port}/ (Ctrl-C stops it)", highlight=False)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=False,
                server_header=False, date_header=False,
                ssl_certfile=str(args.tls_cert) if tls else None, ssl_keyfile=str(args.tls_key) if tls else None)
    return EXIT_OK
