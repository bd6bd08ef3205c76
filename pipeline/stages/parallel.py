"""Worker processes for the stages: an ordered, bounded `map` that Ctrl-C stops cleanly."""

from __future__ import annotations

import gc
import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import forkserver
from typing import Any, TypeVar

from pipeline.cores import usable_cores
from pipeline.errors import ConfigError

T = TypeVar("T")


U = TypeVar("U")


def resolve_jobs(jobs: int) -> int:
    """The number of worker processes `jobs` asks for: 0 means one per CPU."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        raise ConfigError(f"jobs must be 0 or a positive whole number, not {jobs!r}",
                          hint="use --jobs 1 (the default) to work in one process, or --jobs 0 "
                               "for one process per CPU")
    return jobs or usable_cores()


def _pool_context(preload: Sequence[str]) -> Any:
    """Workers start from a fork server, not by forking this process: this process may be
    running torch (spaCy imports it; an embedder uses its threads), and forking a process
    whose threads hold locks can deadlock. "spawn" would be as safe, but every worker would
    import spaCy anew (about 2 s each); the fork server imports `preload` once, runs nothing,
    and forks ready workers from it (measured: 2.0 s vs 4.4 s to start two segment workers).
    The server lives as long as this process, so `preload` counts only for the first pool.
    As with "spawn", a script that calls a stage with jobs > 1 needs the
    `if __name__ == "__main__":` guard.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # Windows
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "pipeline.stages", *preload])
    with _on_sigint(signal.SIG_IGN):
        # Started ignoring Ctrl-C, which it and the workers forked from it inherit: only
        # this process handles it (it stops the pool), so workers print no tracebacks.
        forkserver.ensure_running()
    return context


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _on_sigint(handler: Any) -> Iterator[None]:
    """Handle SIGINT with `handler` inside the block (only the main thread can)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _terminate(pool: Any, patience: float = 30.0) -> None:
    """Stop a pool's workers. CPython's Pool.terminate() can hang for good joining its task
    handler (seen once in a full test run, a worker error under load: the handler waited on
    the task queue's lock); the workers are already killed by then, and the handler threads
    are daemons, so after `patience` seconds the pool is left to them instead of hanging."""
    stopping = threading.Thread(target=pool.terminate, daemon=True)
    stopping.start()
    stopping.join(patience)
    if not stopping.is_alive():
        pool.join()


@contextmanager
def parallel_map(jobs: int, preload: Sequence[str] = ()
                 ) -> Iterator[Callable[[Callable[[T], U], Iterable[T]], Iterator[U]]]:
    """A `map` whose results come in input order, computed in `jobs` worker processes.

    Only a few tasks per worker are in flight at once, so neither inputs nor finished results
    pile up in memory on a large corpus (Pool.imap would queue every result the writer has not
    yet taken). A worker's exception is raised here, in order; leaving the block (normally, on
    an error or on Ctrl-C) stops the workers. With `jobs` <= 1 it is the built-in map.
    `preload`: modules the workers need, imported once for all of them where possible.
    """
    if jobs <= 1:
        yield map
        return
    context = _pool_context(preload)
    noted: list[int] = []

    def note(signum: int, frame: object) -> None:
        noted.append(signum)

    # Ctrl-C while workers start or stop would leave them half done: it is noted, then raised.
    with _on_sigint(note):
        live = [context.Pool(jobs, initializer=_ignore_sigint)]

    queues: list[deque[Any]] = []  # tasks in flight: they hold the pool until cleared

    def ordered(func: Callable[[T], U], items: Iterable[T]) -> Iterator[U]:
        pending = deque[Any]()
        queues.append(pending)
        for item in items:
            pending.append(live[0].apply_async(func, (item,)))
            if len(pending) >= 4 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    def stop() -> None:
        with _on_sigint(note):
            _terminate(live[0])
            live.clear()
            for pending in queues:
                pending.clear()
            # Free the pool's semaphores now: their finalizers would otherwise run at some
            # later collection, where a Ctrl-C is swallowed ("Exception ignored in").
            gc.collect()

    try:
        if noted:
            raise KeyboardInterrupt
        yield ordered
    except BaseException:
        stop()
        raise
    stop()
    if noted:
        raise KeyboardInterrupt
