"""Behaviour classes of one explored story, and the one scenario each is shown by (DESIGN.md, "Missed scenarios from
exploration").

A *situation* is the sequence of a story's own events (messages and manual actions; sync cycles and Outlook starting
are time passing, not part of it). A situation *rests* in a world where a sync then finds nothing to do (App for
Outlook tracks at once; an email sent from Dynamics 365 by a mailbox that is not approved stays Pending Send; an
email received waits for no one); a world at the exploration's last depth is not expanded, and one reached there by
a sync is taken to rest. A **class** is a situation with the whole outcome of every message where it rests (stored,
status, direction, who accepted or tracked it, Regarding, correlated to: `FIELDS`), and nothing else (the rules
that got there are not part of the world, so keying by them would depend on which sequence reached it
first; "Pending Send: the mailbox is not approved" and "Pending Send: Outlook is not running" are told apart by
coverage, below). Its settings are those under which some sequence of the situation rests there: a world's first
arrivals are split by the situations of the sequences that led to them (several can join at one world), so that a
class never borrows another situation's settings and nothing depends on the order worlds were reached in.

A class is shown only where the situation's own last event changes the outcome: its settings minus those under which
the situation without that event already rests in the same outcome. A class where it never does (tracking an email
the filter had stored already; deleting an activity that never existed) teaches nothing of that event and is left
out (counted). A class is covered when a claim reaches it (DESIGN.md): a fixed-premise claim whose events are the
situation, or a universe claim whose prefix and alphabet play the class's scenario, under settings (and kinds) the
claim's scope allows ("Pending Send when X's mailbox is not approved" is a class SSS-1, which fixes approval, does
not cover). For a universe claim only the scenario shown is asked, not every member of the class. Situations are
a story's start and at most one more own event (MORE_OWN). An action that may undo tracking (`UNDO`: removing the
category, untracking, deleting) and leaves the activity as it was is a lesson too (that it is kept), and so is one
that tracks by hand (`DO`) and leaves the email untracked (that it does nothing there).

The scenario of a class: the settings closest to the claims' setups (each setup on top of the documented defaults;
the setup with the fewest changes wins, then the first), then the shortest sequence of the class under them, replayed
through the simulator: its outcome is checked to be the class's, so that `run` replays it to the same outcome.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

import z3

from ..errors import TrackproofError
from ..prove.behaviours import replay
from ..prove.brute import allowed
from ..prove.reach import Arrival, Exploration, Node
from ..prove.regions import closest
from ..prove.rulepaths import premise_under
from ..prove.setup import Setup
from ..prove.z3api import SAT, add, all_of, any_of, check, neg, new_solver
from ..simulate.engine import Simulator
from ..simulate.outcomes import Outcome
from ..simulate.state import capture
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from ..spec.scenario import Event
from .stories import DO, SETTLE, UNDO

#: The most own events of a situation shown beyond its story's start: one thing done (reply or action).
MORE_OWN = 1
#: The outcome fields a class is folded by: the whole outcome.
FIELDS = ("stored", "status", "direction", "accepted_by", "tracked_by", "regarding", "correlated_to")

Situation = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
Whole = tuple[tuple[str, tuple[Any, ...]], ...]
Key = tuple[Situation, Whole]


@dataclass(frozen=True)
class Lesson:
    """One class no claim covers, shown by one scenario."""

    situation: Situation
    outcome: Whole
    events: tuple[Event, ...]  # the scenario's events, replayed
    settings: dict[Setting, Any]  # every free setting of the scenario
    changed: dict[Setting, Any]  # those that differ from its setup
    setup: int  # the index of the setup it is closest to
    outcomes: dict[str, Outcome]  # the replayed outcomes
    kept: bool = False  # its last event, which may undo tracking, left the outcome as it was
    usual: dict[str, Outcome] = field(default_factory=dict)  # the same events under the setup (when changed)
    moved: tuple[Setting, Any] | None = None  # the setting of a claim's scope it moves outside, and where to


@dataclass(frozen=True)
class StoryClasses:
    classes: int
    covered: int
    no_effect: int  # classes where the situation's last event never changes the outcome
    lessons: list[Lesson]


@dataclass(frozen=True)
class Member:
    """Settings under which a situation rests in a world, arriving there by one arrival."""

    node: Node
    arrival: Arrival
    region: z3.BoolRef


def whole(outcomes: dict[str, Outcome]) -> Whole:
    return tuple((k, tuple(getattr(o, f) for f in FIELDS)) for k, o in sorted(outcomes.items()))


def event_key(e: Event) -> tuple[str, tuple[tuple[str, Any], ...]]:
    params = {k: v for k, v in e.params.items() if k != "id"}
    if e.kind == "send":
        params.setdefault("via", "outside")
    if e.kind == "track":
        params.setdefault("via", "app_for_outlook")
    return e.kind, tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


def situation_of(events: list[Event] | tuple[Event, ...]) -> Situation:
    return tuple(event_key(e) for e in events if e.kind not in SETTLE)


class _Situations:
    """The situations of the sequences behind each arrival, each with the part of the arrival's settings it has."""

    def __init__(self, limit: int) -> None:
        self.memo: dict[int, dict[Situation, z3.BoolRef]] = {}
        self.limit = limit  # the most own events of a situation

    def of(self, arrival: Arrival) -> dict[Situation, z3.BoolRef]:
        found = self.memo.get(id(arrival))
        if found is not None:
            return found
        if arrival.parent is None or arrival.event is None:
            out: dict[Situation, z3.BoolRef] = {(): arrival.part}
        else:
            own = () if arrival.event.kind in SETTLE else (event_key(arrival.event),)
            joined: dict[Situation, list[z3.BoolRef]] = {}
            for before in arrival.parent.arrivals:
                for situation, region in self.of(before).items():
                    if len(situation) + len(own) <= self.limit:
                        joined.setdefault(situation + own, []).append(region)
            out = {s: all_of([arrival.part, any_of(rs)]) for s, rs in joined.items()}
        self.memo[id(arrival)] = out
        return out


