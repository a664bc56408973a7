"""Proving a claim file on several cores (`check --jobs N`).

Claims are independent, except that the claims sharing a setup are asked together whether they can all hold
(consistency.py), which needs their Z3 regions in one process. So a task is such a group (or a lone claim); tasks go
to worker processes forked after the model and the claims are loaded, largest first, and each sends back its
verdicts without Z3 objects (prove.portable) and its consistency answer. The output does not depend on the number of
workers: every verdict, holds_when and counterexample is chosen canonically from its region (ADR 003), and results
are put back in the claims' order.

Workers are forked (Linux only: fork is the cheap way to share a loaded model, and the platforms where fork is not
the default discourage it); elsewhere, or with one job, the same tasks run in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from .claims import Claim
from .consistency import Consistency, consistency, setup_key
from .errors import Loc, TrackproofError
from .ir import Model
from .prove import Verdict, portable, prove_claim

Result = tuple[list[Verdict], list[Consistency]]  # a task's verdicts (in its order) and consistency answer

_SHARED: list[tuple[Model, list[Claim], int]] = []  # what forked workers inherit: model, claims, examples
_ALSO: list[Callable[[], Any]] = []  # prove_all's `also`, inherited by forked workers


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def tasks(claims: list[Claim]) -> list[list[int]]:
    """Claim indices grouped by setup (consistency asks each group together), largest group first."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, claim in enumerate(claims):
        groups.setdefault(setup_key(claim), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def _prove(model: Model, claims: list[Claim], task: list[int], examples: int) -> Result:
    """A task's verdicts, in the task's order, and its consistency answer. Nothing in it depends on where the
    claims sit in the list (the cache keeps it for the same claims in any order)."""
    verdicts = [prove_claim(model, claims[i], examples) for i in task]
    return verdicts, consistency(model, verdicts)


def _worker(job: tuple[int, list[int]]) -> tuple[int, str, Any]:
    number, task = job
    model, claims, examples = _SHARED[0]
    try:
        verdicts, joint = _prove(model, claims, task, examples)
    except TrackproofError as err:  # bad input found while proving: re-raised as it is in the parent
        return number, "error", (err.code, err.message, tuple(err.loc), err.hint)
    return number, "ok", ([portable(v) for v in verdicts], joint)


def _also() -> Any:
    return _ALSO[0]()


_CALL: list[Callable[[Any], Any]] = []  # parallel_map's function, inherited by its forked workers


def _call(item: Any) -> Any:
    return _CALL[0](item)


def parallel_map(function: Callable[[Any], Any], items: list[Any], jobs: int) -> list[Any]:
    """[function(item) for item in items], on up to `jobs` forked processes where that is possible; results in the
    items' order. `function` runs in a child forked from this process, so it may use anything loaded here; what it
    returns must pickle. A TrackproofError raised for an item is raised here, for the first such item."""
    jobs = min(jobs, len(items))
    if jobs <= 1 or not can_fork():
        return [function(item) for item in items]
    _CALL[:] = [function]
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_call, items))  # map raises the first item's error, in the items' order
    finally:
        _CALL.clear()


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def file_digests(claims: list[Claim]) -> dict[str, str]:
    """The SHA-256 of each claim file's bytes, read once."""
    import hashlib

    out = {}
    for path in dict.fromkeys(c.file for c in claims):
        with open(path, "rb") as handle:
            out[path] = hashlib.sha256(handle.read()).hexdigest()
    return out


def task_key(base: str, claims: list[Claim], task: list[int], digests: dict[str, str]) -> str:
    """What a task's results depend on besides `base` (the model and the engine): its claims, parsed, and the bytes
    of their files (a comment or a reading changes nothing in the parsed claim but is shown in the output)."""
    files = sorted({claims[i].file for i in task})
    return "\n".join([base, *(f"{path}:{digests[path]}" for path in files), *(repr(claims[i]) for i in task)])


def prove_all(model: Model, claims: list[Claim], jobs: int, also: Callable[[], Any] | None = None,
              on_done: Callable[[Claim], None] | None = None,
              key: str | None = None, examples: int = 1) -> tuple[list[Verdict], list[Consistency], Any]:
    """Every claim's verdict (in the claims' order), the consistency of each group that shares a setup (in the
    order of the group's first claim), and what `also` returned. `also` is one more task (the model check), run
    before any proof in a process that has run nothing else: the first task of a worker, or of this process when
    there are no workers, so its Z3 state is the same either way; what it returns must pickle. With a cache `key`
    (cache.py), a task whose claims are unchanged is not proved again. `examples`: counterexamples per violated
    claim (prove_claim)."""
    from . import cache

    results: dict[int, Result] = {}  # task number -> its result
    work = tasks(claims)
    digests = file_digests(claims) if key is not None else {}
    keys: list[str | None] = [task_key(f"{key}\nexamples={examples}", claims, task, digests) if key is not None
                              else None for task in work]

    def done(number: int, result: Result, fresh: bool) -> None:
        results[number] = result
        tkey = keys[number]
        if fresh and tkey is not None:
            cache.store("check", tkey, result)
        for i in work[number]:
            if on_done is not None:
                on_done(claims[i])

    todo = []
    for number, tkey in enumerate(keys):
        found = cache.load("check", tkey) if tkey is not None else None
        if isinstance(found, tuple) and len(found) == 2 and len(found[0]) == len(work[number]):
            done(number, found, False)
        else:
            todo.append(number)
    extra = None
    jobs = min(jobs, len(todo) + (also is not None))
    if jobs <= 1 or not can_fork():
        extra = also() if also is not None else None
        for number in sorted(todo, key=lambda n: work[n][0]):  # claim order: bad input stops at the first claim
            verdicts, joint = _prove(model, claims, work[number], examples)
            done(number, ([portable(v) for v in verdicts] if keys[number] is not None else verdicts, joint), True)
    else:
        _SHARED[:] = [(model, claims, examples)]
        _ALSO[:] = [also] if also is not None else []
        errors: dict[int, tuple[Any, ...]] = {}
        try:
            # An executor rather than a Pool: if the system kills a worker, the run stops with BrokenProcessPool
            # (an internal error, exit 4) instead of waiting for a result that will never come. Workers take tasks
            # in the order submitted: `also` first (so it is the first task of its worker), then the largest groups.
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                first = pool.submit(_also) if also is not None else None
                futures = [pool.submit(_worker, (n, work[n])) for n in todo]
                for future in as_completed(futures):
                    number, status, payload = future.result()
                    if status == "error":
                        errors[number] = payload
                    else:
                        done(number, payload, True)
                extra = first.result() if first is not None else None
        finally:
            _SHARED.clear()
            _ALSO.clear()
        if errors:  # the error of the first claim, whatever order the workers finished in
            code, message, loc, hint = errors[min(errors, key=lambda n: work[n][0])]
            raise TrackproofError(code, message, Loc(*loc), hint)
    by_index = {i: v for number, (verdicts, _) in results.items() for i, v in zip(work[number], verdicts, strict=True)}
    verdicts = [by_index[i] for i in range(len(claims))]
    index = {c.id: i for i, c in enumerate(claims)}
    joint = sorted((c for _, js in results.values() for c in js), key=lambda c: min(index[cid] for cid in c.claims))
    return [v._replace(claim=claims[i]) for i, v in enumerate(verdicts)], joint, extra
