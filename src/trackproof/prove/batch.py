"""Proving many claims: grouped by setup (the claims asked together whether they can all hold), the costliest group
first, on forked worker processes (parallel.py), with the results cache (cache.py); results in the claims' order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..inputs import MAX_YAML_BYTES
from ..parallel import can_fork, fork_map
from ..spec.claims import Claim
from ..spec.ir import Model
from .consistency import Consistency, consistency, setup_key
from .records import Verdict
from .verdict import prove_claim


@dataclass(frozen=True)
class TaskResult:
    """A task's verdicts (in the task's order) and the consistency of its claims: what a worker sends back and the
    results cache keeps (no Z3 objects)."""

    verdicts: list[Verdict]
    consistency: list[Consistency]


def weight(claim: Claim) -> int:
    """A rough guess of what proving `claim` costs, only to hand out the costliest tasks first (so that no worker
    is left with a long one at the end): rule paths multiply with the mailboxes on the message (each brings its
    own settings) and with the events. Measured on the shipped claims it orders them as their times do."""
    mailboxes = sum(1 for p in claim.scenario.participants.values() if p.kind in ("user", "queue"))
    return max(1, mailboxes) ** 2 * len(claim.scenario.events)


def tasks(claims: list[Claim]) -> list[list[int]]:
    """Claim indices grouped by setup (consistency asks each group together), the costliest first (weight)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, claim in enumerate(claims):
        groups.setdefault(setup_key(claim), []).append(i)
    return sorted(groups.values(), key=lambda g: (-sum(weight(claims[i]) for i in g), g[0]))


def _prove(model: Model, claims: list[Claim], task: list[int], examples: int, jobs: int = 1) -> TaskResult:
    """A task's verdicts, in the task's order, and its consistency answer. Nothing in it depends on where the
    claims sit in the list (the cache keeps it for the same claims in any order), nor on `jobs` (the processes a
    universe claim's exploration may use)."""
    proofs = [prove_claim(model, claims[i], examples, jobs=jobs) for i in task]
    return TaskResult([p.verdict for p in proofs], consistency(model, proofs))


def file_digests(claims: list[Claim]) -> dict[str, str]:
    """The SHA-256 of each claim file's bytes, read once."""
    import hashlib

    from ..inputs import read_bytes

    return {path: hashlib.sha256(read_bytes(path, MAX_YAML_BYTES)).hexdigest()
            for path in dict.fromkeys(c.file for c in claims)}


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
    from .. import cache

    results: dict[int, TaskResult] = {}  # task number -> its result
    work = tasks(claims)
    digests = file_digests(claims) if key is not None else {}
    keys: list[str | None] = [task_key(f"{key}\nexamples={examples}", claims, task, digests) if key is not None
                              else None for task in work]

    def done(number: int, result: TaskResult, fresh: bool) -> None:
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
        if isinstance(found, TaskResult) and len(found.verdicts) == len(work[number]):
            done(number, found, False)
        else:
            todo.append(number)
    extra = None
    # one task alone has the cores to itself: a universe claim's exploration uses them (prove/levels.py)
    inner = jobs if len(todo) == 1 and also is None and can_fork() else 1
    jobs = min(jobs, len(todo) + (also is not None))
    if jobs <= 1 or not can_fork():
        extra = also() if also is not None else None
        for number in sorted(todo, key=lambda n: work[n][0]):  # claim order: bad input stops at the first claim
            done(number, _prove(model, claims, work[number], examples, inner), True)
    else:
        # `also` first, so that it is the first task of its worker; then the groups, costliest first.
        items: list[int | None] = ([None] if also is not None else []) + todo

        def run(item: int | None) -> Any:
            if item is None:
                assert also is not None
                return also()
            return _prove(model, claims, work[item], examples)

        # bad input: the error of the first claim, whatever order the workers finished in
        def claim_order(position: int) -> int:
            item = items[position]
            return -1 if item is None else work[item][0]

        for position, payload in fork_map(run, items, jobs, claim_order):
            item = items[position]
            if item is None:
                extra = payload
            else:
                done(item, payload, True)
    by_index = {i: v for number, result in results.items()
                for i, v in zip(work[number], result.verdicts, strict=True)}
    verdicts = [by_index[i] for i in range(len(claims))]
    place = {c.id: i for i, c in enumerate(claims)}
    joint = sorted((c for result in results.values() for c in result.consistency),
                   key=lambda c: min(place[cid] for cid in c.claims))
    return [replace(v, claim=claims[i]) for i, v in enumerate(verdicts)], joint, extra
