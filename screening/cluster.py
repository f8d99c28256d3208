"""Screening on a Dask distributed cluster (`scan --scheduler tcp://HOST:8786`), for archives
that outgrow one machine.

Same work as the local pool: each task is pipeline.screen_file on one path, so results are
identical. Workers read the files themselves: every worker must see them at the same path
(a shared drive mounted alike everywhere); only paths and findings cross the network.
Detectors are built once per worker process and kept for the config and face gallery they
were built from. The cache is asked in the parent first, as for a local scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from screening.config import Config
from screening.detectors import build_detectors
from screening.model import Screening
from screening.pipeline import crashed, file_options, screen_file

# Built detectors on this worker, by (config fingerprint, gallery token, factory): models load once.
_BUILT: dict[tuple, dict] = {}


def _screen_on_worker(path: str, display: str, config: Config, gallery: Any, factory: Callable | None,
                      key: tuple) -> Screening:
    detectors = _BUILT.get(key)
    if detectors is None:
        _BUILT.clear()  # an older config's models are not needed again
        detectors = _BUILT[key] = (factory or build_detectors)(config, gallery)
    return screen_file(Path(path), detectors, display=display, **file_options(config))


class ClusterScreener:
    """Screener's interface (screen, close) over a distributed.Client; in-flight work is bounded."""

    def __init__(self, scheduler: Any, config: Config, gallery: Any, *,
                 factory: Callable | None = None, cache: Any = None, window: int = 0):
        from dask.base import tokenize
        from distributed import Client

        self.client = Client(scheduler, timeout="10s")
        self.config, self.factory, self.cache = config, factory, cache
        # shipped to every worker once, not with every task
        self.gallery = self.client.scatter(gallery, broadcast=True) if gallery is not None else None
        self.key = (config.fingerprint(), tokenize(gallery), getattr(factory, "__qualname__", None))
        threads = sum(self.client.nthreads().values()) or 1
        self.window = window or threads * 4

    def close(self) -> None:
        self.client.close()

    def screen(self, items: Iterable[tuple[Path, str]]) -> Iterator[Screening]:
        """Screen (path, display name) pairs on the cluster, yielding each as it finishes."""
        from distributed import wait

        source = iter(items)
        pending: dict[Any, tuple[Path, str]] = {}
        try:
            while True:
                while len(pending) < self.window:
                    item = next(source, None)
                    if item is None:
                        break
                    known = self.cache.lookup(*item) if self.cache is not None else None
                    if known is not None:
                        yield known
                        continue
                    future = self.client.submit(_screen_on_worker, str(item[0].absolute()), item[1], self.config,
                                                self.gallery, self.factory, self.key, pure=False)
                    pending[future] = item
                if not pending:
                    return
                done, _ = wait(list(pending), return_when="FIRST_COMPLETED")
                for future in done:
                    path, display = pending.pop(future)
                    try:
                        screening = future.result()
                    except Exception as exc:  # a worker that died (KilledWorker) or a lost connection
                        screening = crashed(path, display, f"screening on the cluster failed: "
                                                            f"{type(exc).__name__}: {exc}")
                    else:
                        if self.cache is not None:
                            self.cache.store(screening)
                    yield screening
        finally:
            for future in pending:
                future.cancel()
