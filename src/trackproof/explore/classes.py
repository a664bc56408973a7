"""Behaviour classes of one explored story, and the one scenario each is shown by (DESIGN.md, "Missed scenarios from
exploration").

A *situation* is the sequence of a story's own events (messages and manual actions; sync cycles and Outlook starting
are time passing, not part of it). A situation *rests* in a world where a sync then finds nothing to do (App for
Outlook tracks at once; an email sent from Dynamics 365 by a mailbox that is not approved stays Pending Send; an
email received waits for no one); a world at the exploration's last depth is not expanded, and one reached there by
a sync is taken to rest. A **class** is a situation with the whole outcome of every message where it rests (stored,
status, direction, who accepted or tracked it, Regarding, correlated to, Parent Activity Id: `FIELDS`), and nothing
else (the rules that got there are not part of the world, so keying by them would depend on which sequence reached
it first; "Pending Send: the mailbox is not approved" and "Pending Send: Outlook is not running" are told apart by
coverage, below). Its settings are those under which some sequence of the situation rests there: a world's first
arrivals are split by the situations of the sequences that led to them (several can join at one world), so that a
class never borrows another situation's settings and nothing depends on the order worlds were reached in.

A class is shown only where the situation's own last event changes the outcome: its settings minus those under which
the situation without that event already rests in the same outcome. A class where it never does (tracking an email
the filter had stored already; deleting an activity that never existed) teaches nothing of that event and is left
out (counted). A class is covered when a claim reaches it (DESIGN.md): a fixed-premise claim whose events are the
situation, or a universe claim whose prefix and alphabet play the class's scenario, under settings (and kinds) the
claim's scope allows ("Pending Send when X's mailbox is not approved" is a class SSS-1, which fixes approval, does
not cover); and a fixed-premise claim covers only what its conclusion tells apart: one that reads neither what a
message is tied to nor its Parent Activity Id does not tell apart replies tied differently (`_Told`). For a universe
claim only the scenario shown is asked, not every member of the class. Situations are a story's start and at most
one more own event (MORE_OWN). An action that may undo tracking (`UNDO`: removing the category, untracking,
deleting) and leaves the activity as it was is a lesson too (that it is kept), and so is one that tracks by hand
(`DO`) and leaves the email untracked (that it does nothing there).

The scenario of a class: the settings closest to the claims' setups (each setup on top of the documented defaults;
the setup with the fewest changes wins, then the first), then the shortest sequence of the class under them,
replayed through the simulator: its outcome is checked to be the class's, so that `run` replays it to the same
outcome.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

import z3

from ..errors import TrackproofError
from ..prove.behaviours import replay
from ..prove.brute import allowed
from ..prove.reach import Exploration
from ..prove.regions import closest
from ..prove.rulepaths import premise_under
from ..prove.setup import Setup
from ..prove.unread import read_fields
from ..prove.z3api import SAT, add, all_of, any_of, check, neg, new_solver
from ..simulate.engine import Simulator
from ..simulate.outcomes import Outcome
from ..simulate.state import capture
from ..spec.claims import Claim, Setting
from ..spec.ir import OUTCOME, Model
from ..spec.scenario import Event
from .situations import (
    FIELDS,
    Key,
    Member,
    Situation,
    Undone,
    Whole,
    class_regions,
    event_key,
    situation_of,
    whole,
    witness,
)
from .stories import DO, SETTLE, UNDO


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
    tie: bool = False  # what a message is tied to, which the claim of its situation does not tell apart


@dataclass(frozen=True)
class StoryClasses:
    classes: int
    covered: int
    no_effect: int  # classes where the situation's last event never changes the outcome
    lessons: list[Lesson]


def premise_key(claim: Claim) -> Situation:
    return situation_of(claim.scenario.events)


def classes_of(model: Model, story: Claim, setup: Setup, found: Exploration, depth: int, claims: list[Claim],
               setups: list[dict[Setting, Any]], fresh: bool = False) -> StoryClasses:
    """The classes of one story's exploration, those no claim covers each with its scenario (module docstring)."""
    groups, regions, shortest = class_regions(story, found, depth, fresh)
    acted = Undone(found.nodes)
    solver = new_solver()
    add(solver, list(setup.base))
    alive = sorted((k for k, r in regions.items() if len(k[0]) >= shortest and check(solver, r) == SAT), key=repr)
    covered = no_effect = 0
    lessons: list[Lesson] = []
    told = _Told(model, setup, solver, {k: _changing(solver, regions, k) for k in alive})
    for situation, outcome in alive:
        members = groups[(situation, outcome)]
        region = regions[(situation, outcome)]
        if len(situation) > 1:  # where the last event changes the outcome
            before = regions.get((situation[:-1], outcome))
            region = all_of([region, neg(before)]) if before is not None else region
            if check(solver, region) != SAT:
                stored = dict(outcome).get("E1", (False,))[0]
                kept = regions[(situation, outcome)]
                if situation[-1][0] in UNDO and stored:  # undone where there was something to undo
                    members = [replace(m, region=all_of([m.region, acted.of(m.arrival)])) for m in members]
                    kept = any_of([m.region for m in members])
                lesson = None
                if ((situation[-1][0] in UNDO and stored) or (situation[-1][0] in DO and not stored)) and \
                        check(solver, kept) == SAT:
                    # the activity is kept; tracking by hand did nothing: lessons of what an action does not do
                    lesson = replace(_lesson(model, story, setup, setups, situation, outcome, members, kept),
                                     kept=True)
                if lesson is not None and _had_category(model, story, lesson):
                    lessons.append(lesson)
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
            # and what its conclusion does not tell apart, inside its scope
            found_here += [replace(_lesson(model, story, setup, [setup_of(c)], situation, outcome, members, untold,
                                           setups.index(setup_of(c))), tie=True)
                           for c in theirs
                           if (untold := told.untold(c, situation, outcome, region)) is not None]
            covered += not found_here
            lessons += found_here
            continue
        lesson = _lesson(model, story, setup, setups, situation, outcome, members, region)
        if any(_plays(model, c, lesson) for c in claims if c.universe is not None):
            covered += 1
            continue
        lessons.append(lesson)
    return StoryClasses(len(alive), covered, no_effect, lessons)