def _rests(nodes: list[Node], node: Node, arrival: Arrival, depth: int) -> z3.BoolRef | None:
    """The settings of `arrival` under which the sequence rests where it arrives (a sync then finds nothing to do,
    and Outlook starting would change no outcome); None where it never does. A world at the exploration's last
    depth is not expanded: one reached there by a sync is taken to rest (the bound the output states)."""
    assert arrival.event is not None
    if arrival.depth >= depth:
        return arrival.part if arrival.event.kind == "sync" else None
    quiet = node.stays.get("sync")
    if not quiet:
        return None
    # the legacy client would still change an outcome once Outlook runs
    waits = [cond for cond, child in node.moves.get("outlook_start", []) if whole(nodes[child].outcomes) !=
             whole(node.outcomes)]
    return all_of([arrival.part, any_of(quiet), *([neg(any_of(waits))] if waits else [])])


def _contains(setup: Setup, formula: z3.BoolRef, settings: dict[Setting, Any]) -> bool:
    space = setup.space
    pairs = [(space.vars[s], space.const(v, space.attrs[s].type)) for s, v in settings.items() if s in space.vars]
    return bool(z3.is_true(z3.simplify(z3.substitute(formula, *pairs))))


def _chain(setup: Setup, arrival: Arrival, settings: dict[Setting, Any]) -> list[Event]:
    """The events that lead to `arrival` under `settings` (the arrivals' parts are disjoint: one way back)."""
    out: list[Event] = []
    current: Arrival | None = arrival
    while current is not None and current.event is not None:
        out.append(current.event)
        parent = current.parent
        current = None if parent is None else next(a for a in parent.arrivals if _contains(setup, a.part, settings))
    return list(reversed(out))


def premise_key(claim: Claim) -> Situation:
    return situation_of(claim.scenario.events)


def class_regions(story: Claim, found: Exploration, depth: int
                  ) -> tuple[dict[Key, list[Member]], dict[Key, z3.BoolRef], int]:
    """Every class of one story's exploration (module docstring): its members, its settings, and the fewest own
    events a situation of this story is told with."""
    assert story.universe is not None
    start = len(situation_of(story.universe.prefix))
    situations = _Situations(start + MORE_OWN)
    # a story's start is a situation of its own when it is one first message; a longer start (an email tracked by
    # hand) is where another story has been already: only what follows it is new
    shortest = 1 if start <= 1 else start + 1
    groups: dict[Key, list[Member]] = {}
    for node in found.nodes:
        outcome = whole(node.outcomes)
        for a in node.arrivals:
            rests = None if a.event is None else _rests(found.nodes, node, a, depth)
            if rests is None:
                continue
            for situation, region in situations.of(a).items():
                groups.setdefault((situation, outcome), []).append(Member(node, a, all_of([rests, region])))
    return groups, {k: any_of([m.region for m in ms]) for k, ms in groups.items()}, shortest


