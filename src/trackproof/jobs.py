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
from collections.abc import Callable, Iterator
from typing import Any

from .claims import Claim
from .consistency import Consistency, consistency, setup_key
from .errors import Loc, TrackproofError
from .ir import Model
from .prove import Verdict, portable, prove_claim

Result = tuple[list[tuple[int, Verdict]], list[Consistency]]

_SHARED: list[tuple[Model, list[Claim], int]] = []  # what forked workers inherit: model, claims, examples


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
    verdicts = [prove_claim(model, claims[i], examples) for i in task]
    return list(zip(task, verdicts, strict=True)), consistency(model, verdicts)


def _worker(task: list[int]) -> tuple[str, Any]:
    model, claims, examples = _SHARED[0]
    try:
        proved, joint = _prove(model, claims, task, examples)
    except TrackproofError as err:  # bad input found while proving: re-raised as it is in the parent
        return "error", (err.code, err.message, tuple(err.loc), err.hint)
    return "ok", ([(i, portable(v)) for i, v in proved], joint)


def can_fork() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def task_key(base: str, claims: list[Claim], task: list[int]) -> str:
    """What a task's results depend on besides `base` (the model and the engine): its claims, parsed, and the bytes
    of their files (a comment or a reading changes nothing in the parsed claim but is shown in the output)."""
    import hashlib

    files = sorted({claims[i].file for i in task})
    digests = []
    for path in files:
        with open(path, "rb") as handle:
            digests.append(f"{path}:{hashlib.sha256(handle.read()).hexdigest()}")
    return "\n".join([base, *digests, *(repr(claims[i]) for i in task)])


def prove_all(model: Model, claims: list[Claim], jobs: int, meanwhile: Callable[[], Any] | None = None,
              on_done: Callable[[Claim], None] | None = None,
              key: str | None = None, examples: int = 1) -> tuple[list[Verdict], list[Consistency], Any]:
    """Every claim's verdict (in the claims' order), the consistency of each group that shares a setup (in the
    order of the group's first claim), and what `meanwhile` returned (run in this process while the workers
    prove; before any proof when there are none, so its Z3 state is the same either way). With a cache `key`
    (cache.py), a task whose claims are unchanged is not proved again. `examples`: counterexamples per violated
    claim (prove_claim)."""
    from . import cache

    results: list[Result] = []
    work: list[tuple[list[int], str | None]] = []
    for task in tasks(claims):
        tkey = task_key(f"{key}\nexamples={examples}", claims, task) if key is not None else None
        found = cache.load("check", tkey) if tkey is not None else None
        if found is not None:
            results.append(found)
            for i in task:
                if on_done is not None:
                    on_done(claims[i])
        else:
            work.append((task, tkey))

    def finish(result: Result, tkey: str | None) -> None:
        results.append(result)
        if tkey is not None:
            cache.store("check", tkey, result)
        for i, _ in result[0]:
            if on_done is not None:
                on_done(claims[i])

    extra = None
    jobs = min(jobs, len(work))
    if jobs <= 1 or not can_fork():
        extra = meanwhile() if meanwhile is not None else None
        for task, tkey in work:
            proved, joint = _prove(model, claims, task, examples)
            finish(([(i, portable(v)) for i, v in proved] if tkey is not None else proved, joint), tkey)
    else:
        _SHARED[:] = [(model, claims, examples)]
        keys = {tuple(task): tkey for task, tkey in work}
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                pending: Iterator[tuple[str, Any]] = pool.imap_unordered(_worker, [t for t, _ in work], chunksize=1)
                extra = meanwhile() if meanwhile is not None else None
                for status, payload in pending:
                    if status == "error":
                        code, message, loc, hint = payload
                        raise TrackproofError(code, message, Loc(*loc), hint)
                    finish(payload, keys[tuple(i for i, _ in payload[0])])
        finally:
            _SHARED.clear()
    by_index = {i: v for proved, _ in results for i, v in proved}
    verdicts = [by_index[i] for i in range(len(claims))]
    index = {c.id: i for i, c in enumerate(claims)}
    joint = sorted((c for _, js in results for c in js), key=lambda c: min(index[cid] for cid in c.claims))
    return [v._replace(claim=claims[i]) for i, v in enumerate(verdicts)], joint, extra
