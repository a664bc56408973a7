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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from ..parallel import can_fork, fork_map
from ..simulate.state import MailState
from ..spec.scenario import Event
from .portable import Packer, Unpacker
from .steps import GaveUp, Stepper, StepRun
from .z3api import add, all_of

#: Fewer steps than this in a level are asked in this process: forking and sending results back cost more.
LEAST_FOR_WORKERS = 48
#: Chunks per worker: enough that a worker with costly steps does not leave the others waiting at the end.
CHUNKS_PER_WORKER = 4


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


def ask_one(stepper: Stepper, item: Expanding) -> Steps:
    """The rule paths of every event of one expansion, asked in this process."""
    stepper.solver.push()
    try:
        add(stepper.solver, [item.part])
        return [stepper.step(item.state, item.where, event, item.known) for event in item.events]
    finally:
        stepper.solver.pop()


def ask_level(stepper: Stepper, level: list[Expanding], jobs: int,
              is_new: Callable[[int, Event, tuple[Any, ...]], bool]) -> list[Steps]:
    """The steps of every expansion of a level, in the level's order. `is_new(i, event, key)`: whether the world
    `key` the event leads to from expansion i may be one the exploration has not reached (its mail is then sent
    back from a worker)."""
    count = sum(len(item.events) for item in level)
    if jobs <= 1 or count < LEAST_FOR_WORKERS or not can_fork():
        return [ask_one(stepper, item) for item in level]
    chunks = _chunks(level, jobs * CHUNKS_PER_WORKER)

    def work(chunk: tuple[int, int]) -> tuple[Any, ...]:  # pragma: no cover - runs in the workers
        packer = Packer()
        try:
            packed = [_pack(packer, i, level[i].events, ask_one(stepper, level[i]), is_new)
                      for i in range(*chunk)]
        except GaveUp as stop:
            return ("gave up", str(stop))
        return ("ok", packer.nodes, packed, frozenset(stepper.space.read))

    out: list[Steps] = [[] for _ in level]
    answers = dict(fork_map(work, chunks, jobs))
    for number, chunk in enumerate(chunks):
        answer = answers[number]
        if answer[0] == "gave up":
            raise GaveUp(answer[1])
        _, nodes, packed, read = answer
        stepper.space.read |= read
        unpacker = Unpacker(nodes)
        for i, steps in zip(range(*chunk), packed, strict=True):
            out[i] = [[_unpack(unpacker, run) for run in runs] for runs in steps]
    return out


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


def _pack(packer: Packer, i: int, events: tuple[Event, ...], steps: Steps,
          is_new: Callable[[int, Event, tuple[Any, ...]], bool]) -> list[list[tuple[Any, ...]]]:
    out = []
    for event, runs in zip(events, steps, strict=True):
        packed = []
        for run in runs:
            new = run.feasible and run.key is not None and is_new(i, event, run.key)
            packed.append((tuple(packer.pack(p) for p in run.pins), run.feasible, run.key,
                           run.state() if new else None, run.outcomes() if new else None,
                           run.definitions, run.rules))
        out.append(packed)
    return out


def _unpack(unpacker: Unpacker, packed: tuple[Any, ...]) -> StepRun:
    pins_at, feasible, key, mail, after, definitions, rules = packed
    pins = tuple(unpacker.formula(p) for p in pins_at)
    return StepRun(all_of(list(pins)), pins, feasible, key, None, definitions, rules, mail, after)
