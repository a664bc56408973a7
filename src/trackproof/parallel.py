"""Work on several cores: a function mapped over items on worker processes forked from this one (`check --jobs`,
`gaps --jobs`). It knows nothing of claims or models: what to run is the caller's (prove/batch.py).

Workers are forked (Linux only: fork is the cheap way to share a loaded model, and the platforms where fork is not
the default discourage it); elsewhere, or with one job, the same tasks run in this process.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any

from .errors import Loc, TrackproofError


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


# --- a pool of forked workers ----------------------------------------------------------------------------------
# Small on purpose: a worker is this process forked (so it has the model, the claims and the function already), it
# takes the next item's index from a pipe and writes back the pickled result, and the parent hands out items in
# order as workers free up. concurrent.futures would do the same at the cost of importing multiprocessing (about
# 12 ms, an eighth of the import floor the speed target is measured against) and of its manager thread.

def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from `fd`, or None at end of file (the writer is gone)."""
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _serve(function: Callable[[Any], Any], items: list[Any], tasks_in: int, results_out: int) -> None:
    """A worker's loop: run the items whose indices arrive until -1 arrives."""
    while True:
        raw = _read_exactly(tasks_in, 8)
        index = -1 if raw is None else struct.unpack("q", raw)[0]
        if index < 0:
            return
        try:
            reply: tuple[str, Any] = ("ok", function(items[index]))
        except TrackproofError as err:  # bad input found while working: raised as it is in the parent
            reply = ("input", (err.code, err.message, (err.loc.file, err.loc.line, err.loc.col), err.hint))
        except Exception as exc:  # noqa: BLE001 - reported by the parent as an internal error
            reply = ("crash", f"{type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - a result that cannot be sent is a bug, reported as such
            data = pickle.dumps(("crash", f"cannot send a result back: {type(exc).__name__}: {exc}"))
        _write_all(results_out, struct.pack("q", len(data)) + data)


def _fork_worker(function: Callable[[Any], Any], items: list[Any],
                 workers: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    """A worker forked from this process, serving `items`: (the fd its results come from, its pid, the fd its
    tasks go to). It closes the pipes of the `workers` forked before it, so that each pipe has one reader."""
    tasks_in, tasks_out = os.pipe()
    results_in, results_out = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to be had: these pipes go, the workers already forked are stopped by the caller
        for fd in (tasks_in, tasks_out, results_in, results_out):
            os.close(fd)
        raise
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.close(tasks_out)
            os.close(results_in)
            for fd, (_, other, _) in workers.items():
                os.close(fd)
                os.close(other)
            _serve(function, items, tasks_in, results_out)
            code = 0
        finally:
            os._exit(code)
    os.close(tasks_in)
    os.close(results_out)
    return results_in, pid, tasks_out


def fork_map(function: Callable[[Any], Any], items: list[Any], jobs: int,
             first: Callable[[int], Any] = lambda index: index) -> Iterator[tuple[int, Any]]:
    """(index, function(items[index])) for every item, in the order workers finish them, on `jobs` processes forked
    from this one, which take the items in their order. A TrackproofError raised for an item is raised here once
    every item is done: the error of the item first by `first` (of its index), whatever order they finished in. Any
    other failure of a worker, or a worker that dies, stops the map with an error."""
    sys.stdout.flush()
    sys.stderr.flush()
    workers: dict[int, tuple[int, int, int]] = {}  # results fd -> (pid, tasks fd, item index being worked on)
    try:
        # Objects this process has now are frozen out of garbage collection while the workers fork: otherwise a
        # worker's collector walks them all and, writing to each, copies every page it shares with this process.
        gc.freeze()
        try:
            for _ in range(min(jobs, len(items))):
                results_in, pid, tasks_out = _fork_worker(function, items, workers)
                workers[results_in] = (pid, tasks_out, -1)
        finally:
            gc.unfreeze()
        following = 0
        for fd, (pid, tasks_out, _) in list(workers.items()):
            workers[fd] = (pid, tasks_out, following)
            _write_all(tasks_out, struct.pack("q", following))
            following += 1
        errors: dict[int, tuple[Any, ...]] = {}
        busy = set(workers)
        while busy:
            ready, _, _ = select.select(sorted(busy), [], [])
            for fd in ready:
                pid, tasks_out, index = workers[fd]
                head = _read_exactly(fd, 8)
                data = _read_exactly(fd, struct.unpack("q", head)[0]) if head is not None else None
                if data is None:
                    raise WorkerDied(f"worker process {pid} ended without a result (killed by the system?)")
                status, payload = pickle.loads(data)
                if status == "crash":
                    raise RuntimeError(f"in a worker process: {payload}")
                nxt = following if following < len(items) else -1
                following += nxt >= 0
                workers[fd] = (pid, tasks_out, nxt)
                try:
                    _write_all(tasks_out, struct.pack("q", nxt))
                except BrokenPipeError:
                    raise WorkerDied(f"worker process {pid} ended (killed by the system?)") from None
                if nxt < 0:
                    busy.discard(fd)
                if status == "input":
                    errors[index] = payload
                else:
                    yield index, payload
        if errors:
            code, message, loc, hint = errors[min(errors, key=first)]
            raise TrackproofError(code, message, Loc(*loc), hint)
    finally:
        # Closing its pipe ends a worker's loop (end of file); one still working (the map was abandoned, or another
        # worker failed) is stopped.
        for fd, (pid, tasks_out, index) in workers.items():
            os.close(fd)
            os.close(tasks_out)
            if index >= 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        for pid, _, _ in workers.values():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def parallel_map(function: Callable[[Any], Any], items: list[Any], jobs: int) -> list[Any]:
    """[function(item) for item in items], on up to `jobs` forked processes where that is possible; results in the
    items' order. `function` runs in a child forked from this process, so it may use anything loaded here; what it
    returns must pickle. A TrackproofError raised for an item is raised here, for the first such item."""
    jobs = min(jobs, len(items))
    if jobs <= 1 or not can_fork():
        return [function(item) for item in items]
    out: dict[int, Any] = dict(fork_map(function, items, jobs))
    return [out[i] for i in range(len(items))]


