"""Screening batches (and rechecking consent) on one background thread.

The web server stays an event loop answering pages and progress polls; this thread feeds the
same process pool as `scan` (pool.Screener, the result cache, the audit trail) one batch at a
time, writing each file's status to the batch as it finishes, so progress is a cheap query.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from screening.pool import Screener
from screening.review import Recheck, recheck
from screening.store.audit import AuditTrail
from screening.store.cache import ResultCache
from screening.trust import SetupError


@dataclass
class RecheckResult:
    at: float
    account: str
    found: Recheck | None
    error: str = ""


class Runner:
    def __init__(self, ctx):
        self.ctx = ctx
        self.jobs: queue.Queue = queue.Queue()
        self.current: str | None = None
        self.last_recheck: RecheckResult | None = None
        self.thread = threading.Thread(target=self._loop, name="screening-batches", daemon=True)
        self.started = False

    def start(self) -> None:
        if not self.started:
            self.started = True
            for batch in self.ctx.workspace.unfinished():  # a restart finishes what was queued
                self.jobs.put(("batch", batch.id, batch.account))
            self.thread.start()

    def stop(self) -> None:
        if self.started:
            self.jobs.put(None)

    def submit(self, batch_id: str, account: str) -> None:
        self.jobs.put(("batch", batch_id, account))

    def submit_recheck(self, account: str) -> None:
        self.jobs.put(("recheck", "", account))

    def idle(self) -> bool:
        return self.jobs.unfinished_tasks == 0

    def wait(self, timeout: float = 60.0) -> bool:
        """Wait until every queued job is done (for tests and the benchmark)."""
        end = time.monotonic() + timeout
        while not self.idle():
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return True

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                kind, batch_id, account = job
                if kind == "batch":
                    self._screen(batch_id, account)
                else:
                    self._recheck(account)
            except Exception as exc:  # never let the thread die: the batch says what happened
                if job and job[0] == "batch":
                    self.ctx.workspace.set_state(job[1], "failed", f"{type(exc).__name__}: {exc}")
            finally:
                self.current = None
                self.jobs.task_done()

    def _screen(self, batch_id: str, account: str) -> None:
        ws = self.ctx.workspace
        files = [f for f in ws.files(batch_id) if f.path and f.status == "pending"]
        self.current = batch_id
        ws.set_state(batch_id, "screening")
        try:
            trust = self.ctx.trust()
            rules = trust.rules()
            trust.enrol()
            trail = AuditTrail.open(trust, "scan", user=account)
        except (SetupError, OSError, sqlite3.Error) as exc:
            ws.set_state(batch_id, "failed", str(exc))
            return
        cache = None
        try:
            cache = ResultCache.open(trust)
            screener = Screener(trust.config, trust.gallery, workers=self.ctx.settings.workers, cache=cache,
                                people=trust.names)
            with screener:
                for screening in screener.screen([(Path(f.path), f.path) for f in files]):
                    v = trail.verdict(screening, rules)
                    ws.set_result(batch_id, screening.path, v.status.value, v.sha256)
        finally:
            trail.close()
            if cache is not None:
                cache.close()
        ws.set_state(batch_id, "done")

    def _recheck(self, account: str) -> None:
        try:
            trust = self.ctx.trust()
            trail = AuditTrail.open(trust, "recheck", user=account)
        except (SetupError, OSError, sqlite3.Error) as exc:
            self.last_recheck = RecheckResult(time.time(), account, None, str(exc))
            return
        try:
            found = recheck(trust, trust.rules(), trail, workers=self.ctx.settings.workers)
            self.last_recheck = RecheckResult(time.time(), account, found)
        except (SetupError, OSError, sqlite3.Error) as exc:
            self.last_recheck = RecheckResult(time.time(), account, None, str(exc))
        finally:
            trail.close()