#: What a message is tied to, and how: what a claim about whether it is stored does not tell apart.
CORRELATION = frozenset({"correlated_to", "parent_activity"})


def _changing(solver: z3.Solver, regions: dict[Key, z3.BoolRef], key: Key) -> z3.BoolRef:
    """A class's settings where its situation's last event changes the outcome (module docstring)."""
    situation, outcome = key
    before = regions.get((situation[:-1], outcome)) if len(situation) > 1 else None
    return regions[key] if before is None else all_of([regions[key], neg(before)])


class _Told:
    """What a claim's conclusion tells apart (DESIGN.md: a claim covers the classes its premise reaches). Its
    verdict says, for every setting of its scope, the value of what its conclusion reads; classes of its situation
    that differ only in what a message is tied to and how (`CORRELATION`), where it reads neither (SSS-2 reads
    whether the reply is stored), it does not tell apart: of those, it covers the one closest to its setup, and the
    others are lessons, inside its scope. Only those fields: with every field it does not read (status, who
    accepted, Regarding too), lessons already told under another setup came back (ADR 015, decision 6)."""

    def __init__(self, model: Model, setup: Setup, solver: z3.Solver, regions: dict[Key, z3.BoolRef]) -> None:
        self.model, self.setup, self.solver, self.regions = model, setup, solver, regions
        self.changes: dict[tuple[str, Key], tuple[int, str]] = {}

    def untold(self, claim: Claim, situation: Situation, outcome: Whole, region: z3.BoolRef) -> z3.BoolRef | None:
        """The settings of the class, inside the claim's scope, where the claim does not tell it apart from a class
        closer to its setup; None where it does (or the class is the closest)."""
        reads = read_fields([claim.conclusion], OUTCOME) | (frozenset(FIELDS) - CORRELATION)
        seen = self._seen(reads, outcome)
        inside = _scope(self.setup, claim)
        alike = [o for (s, o) in self.regions if s == situation and o != outcome and self._seen(reads, o) == seen
                 and check(self.solver, all_of([self.regions[(s, o)], inside])) == SAT]
        here = all_of([region, inside])
        if not alike or check(self.solver, here) != SAT:
            return None
        rank = self._rank(claim, situation, outcome)
        return here if any(self._rank(claim, situation, o) < rank for o in alike) else None

    @staticmethod
    def _seen(reads: frozenset[str], outcome: Whole) -> Whole:
        return tuple((k, tuple(v for f, v in zip(FIELDS, values, strict=True) if f in reads)) for k, values in outcome)

    def _rank(self, claim: Claim, situation: Situation, outcome: Whole) -> tuple[int, str]:
        key = (claim.id, (situation, outcome))
        if key not in self.changes:
            region = all_of([self.regions[(situation, outcome)], _scope(self.setup, claim)])
            changed = _closest(self.model, self.setup, region, [setup_of(claim)])[2]
            self.changes[key] = (len(changed), repr(outcome))
        return self.changes[key]


def _scope(setup: Setup, claim: Claim) -> z3.BoolRef:
    """The settings inside a claim's scope: those it fixes, and the kinds it narrows parties to."""
    space = setup.space
    inside = [space.equals(s, v) for s, v in claim.fixed.items() if s in space.vars]
    inside += [any_of([space.equals((pid, "kind"), k) for k in ks]) for pid, ks in claim.kinds.items()
               if (pid, "kind") in space.vars]
    return all_of(inside)


def _had_category(model: Model, story: Claim, lesson: Lesson) -> bool:
    """Whether the category a lesson's last event removes was there (replayed: the category is a field of the
    activity the exploration may leave out of its worlds); any other lesson: True."""
    last = [e for e in lesson.events if e.kind not in SETTLE][-1]
    if last.kind != "uncategorize":
        return True
    upto = lesson.events[:lesson.events.index(last)]
    outcome = replay(model, story, lesson.settings, upto).get(str(last.params.get("email")))
    return outcome is not None and last.params.get("by") in outcome.categorized


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
