"""Work on several cores: a function mapped over items on worker processes forked from this one (`check --jobs`,
`gaps --jobs`). It knows nothing of claims or models: what to run is the caller's (prove/batch.py).

The workers are the standard library's process pool (concurrent.futures.ProcessPoolExecutor) with the fork start
method: a worker is this process forked, so it has the model, the claims and the function already, and only an
item's index goes to it and its result comes back (ADR 011 measures this against a pool of our own). Fork is Linux
only here (the platforms where fork is not the default discourage it); elsewhere, or with one job, the same tasks
run in this process. What the pool does not do by itself, this module adds:
- results are given with their item's index, and a TrackproofError (bad input) of any item is raised once every
  item is done: the error of the item first by the caller's order, whatever order the workers finished in;
- a worker that dies (killed by the system, a crash in Z3) stops the map with WorkerDied, never a hang;
- no worker outlives the map: on any exception in this process (Ctrl-C's KeyboardInterrupt, the exception cli
  raises on SIGTERM or SIGHUP) the workers are killed before it goes on; workers ignore Ctrl-C themselves (the
  terminal sends it to the whole process group: this process decides) and, on Linux, are killed by the system if
  this process dies without that chance (`kill -9`): prctl(PR_SET_PDEATHSIG), so that no orphan keeps running with
  the caller's pipes open.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from .errors import Loc, TrackproofError

_PR_SET_PDEATHSIG = 1  # linux/prctl.h

#: What the workers of the running map serve (the function and the items): set before they are forked, so that they
#: inherit it, and emptied once they are.
_work: list[tuple[Callable[[Any], Any], list[Any]]] = []


class WorkerDied(RuntimeError):
    """A worker process ended without sending its result (killed by the system, or a crash in Z3)."""


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _start_worker(parent: int) -> None:  # pragma: no cover - runs in the workers, whose coverage is not collected
    """A worker's first act: leave Ctrl-C to the parent, die on SIGTERM (the parent's handler is not for it), and
    die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request above was made
        os._exit(1)


def _serve(index: int) -> tuple[str, Any]:  # pragma: no cover - runs in the workers
    """One item, in a worker: its result, or the bad input or crash it met, as data that pickles."""
    function, items = _work[0]
    try:
        return "ok", function(items[index])
    except TrackproofError as err:  # bad input found while working: raised as it is in the parent
        return "input", (err.code, err.message, (err.loc.file, err.loc.line, err.loc.col), err.hint)
    except Exception as exc:  # noqa: BLE001 - reported by the parent as an internal error
        return "crash", f"{type(exc).__name__}: {exc}"


def fork_map(function: Callable[[Any], Any], items: list[Any], jobs: int,
             first: Callable[[int], Any] = lambda index: index) -> Iterator[tuple[int, Any]]:
    """(index, function(items[index])) for every item, in the order workers finish them, on `jobs` processes forked
    from this one, which take the items in their order. A TrackproofError raised for an item is raised here once
    every item is done: the error of the item first by `first` (of its index). Any other failure of a worker, or a
    worker that dies, stops the map with an error (see the module docstring)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    sys.stdout.flush()
    sys.stderr.flush()
    context = multiprocessing.get_context("fork")
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(min(jobs, len(items)), mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(),))
    workers: list[Any] = []
    finished = False
    try:
        _work[:] = [(function, items)]
        # Objects this process has now are frozen out of garbage collection while the workers fork (at the first
        # submit): otherwise a worker's collector walks them all and, writing to each, copies every page it shares
        # with this process.
        gc.freeze()
        try:
            pending = {pool.submit(_serve, index): index for index in range(len(items))}
        finally:
            gc.unfreeze()
            _work.clear()
        workers = [p for p in multiprocessing.active_children() if p not in before]
        errors: dict[int, tuple[Any, ...]] = {}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=pending.__getitem__):
                index = pending.pop(future)
                try:
                    status, payload = future.result()
                except BrokenProcessPool:
                    raise WorkerDied("a worker process ended without a result (killed by the system?)") from None
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be sent back
                    raise RuntimeError(f"in a worker process: {type(exc).__name__}: {exc}") from None
                if status == "crash":
                    raise RuntimeError(f"in a worker process: {payload}")
                if status == "input":
                    errors[index] = payload
                else:
                    yield index, payload
        finished = True
        if errors:
            code, message, loc, hint = errors[min(errors, key=first)]
            raise TrackproofError(code, message, Loc(*loc), hint)
    finally:
        if not finished:  # abandoned, interrupted or failed: no worker goes on with the rest
            for process in workers:
                with contextlib.suppress(OSError, ValueError):
                    process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def parallel_map(function: Callable[[Any], Any], items: list[Any], jobs: int) -> list[Any]:
    """[function(item) for item in items], on up to `jobs` forked processes where that is possible; results in the
    items' order. `function` runs in a child forked from this process, so it may use anything loaded here; what it
    returns must pickle. A TrackproofError raised for an item is raised here, for the first such item."""
    jobs = min(jobs, len(items))
    if jobs <= 1 or not can_fork():
        return [function(item) for item in items]
    out: dict[int, Any] = dict(fork_map(function, items, jobs))
    return [out[i] for i in range(len(items))]
