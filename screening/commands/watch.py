"""`screening watch INBOX`: screen every file that arrives and sort it into FOLDER/{cleared,...}/."""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sqlite3
import sys
from pathlib import Path

from screening.cli import EXIT_ERROR, EXIT_OK, add_config, workers
from screening.store.db import network_filesystem, private_file
from screening.store.journal import Journal
from screening.textsafe import printable
from screening.trust import SetupError, open_trust
from screening.watch.job import JsonLog, Session, Watch, WatchSettings
from screening.watch.sorting import FOLDERS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "watch",
        help="screen photos dropped into a folder and sort them into cleared/needs-permission/error",
        description="Screen every file in INBOX (and every file that arrives later, in sub-folders "
                    "too) once it is completely written, and move it into FOLDER/cleared/, "
                    "FOLDER/needs-permission/ or FOLDER/error/ with its JSON record beside it as "
                    "NAME.json. Sub-folders of INBOX are kept. One JSON line per file is logged. "
                    "Safe to kill at any moment: started again, it finishes what was under way.",
    )
    p.add_argument("inbox", type=Path, metavar="INBOX", help="the folder photos are dropped into")
    add_config(p)
    p.add_argument("--into", type=Path, metavar="FOLDER", help="where to sort (default: INBOX/../screened)")
    p.add_argument("--channel", help="where the photos will be published (default: the config's default_channel)")
    p.add_argument("--once", action="store_true", help="sort what is in INBOX now, then exit (for cron)")
    p.add_argument("--poll", type=float, metavar="SECONDS",
                   help="walk INBOX every SECONDS instead of waiting for events (SMB/NFS shares; "
                        "chosen automatically when INBOX is on a network filesystem)")
    p.add_argument("--settle", type=float, default=2.0, metavar="SECONDS",
                   help="a file is complete once its size and time have not changed for this long (default 2)")
    p.add_argument("--grace", type=float, default=60.0, metavar="SECONDS",
                   help="a file that will not decode is retried while younger than this, as it may "
                        "still be copying (default 60)")
    p.add_argument("--log", type=Path, metavar="FILE", help="append the JSON log lines here (default stdout)")
    p.add_argument("--workers", type=workers, default=0, help="processes to use (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="screen on a Dask cluster (tcp://HOST:8786)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # real paths (no `..`, no links) before any comparison: `y/../inbox/sorted` is in the inbox
    inbox = Path(os.path.realpath(args.inbox))
    into = Path(os.path.realpath(args.into or inbox.parent / "screened"))
    if overlap := _overlap(inbox, into):
        return _fail(overlap)
    try:
        trust = open_trust(args.config)
        trust.rules(args.channel)
    except SetupError as exc:
        return _fail(str(exc))
    if clash := _holds_own_files(inbox, trust.config, args.log) or _into_own_files(into, trust.config):
        return _fail(clash)
    for warning in trust.register.warnings:  # every run: a consent the trust believes recorded is ignored
        print(f"screening watch: register warning: {printable(warning)}", file=sys.stderr)
    if args.once and not inbox.is_dir():
        return _fail(f"the inbox {inbox} is not a folder that can be read")

    try:
        log_file = private_file(args.log, "a", encoding="utf-8") if args.log else sys.stdout
    except OSError as exc:
        return _fail(f"cannot write the log {args.log}: {exc}")
    log = JsonLog(log_file)
    poll = args.poll
    if poll is None and (kind := network_filesystem(inbox)):
        poll = 5.0
        log("polling", detail=f"the inbox is on a {kind} share, which sends no change events: "
                              f"walking it every {poll:g} s")
    settings = WatchSettings(inbox=inbox, into=into, settle=args.settle, grace=args.grace, poll=poll,
                             once=args.once)
    try:
        lock = _lock(trust.config.state, inbox)
        if lock is None:
            return _fail(f"another `screening watch` is already sorting {inbox}")
        journal = Journal(trust.config.state, inbox)
    except (OSError, sqlite3.Error) as exc:
        return _fail(f"cannot open the watch state {trust.config.state}: {exc}")

    watch = Watch(settings, journal, _session_opener(args), log)
    previous = {s: signal.signal(s, lambda *_: watch.stop()) for s in (signal.SIGTERM, signal.SIGINT)}
    log("started", inbox=str(inbox), into=str(into), once=args.once, poll=poll)
    try:
        completed = watch.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        journal.close()
        log("stopped")
        if args.log:
            log_file.close()
        lock.close()
    if watch.stuck:
        lines = [f"  {printable(path)}: {printable(why)}" for path, why in sorted(watch.stuck.items())]
        return _fail(f"could not sort {len(watch.stuck)} file(s); they are still in the inbox "
                     f"(run again once fixed):\n" + "\n".join(lines))
    return EXIT_OK if completed else EXIT_ERROR


def _overlap(inbox: Path, into: Path) -> str | None:
    """Why sorting INBOX into INTO would loop (sorted files screened again), or None."""
    if into == inbox or inbox in into.parents:
        return f"--into {into} is inside the inbox {inbox}: sorted files would be screened again"
    for folder in (into / name for name in FOLDERS.values()):
        if folder == inbox or folder in inbox.parents:
            return f"the inbox {inbox} is inside {folder}, where sorted files go: they would be screened again"
    return None


def _holds_own_files(inbox: Path, config, log: Path | None) -> str | None:
    """Why the inbox must not be used: it holds or lies inside the trust's
    own files, which the job would sort away (RT20-12: `watch .` in the trust folder moved the
    config and register to error/, and a child's reference photo and the crest to cleared/), or
    the log, which the job would sort into error/ and keep writing to (RT20-9). None if fine."""
    own = [("the config file", config.path), ("the consent register", config.register),
           ("the reference photos", config.photos), ("the encodings store", config.encodings),
           ("the state folder", config.state)]
    own += [(f"the logos of {a.name}", a.logos) for a in config.academies if a.logos]
    if log is not None:
        own.append(("the log (--log)", log))
    for what, path in own:
        real = Path(os.path.realpath(path))
        if real == inbox or inbox in real.parents:
            return f"the inbox {inbox} holds {what} ({real}): the job would sort it away"
        if real in inbox.parents:
            return f"the inbox {inbox} lies inside {what} ({real}): the job would sort it away"
    return None


def _into_own_files(into: Path, config) -> str | None:
    """Why --into must not be used: it is, or lies inside, a folder of the trust's own (sorted
    photos written into the reference photos would be enrolled as a person: RT23-3). A folder
    that merely holds the config is fine: nothing there is moved."""
    for what, path in (("the reference photos", config.photos), ("the state folder", config.state),
                       *((f"the logos of {a.name}", a.logos) for a in config.academies if a.logos)):
        real = Path(os.path.realpath(path))
        if real == into or real in into.parents:
            return f"--into {into} lies inside {what} ({real}): sorted photos would be taken for the trust's own"
    return None


def _session_opener(args: argparse.Namespace):
    """Builds a Session when the config, logos, register or reference photos have changed."""
    from screening.pool import Screener
    from screening.store.audit import AuditTrail, gallery_digest
    from screening.store.cache import ResultCache

    def open_session(previous_stamp):
        trust = open_trust(args.config)
        trust.rules(args.channel)  # an unknown channel is a setup error, now rather than per file
        stamp = (trust.config.fingerprint(), trust.register.digest, gallery_digest(trust.config, trust.register))
        if stamp == previous_stamp:
            return None
        trust.enrol()
        cache = ResultCache.open(trust)
        if args.scheduler:
            from screening.cluster import ClusterScreener

            screener = ClusterScreener(args.scheduler, trust.config, trust.gallery, cache=cache,
                                       people=trust.names)
        else:
            screener = Screener(trust.config, trust.gallery, workers=args.workers, cache=cache, people=trust.names)
        return Session(screener, AuditTrail.open(trust, "watch"), lambda: trust.rules(args.channel),
                       stamp, closing=(cache,))

    return open_session


def _lock(state: Path, inbox: Path):
    """An exclusive lock per inbox beside the state DB, or None if another job holds it."""
    state.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the state folder is private
    path = state.parent / f"watch-{hashlib.sha256(str(inbox).encode()).hexdigest()[:12]}.lock"
    handle = open(path, "a+")
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; run one job per inbox
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _fail(message: str) -> int:
    print(f"screening watch: {message}", file=sys.stderr)
    return EXIT_ERROR
