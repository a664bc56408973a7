"""Behaviour classes of one explored story, and the one scenario each is shown by (DESIGN.md, "Missed scenarios from
exploration").

A *situation* is the sequence of a story's own events (messages and manual actions; sync cycles and Outlook starting
are time passing, not part of it). A world reached by time passing (a sync, Outlook starting) ends a situation; a
**class** is a situation with the whole outcome of every message at its end (stored, status, direction, who
accepted, Regarding, correlated to) and the rules that fired for each message (the transitions taken: "stored by
the filter" and "stored by App for Outlook" are two classes, even with the same outcome). Its settings are those
under which some sequence of the situation ends there.

A class is shown only where the situation's own last event changes the outcome: its settings minus those under which
the situation without that event already ends in the same outcome. A class where it never does (tracking an email
the filter had stored already; deleting an activity that never existed) teaches nothing of that event and is left
out (counted). A class is covered when some member matches a claim's premise (DESIGN.md): the same situation
(participants by name and kind) under settings the claim's scope allows ("Pending Send when X's mailbox is not
approved" is a class SSS-1, which fixes approval, does not cover). Situations are the first message and at most
one more own event (MAX_OWN).

The scenario of a class: the settings closest to the claims' setups (each setup on top of the documented defaults;
the setup with the fewest changes wins, then the first), then the shortest sequence of the class under them, replayed
through the simulator: its outcome is checked to be the class's, so that `run` replays it to the same outcome.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import z3

from ..prove.behaviours import replay
from ..prove.reach import Arrival, Exploration, Node
from ..prove.regions import closest
from ..prove.setup import Setup
from ..prove.z3api import SAT, add, all_of, any_of, check, neg, new_solver
from ..simulate.outcomes import Outcome
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from ..spec.scenario import Event

SETTLE = ("sync", "outlook_start", "outlook_stop")
#: The most own events of a situation shown: the first message and one thing done with it (reply or action).
MAX_OWN = 2
#: The outcome fields a class is folded by: the whole outcome.
FIELDS = ("stored", "status", "direction", "accepted_by", "regarding", "correlated_to")

Situation = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
Whole = tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class Lesson:
    """One class no claim covers, shown by one scenario."""

    situation: Situation
    outcome: Whole
    rules: tuple[str, ...]
    events: tuple[Event, ...]  # the scenario's events, replayed
    settings: dict[Setting, Any]  # every free setting of the scenario
    changed: dict[Setting, Any]  # those that differ from its setup
    setup: int  # the index of the setup it is closest to
    outcomes: dict[str, Outcome]  # the replayed outcomes


@dataclass(frozen=True)
class StoryClasses:
    classes: int
    covered: int
    no_effect: int  # classes where the situation's last event never changes the outcome
    lessons: list[Lesson]


def whole(outcomes: dict[str, Outcome]) -> Whole:
    return tuple((k, tuple(getattr(o, f) for f in FIELDS)) for k, o in sorted(outcomes.items()))


def _rules(outcomes: dict[str, Outcome]) -> tuple[str, ...]:
    """The rules that fired (the lifecycle's transitions taken), per message: what decided the outcome."""
    return tuple(sorted({f"{k}:{st.rule}" for k, o in outcomes.items() for st in o.steps if st.rule}))


def event_key(e: Event) -> tuple[str, tuple[tuple[str, Any], ...]]:
    params = {k: v for k, v in e.params.items() if k != "id"}
    if e.kind == "send":
        params.setdefault("via", "outside")
    if e.kind == "track":
        params.setdefault("via", "app_for_outlook")
    return e.kind, tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


def situation_of(events: list[Event] | tuple[Event, ...]) -> Situation:
    return tuple(event_key(e) for e in events if e.kind not in SETTLE)


def _first_chain(arrival: Arrival) -> list[Event]:
    """The events of one shortest sequence to `arrival` (each step's first arrival)."""
    out: list[Event] = []
    current: Arrival | None = arrival
    while current is not None and current.event is not None:
        out.append(current.event)
        current = current.parent.arrivals[0] if current.parent is not None else None
    return list(reversed(out))


def _contains(setup: Setup, formula: z3.BoolRef, settings: dict[Setting, Any]) -> bool:
    space = setup.space
    pairs = [(space.vars[s], space.const(v, space.attrs[s].type)) for s, v in settings.items() if s in space.vars]
    return bool(z3.is_true(z3.simplify(z3.substitute(formula, *pairs))))


def _chain(setup: Setup, arrival: Arrival, settings: dict[Setting, Any]) -> list[Event]:
    """The events that lead to `arrival` under `settings`."""
    out: list[Event] = []
    current: Arrival | None = arrival
    while current is not None and current.event is not None:
        out.append(current.event)
        parent = current.parent
        current = None if parent is None else next(a for a in parent.arrivals if _contains(setup, a.part, settings))
    return list(reversed(out))


def premise_key(claim: Claim) -> Situation:
    return situation_of(claim.scenario.events)


def classes_of(model: Model, story: Claim, setup: Setup, found: Exploration, claims: list[Claim],
               setups: list[dict[Setting, Any]]) -> StoryClasses:
    """The classes of one story's exploration, those no claim covers each with its scenario (module docstring)."""
    groups: dict[tuple[Situation, Whole, tuple[str, ...]], list[tuple[Node, Arrival]]] = {}
    for node in found.nodes:
        ends = [a for a in node.arrivals if a.event is not None and a.event.kind in SETTLE]
        if not ends:
            continue
        key_rest = (whole(node.outcomes), _rules(node.outcomes))
        for a in ends:
            situation = situation_of(_first_chain(a))
            if len(situation) <= MAX_OWN:
                groups.setdefault((situation, *key_rest), []).append((node, a))
    by_outcome: dict[tuple[Situation, Whole], list[z3.BoolRef]] = {}
    for (situation, outcome, _), members in groups.items():
        by_outcome.setdefault((situation, outcome), []).extend(a.part for _, a in members)
    solver = new_solver()
    add(solver, list(setup.base))
    covered = no_effect = 0
    lessons: list[Lesson] = []
    for (situation, outcome, rules), members in sorted(groups.items(), key=lambda item: repr(item[0])):
        region = any_of([a.part for _, a in members])
        if len(situation) > 1:  # where the last event changes the outcome
            before = by_outcome.get((situation[:-1], outcome), [])
            region = all_of([region, neg(any_of(before))]) if before else region
            if check(solver, region) != SAT:
                no_effect += 1
                continue
        theirs = [_fixed(setup, c) for c in claims if premise_key(c) == situation]
        if theirs and check(solver, any_of([a.part for _, a in members]), any_of(theirs)) == SAT:
            covered += 1  # some member matches a claim's premise within its scope
            continue
        lessons.append(_lesson(model, story, setup, setups, situation, outcome, rules, members, region))
    return StoryClasses(len(groups), covered, no_effect, lessons)


def _fixed(setup: Setup, claim: Claim) -> z3.BoolRef:
    """The settings a claim's scope allows, over the story's settings (a setting the story does not have is
    ignored: the claim's premise names it)."""
    space = setup.space
    return all_of([space.equals(s, v) for s, v in claim.fixed.items() if s in space.vars])


def _closest(model: Model, setup: Setup, region: z3.BoolRef,
             setups: list[dict[Setting, Any]]) -> tuple[int, dict[Setting, Any], dict[Setting, Any]]:
    """The settings of `region` closest to one of the setups: (the setup's index, the settings, the changes)."""
    best: tuple[int, dict[Setting, Any], dict[Setting, Any]] | None = None
    for index, fixed in enumerate(setups):
        space = copy.copy(setup.space)
        space.defaults = {**setup.space.defaults, **{s: v for s, v in fixed.items() if s in space.vars}}
        settings = closest(model, space, [*setup.base, region])
        changed = {s: v for s, v in settings.items() if space.defaults.get(s) != v}
        if best is None or len(changed) < len(best[2]):
            best = (index, settings, changed)
    assert best is not None
    return best


def _lesson(model: Model, story: Claim, setup: Setup, setups: list[dict[Setting, Any]], situation: Situation,
            outcome: Whole, rules: tuple[str, ...], members: list[tuple[Node, Arrival]],
            region: z3.BoolRef) -> Lesson:
    index, settings, changed = _closest(model, setup, region, setups)
    here = [(a.depth, i) for i, (_, a) in enumerate(members) if _contains(setup, a.part, settings)]
    assert here, "the closest settings of a class reach one of its worlds"
    _, at = min(here)
    events = tuple(_chain(setup, members[at][1], settings))
    outcomes = replay(model, story, settings, events)
    if whole(outcomes) != outcome:  # pragma: no cover - the exploration and the simulator disagree: a bug
        raise AssertionError(f"the scenario of a class does not replay to its outcome: {events}")
    return Lesson(situation, outcome, rules, events, settings, changed, index, outcomes)