def classes_of(model: Model, story: Claim, setup: Setup, found: Exploration, depth: int, claims: list[Claim],
               setups: list[dict[Setting, Any]]) -> StoryClasses:
    """The classes of one story's exploration, those no claim covers each with its scenario (module docstring)."""
    groups, regions, shortest = class_regions(story, found, depth)
    solver = new_solver()
    add(solver, list(setup.base))
    alive = sorted((k for k, r in regions.items() if len(k[0]) >= shortest and check(solver, r) == SAT), key=repr)
    covered = no_effect = 0
    lessons: list[Lesson] = []
    for situation, outcome in alive:
        members = groups[(situation, outcome)]
        region = regions[(situation, outcome)]
        if len(situation) > 1:  # where the last event changes the outcome
            before = regions.get((situation[:-1], outcome))
            region = all_of([region, neg(before)]) if before is not None else region
            if check(solver, region) != SAT:
                stored = dict(outcome).get("E1", (False,))[0]
                if (situation[-1][0] in UNDO and stored) or (situation[-1][0] in DO and not stored):
                    # the activity is kept; tracking by hand did nothing: lessons of what an action does not do
                    lessons.append(replace(_lesson(model, story, setup, setups, situation, outcome, members,
                                                   regions[(situation, outcome)]), kept=True))
                else:
                    no_effect += 1
                continue
        theirs = [c for c in claims if c.universe is None and premise_key(c) == situation]
        if theirs:  # a claim has this situation: what its setup leaves out, one setting at a time
            found_here = [_lesson(model, story, setup, [setup_of(c)], situation, outcome, members, outside,
                                  setups.index(setup_of(c)), (moved, inside))
                          for c in theirs for moved, inside, outside in
                          _outside(setup, c, region, regions[(situation, outcome)])
                          if check(solver, outside) == SAT]
            covered += not found_here
            lessons += found_here
            continue
        lesson = _lesson(model, story, setup, setups, situation, outcome, members, region)
        if any(_plays(model, c, lesson) for c in claims if c.universe is not None):
            covered += 1
            continue
        lessons.append(lesson)
    return StoryClasses(len(alive), covered, no_effect, lessons)


def setup_of(claim: Claim) -> dict[Setting, Any]:
    """The setup a claim describes: its fixed settings of the organisation and of its users and queues."""
    return {k: v for k, v in claim.fixed.items() if k[0] == "org" or (k[0] in claim.scenario.participants and
            claim.scenario.participants[k[0]].kind in ("user", "queue"))}


def _outside(setup: Setup, claim: Claim, region: z3.BoolRef,
             same: z3.BoolRef) -> list[tuple[Setting, Any, z3.BoolRef]]:
    """For each setting the claim's scope fixes (and each party whose kinds it narrows): the settings of `region`
    where that one setting is outside the scope, the others inside, and putting it back inside changes the outcome
    (`same`: the settings under which the situation ends in the same outcome). What the claim leaves out and
    matters; a setting outside that changes nothing is not a lesson. Each: (the setting, its value inside, the
    settings)."""
    space = setup.space
    fixed = {s: v for s, v in claim.fixed.items() if s in space.vars}
    kinds = {(pid, "kind"): ks for pid, ks in claim.kinds.items() if (pid, "kind") in space.vars}
    inside = {s: space.equals(s, v) for s, v in fixed.items()}
    inside.update({s: any_of([space.equals(s, k) for k in ks]) for s, ks in kinds.items()})
    out: list[tuple[Setting, Any, z3.BoolRef]] = []
    for s, within in inside.items():
        values = [fixed[s]] if s in fixed else list(kinds[s])
        var = space.vars[s]
        back = any_of([z3.substitute(same, (var, space.const(v, space.attrs[s].type))) for v in values])
        out.append((s, values[0], all_of([region, neg(within), *(f for t, f in inside.items() if t != s),
                                          neg(back)])))
    return out


