"""The steps of one level of the exploration (every expansion at one depth), asked on several cores.

The exploration (reach.py) is breadth first: the steps of the expansions at one depth depend only on what the
levels before them reached (each expansion's world, the settings that reach it), not on one another, so they can
be asked in any order and in any process; what they lead to is then recorded in the level's order, in this
process, so the graph is the one a single process builds. A level with enough steps is cut into chunks of
expansions that workers forked from this process (parallel.py) ask: a worker has the whole exploration so far, Z3's
terms included, and sends back the rule paths it found, their formulas as plain data (portable.py) and the worlds
they lead to where those may be new. What the runs learnt on the way (the settings they read, which make the next
runs take those from Z3's proposals) comes back too. Which process asked a step changes nothing in what it found:
its rule paths are the settings' classes of the decisions the event makes, whatever settings Z3 proposed first
(ADR 016 measures it; the tests compare one process with two).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import z3

from ..parallel import can_fork, fork_map
from ..simulate.state import MailState
from ..spec.scenario import Event
from .portable import Packer, Unpacker
from .steps import GaveUp, Stepper, StepRun
from .z3api import add, all_of, neg

#: Fewer steps than this in a level are asked in this process: forking and sending results back cost more.
LEAST_FOR_WORKERS = 48
#: Chunks per worker: enough that a worker with costly steps does not leave the others waiting at the end. The
#: cost of an expansion varies a hundredfold within a level (worlds with more messages have many more rule paths,
#: and the costly ones come together): with 4 chunks per worker, the last chunk of a level of {X, Y, Q, C, 2
#: messages} took 88 s while the others took 15-22 s.
CHUNKS_PER_WORKER = 32


@dataclass(frozen=True)
class Expanding:
    """One expansion to ask about: its world, the settings that reach it (asserted while its events are asked),
    the pins known to hold for all of them, and the events the alphabet allows there."""

    state: MailState
    where: tuple[Any, ...]
    part: z3.BoolRef
    known: frozenset[int]
    events: tuple[Event, ...]


Steps = list[list[StepRun]]  # per event of an expansion, its rule paths


def ask_one(stepper: Stepper, item: Expanding,
            reached: Callable[[Event, tuple[Any, ...]], z3.BoolRef | None] | None = None) -> Steps:
    """The rule paths of every event of one expansion. With `reached` (the settings that reach the world a path
    leads to, None where none yet), each path to a world reached already is marked with whether its settings bring
    it any new ones (`anew`): asked here, with the expansion's settings asserted, so that the process that records
    it need not ask again (unless it added to that world's settings since)."""
    stepper.solver.push()
    try:
        add(stepper.solver, [item.part])
        steps = [stepper.step(item.state, item.where, event, item.known) for event in item.events]
        if reached is not None:
            for event, runs in zip(item.events, steps, strict=True):
                for run in runs:
                    # a renamed world's settings are renamed when recorded (reach.py): asked there
                    before = reached(event, run.key) if run.feasible and run.key is not None and not run.renaming \
                        else None
                    if before is not None:
                        run.anew = stepper.reaches(all_of([item.part, run.condition, neg(before)]))
        return steps
    finally:
        stepper.solver.pop()


def ask_level(stepper: Stepper, level: list[Expanding], jobs: int,
              reached: Callable[[int, Event, tuple[Any, ...]], z3.BoolRef | None]) -> Iterator[Steps]:
    """The steps of every expansion of a level, in the level's order, each as soon as it is known (the caller
    records the first chunks while workers still ask the later ones). `reached(i, event, key)`: the settings that
    reach the world `key` the event leads to from expansion i, or None where the exploration has not reached it.
    A worker sends back the mail of a world that may be new; of one reached already, whether the path's settings
    are all among those that reach it (then they reach nothing anew there, whatever this level adds to them)."""
    count = sum(len(item.events) for item in level)
    if jobs <= 1 or count < LEAST_FOR_WORKERS or not can_fork():
        for item in level:
            yield ask_one(stepper, item)
        return
    chunks = _chunks(level, jobs * CHUNKS_PER_WORKER)

    def work(chunk: tuple[int, int]) -> tuple[Any, ...]:  # pragma: no cover - runs in the workers
        packer = Packer()
        try:
            packed = [_pack(packer, i, level[i], ask_one(stepper, level[i], functools.partial(reached, i)),
                            reached) for i in range(*chunk)]
        except GaveUp as stop:
            return ("gave up", str(stop))
        return ("ok", packer.nodes, packed, frozenset(stepper.space.read))

    answers: dict[int, tuple[Any, ...]] = {}
    following = 0  # the next chunk to give, in the level's order
    for number, answer in fork_map(work, chunks, jobs):
        answers[number] = answer
        while following in answers:
            yield from _read(stepper, answers.pop(following))
            following += 1


def _read(stepper: Stepper, answer: tuple[Any, ...]) -> Iterator[Steps]:
    """A worker's answer for one chunk: its expansions' steps, with Z3's terms read back."""
    if answer[0] == "gave up":
        raise GaveUp(answer[1])
    _, nodes, packed, read = answer
    stepper.space.read |= read
    unpacker = Unpacker(nodes)
    for steps in packed:
        yield [[_unpack(unpacker, run) for run in runs] for runs in steps]


def _chunks(level: list[Expanding], wanted: int) -> list[tuple[int, int]]:
    """The level cut into at most `wanted` runs of consecutive expansions with about as many events each."""
    total = sum(len(item.events) for item in level)
    size = max(1, -(-total // wanted))
    out: list[tuple[int, int]] = []
    start, events = 0, 0
    for i, item in enumerate(level):
        events += len(item.events)
        if events >= size:
            out.append((start, i + 1))
            start, events = i + 1, 0
    if start < len(level):
        out.append((start, len(level)))
    return out


def _pack(packer: Packer, i: int, item: Expanding, steps: Steps,
          reached: Callable[[int, Event, tuple[Any, ...]], z3.BoolRef | None]) -> list[list[tuple[Any, ...]]]:
    out = []
    for event, runs in zip(item.events, steps, strict=True):
        packed = []
        for run in runs:
            new = run.feasible and run.key is not None and reached(i, event, run.key) is None
            packed.append((tuple(packer.pack(p) for p in run.pins), run.feasible, run.key,
                           run.state() if new else None, run.outcomes() if new else None,
                           run.definitions, run.rules, run.anew, run.renaming))
        out.append(packed)
    return out


def _unpack(unpacker: Unpacker, packed: tuple[Any, ...]) -> StepRun:
    pins_at, feasible, key, mail, after, definitions, rules, anew, renaming = packed
    pins = tuple(unpacker.formula(p) for p in pins_at)
    return StepRun(all_of(list(pins)), pins, feasible, key, None, definitions, rules, mail, after, anew, renaming)
