"""What a verdict rests on that the documentation leaves open: the readings of disputed points, and the defaults the
documentation is unsure of.

A claim is decided under the default reading of every disputed point (model/readings.yaml): its rule paths (a
universe claim's exploration, prove/reach.py) range over the readings like settings, so the same regions answer,
for each reading a run read, what the verdict would be under that reading (every other at its default): "depends on
R91: under gates_filters proved, under header_only violated". Likewise "under Dynamics 365's defaults" rests on
each uncertain default (confidence M or L) whose change alone would change that answer: the verdict says it assumes
them. Each answer is one satisfiability query on the regions the proof already has; nothing here enumerates rule
paths or explores worlds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from ..spec.claims import Setting
from ..spec.ir import Model
from .regions import domain
from .scope import Space
from .z3api import SAT, UNSAT, add, check, new_solver

READING = "reading"


@dataclass(frozen=True)
class ReadingVerdict:
    """The verdict under each reading of one disputed point, every other point at its default reading."""

    point: str
    default: str
    verdicts: tuple[tuple[str, str, bool | None], ...]  # (reading, verdict, holds under Dynamics 365's defaults)

    @property
    def depends(self) -> bool:
        """Whether some reading gives another verdict, or another answer under the defaults, than the default."""
        answers = {(v, d) for _, v, d in self.verdicts}
        return len(answers) > 1


@dataclass(frozen=True)
class Assumption:
    """An uncertain default the answer under Dynamics 365's defaults rests on: with another value instead (every
    other setting at its default) the answer is another one ("holds", "fails", or "impossible": the premise
    cannot happen)."""

    setting: str
    value: Any
    confidence: str
    otherwise: tuple[tuple[Any, str], ...]  # (value, the answer with it)


def default_readings(space: Space) -> list[z3.BoolRef]:
    """`reading == its default` for every disputed point the claim leaves free."""
    return [space.equals(s, space.defaults[s]) for s in space.vars if s[0] == READING]


def _solver(base: list[z3.BoolRef], region: z3.BoolRef) -> z3.Solver:
    solver = new_solver()
    add(solver, [*base, region])
    return solver


def readings(model: Model, space: Space, base: list[z3.BoolRef], good: z3.BoolRef, bad: z3.BoolRef,
             happens: tuple[z3.BoolRef, ...] = ()) -> tuple[ReadingVerdict, ...]:
    """For each disputed point some run read, the verdict under each of its readings. `base`: the scope, readings
    free; `good`, `bad`: where the claim holds, and does not, among the feasible runs. `happens`: for a universe
    claim, the regions that must each be non-empty for it to say anything (its prefix completes, its guard is
    reached: prove/behaviours.py); under a reading that empties one it is vacuous, whatever `bad` holds."""
    points = [s for s in space.vars if s[0] == READING and s in space.read]
    if not points:
        return ()
    inside, outside = _solver(base, good), _solver(base, bad)
    scope = _solver(base, z3.BoolVal(True))
    settings = [space.equals(s, v) for s, v in space.defaults.items() if s[0] != READING and s[1] != "kind"]
    out = []
    for point in points:
        others = [space.equals(q, space.defaults[q]) for q in space.vars if q[0] == READING and q != point]
        verdicts = []
        for choice in model.readings[point[1]].choices:
            chosen = [*others, space.equals(point, choice)]
            if any(check(scope, *chosen, region) == UNSAT for region in happens):
                verdict = "vacuous"
            elif check(outside, *chosen) == SAT:
                verdict = "violated"
            elif check(inside, *chosen) == SAT:
                verdict = "proved"
            else:
                verdict = "vacuous"
            at_defaults = None if verdict == "vacuous" else check(outside, *chosen, *settings) == UNSAT
            verdicts.append((choice, verdict, at_defaults))
        out.append(ReadingVerdict(point[1], str(space.defaults[point]), tuple(verdicts)))
    return tuple(out)


def reading_confidence(model: Model, dependence: tuple[ReadingVerdict, ...], level: str) -> str:
    """A verdict that another reading would change is no surer than the default reading it rests on."""
    levels = [level, *(model.readings[d.point].choices[d.default].confidence for d in dependence if d.depends)]
    return min(levels, key="LMH".index)


def _uncertain(model: Model, space: Space, setting: Setting) -> str | None:
    """The confidence of `setting`'s default when it is below H (None otherwise)."""
    attr = space.attrs[setting]
    participant = space.claim.scenario.participants.get(setting[0])
    level = attr.confidence_for(participant.kind if participant is not None else None)
    return level if level != "H" else None


def _answer(scope: z3.Solver, inside: z3.Solver, outside: z3.Solver, point: list[z3.BoolRef]) -> str | None:
    """holds, fails or impossible (the premise cannot happen) at `point`; None when the point is out of scope (the
    vocabulary's constraints or the claim's assumption exclude it)."""
    if check(inside, *point) == SAT:
        return "holds"
    if check(outside, *point) == SAT:
        return "fails"
    return "impossible" if check(scope, *point) == SAT else None


def assumptions(model: Model, space: Space, base: list[z3.BoolRef], inside: z3.Solver, outside: z3.Solver,
                read: set[Setting]) -> tuple[Assumption, ...]:
    """The uncertain defaults the answer under the defaults rests on: those the run under the defaults read to
    decide (`read`, as `trackproof run` lists them), each with what changing it alone does to that answer (whether
    the claim holds there, or whether its premise can happen at all; nothing, when another setting must change
    too). `base`: the scope (default readings); `inside`, `outside`: the scope with where the claim holds (and can
    happen), and where it does not."""
    scope = new_solver()
    add(scope, base)
    defaults = [space.equals(q, v) for q, v in space.defaults.items() if q[1] != "kind"]
    answer = _answer(scope, inside, outside, defaults)
    out = []
    for s in space.vars:
        if s[0] == READING or s[1] == "kind" or s not in read:
            continue
        level = _uncertain(model, space, s)
        if level is None:
            continue
        rest = [space.equals(q, v) for q, v in space.defaults.items() if q != s and q[1] != "kind"]
        others = []
        for value in domain(model, space, s):
            if value != space.defaults[s]:
                found = _answer(scope, inside, outside, [*rest, space.equals(s, value)])
                if found is not None and found != answer:
                    others.append((value, found))
        out.append(Assumption(space.label(s), space.defaults[s], level, tuple(others)))
    return tuple(out)