def _plays(model: Model, claim: Claim, lesson: Lesson) -> bool:
    """Whether a universe claim reaches the lesson's scenario: its settings are in the claim's scope, its events
    begin with the claim's prefix, and every later one is an event the claim's alphabet allows there."""
    u = claim.universe
    assert u is not None
    if any(owner not in ("org", "reading") and owner not in claim.scenario.participants
           for owner, _ in lesson.settings):
        return False  # the lesson's universe has someone the claim's does not
    settings = lesson.settings
    if any(settings.get(s, v) != v for s, v in claim.fixed.items()):
        return False
    if any(settings.get((pid, "kind"), ks[0]) not in ks for pid, ks in claim.kinds.items()):
        return False
    prefix = [event_key(e) for e in u.prefix]
    events = list(lesson.events)
    if [event_key(e) for e in events[:len(prefix)]] != prefix:
        return False
    scenario = replace(premise_under(claim, {**dict(claim.fixed), **settings}), events=())
    sim = Simulator(model, scenario, explain=False)
    sim.world.kinds = claim.kinds
    try:
        for number, event in enumerate(events, 1):
            if number > len(prefix) and event_key(event) not in {
                    event_key(e) for e in allowed(model, claim, scenario, capture(sim.world), number)}:
                return False
            sim.play_event(event)
    except TrackproofError:
        return False
    return True


def _closest(model: Model, setup: Setup, region: z3.BoolRef, setups: list[dict[Setting, Any]]
             ) -> tuple[int, dict[Setting, Any], dict[Setting, Any], dict[Setting, Any]]:
    """The settings of `region` closest to one of the setups: (the setup's index, the settings, the changes, the
    setup's values of the changed settings)."""
    best: tuple[int, dict[Setting, Any], dict[Setting, Any], dict[Setting, Any]] | None = None
    for index, fixed in enumerate(setups):
        space = copy.copy(setup.space)
        space.defaults = {**setup.space.defaults, **{s: v for s, v in fixed.items() if s in space.vars}}
        settings = closest(model, space, [*setup.base, region])
        changed = {s: v for s, v in settings.items() if space.defaults.get(s) != v}
        if best is None or len(changed) < len(best[2]):
            best = (index, settings, changed, {s: space.defaults[s] for s in changed})
    assert best is not None
    return best


def witness(setup: Setup, members: list[Member], situation: Situation, settings: dict[Setting, Any]
            ) -> tuple[Event, ...]:
    """The shortest sequence of `situation` that rests in one of a class's worlds under `settings` (which the
    class's region holds), ending with the sync that shows it rests."""
    chains: list[list[Event]] = [_chain(setup, m.arrival, settings) for m in members
                                 if _contains(setup, m.region, settings)]
    chains = [c for c in chains if situation_of(c) == situation]
    assert chains, "the closest settings of a class reach one of its worlds"

    def order(chain: list[Event]) -> tuple[int, str]:
        return len(chain), repr([(e.kind, sorted(e.params.items())) for e in chain])

    shortest = min(chains, key=order)
    if shortest[-1].kind != "sync":  # it rests: a sync there does nothing, and the scenario shows it
        last = shortest[-1]
        shortest = [*shortest, Event(last.number + 1, "sync", {}, {}, last.loc)]
    return tuple(shortest)


def _lesson(model: Model, story: Claim, setup: Setup, setups: list[dict[Setting, Any]], situation: Situation,
            outcome: Whole, members: list[Member], region: z3.BoolRef, offset: int = 0,
            moved: tuple[Setting, Any] | None = None) -> Lesson:
    """`moved`: the one setting of a claim's scope the lesson moves outside, and its value inside."""
    index, settings, changed, instead = _closest(model, setup, region, setups)
    index += offset
    if moved is not None:  # what the lesson is about: that setting, put back
        instead = {moved[0]: moved[1]}
    events = witness(setup, members, situation, settings)
    outcomes = replay(model, story, settings, events)
    if whole(outcomes) != outcome:  # pragma: no cover - the exploration and the simulator disagree: a bug
        raise AssertionError(f"the scenario of a class does not replay to its outcome: {events}")
    usual: dict[str, Outcome] = {}
    if changed:  # the same events under the setup, to tell what the changes changed (some cannot be played there)
        try:
            usual = replay(model, story, {**settings, **instead}, events)
        except TrackproofError as err:
            if err.code != "E404":
                raise
    return Lesson(situation, outcome, events, settings, changed, index, outcomes, usual=usual,
                  moved=None if moved is None else (moved[0], settings[moved[0]]))
