"""The situations of an explored story (DESIGN.md, "Missed scenarios from exploration"): what a consultant's sentence
names (the own events of a sequence; sync cycles and Outlook starting are time passing), where each rests, with the
settings under which it does, and the shortest sequence that shows it. classes.py reads the classes from these;
diff.py compares them between two configurations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import z3

from ..prove.reach import Arrival, Exploration, Node, Own
from ..prove.setup import Setup
from ..prove.z3api import all_of, any_of, neg
from ..simulate.outcomes import Outcome
from ..spec.claims import EMAILS, Claim, Setting, outcome_vocabulary
from ..spec.expr import parse
from ..spec.ir import Expr, Model
from ..spec.scenario import Event
from .stories import SETTLE

#: The most own events of a situation shown beyond its story's start: one thing done (reply or action).
MORE_OWN = 1
#: The outcome fields a class is folded by: the whole outcome (Parent Activity Id says how a reply was tied: by
#: In-Reply-To or ConversationIndex; empty for a tracking token and smart matching, R131).
FIELDS = ("stored", "status", "direction", "accepted_by", "tracked_by", "regarding", "correlated_to", "parent_activity")

Situation = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
Whole = tuple[tuple[str, tuple[Any, ...]], ...]
Key = tuple[Situation, Whole]


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


class Situations:
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


class Undone:
    """The settings under which the last own event of the sequences behind an arrival acted on an email that was
    stored then: that an action which may undo tracking keeps the activity is a lesson only where there was an
    activity to keep (deleting in Dynamics 365 before any sync has created one teaches nothing)."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.memo: dict[int, z3.BoolRef] = {}

    def of(self, arrival: Arrival) -> z3.BoolRef:
        found = self.memo.get(id(arrival))
        if found is not None:
            return found
        if arrival.parent is None or arrival.event is None:
            out = z3.BoolVal(False)
        elif arrival.event.kind not in SETTLE:
            before = self.nodes[arrival.parent.node].outcomes.get(str(arrival.event.params.get("email", "")))
            out = arrival.part if before is not None and before.stored else z3.BoolVal(False)
        else:
            out = all_of([arrival.part, any_of([self.of(b) for b in arrival.parent.arrivals])])
        self.memo[id(arrival)] = out
        return out


def rests(nodes: list[Node], node: Node, arrival: Arrival, depth: int) -> z3.BoolRef | None:
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


def chain(setup: Setup, arrival: Arrival, settings: dict[Setting, Any]) -> list[Event]:
    """The events that lead to `arrival` under `settings` (the arrivals' parts are disjoint: one way back)."""
    out: list[Event] = []
    current: Arrival | None = arrival
    while current is not None and current.event is not None:
        out.append(current.event)
        parent = current.parent
        current = None if parent is None else next(a for a in parent.arrivals if setup.space.holds(a.part, settings))
    return list(reversed(out))


def start_of(story: Claim) -> int:
    """The own events of a story's start: its prefix's, or, for a universe claim without a prefix, its first own
    event (the first message, whichever the alphabet sends)."""
    assert story.universe is not None
    return max(1, len(situation_of(story.universe.prefix)))


def reading_fields(model: Model, story: Claim) -> Claim:
    """The story as its exploration needs it: its property also reads Parent Activity Id, the one field of the
    whole outcome (`FIELDS`) among the activity's details that an exploration leaves out of its worlds where
    nothing reads them (prove/unread.py), so that the worlds keep it. The added reading never holds (no message is
    its own parent): only what is explored changes, and gaps and diff read the worlds, not the property."""
    names = {"emails": EMAILS}
    sigs = {n: (tuple(t for _, t in d.params), d.type) for n, d in model.definitions.items()}
    reads = parse("any(e.parent_activity == e for e in emails)", outcome_vocabulary(model.vocabulary,
                  tuple(model.states)), sigs, names, None, story.loc)
    conclusion = story.conclusion
    both = Expr("or", conclusion.type, conclusion.loc, f"({conclusion.text}) or ({reads.text})", None,
                (conclusion, reads))
    return replace(story, conclusion=both)


def own_bound(story: Claim) -> Own:
    """What a story's classes read of its exploration: sequences of its start and at most MORE_OWN own events more
    (any number of sync cycles and Outlook starting among them, to the story's depth)."""
    return Own(start_of(story) + MORE_OWN, frozenset(SETTLE))


def class_regions(story: Claim, found: Exploration, depth: int, fresh: bool = False
                  ) -> tuple[dict[Key, list[Member]], dict[Key, z3.BoolRef], int]:
    """Every class of one story's exploration (module docstring): its members, its settings, and the fewest own
    events a situation of this story is told with. `fresh`: every situation is told, however long its start (a
    consultant's universe claim, or `diff`), not only what follows a start another story has been through."""
    assert story.universe is not None
    start = start_of(story)
    situations = Situations(start + MORE_OWN)
    # a story's start is a situation of its own when it is one first message; a longer start of gaps' own stories
    # (an email tracked by hand) is where another story has been already: only what follows it is new
    shortest = 1 if start <= 1 or fresh else start + 1
    groups: dict[Key, list[Member]] = {}
    for node in found.nodes:
        outcome = whole(node.outcomes)
        for a in node.arrivals:
            resting = None if a.event is None else rests(found.nodes, node, a, depth)
            if resting is None:
                continue
            for situation, region in situations.of(a).items():
                groups.setdefault((situation, outcome), []).append(Member(node, a, all_of([resting, region])))
    return groups, {k: any_of([m.region for m in ms]) for k, ms in groups.items()}, shortest


def witness(setup: Setup, members: list[Member], situation: Situation, settings: dict[Setting, Any]
            ) -> tuple[Event, ...]:
    """The shortest sequence of `situation` that rests in one of a class's worlds under `settings` (which the
    class's region holds), ending with the sync that shows it rests."""
    chains: list[list[Event]] = [chain(setup, m.arrival, settings) for m in members
                                 if setup.space.holds(m.region, settings)]
    chains = [c for c in chains if situation_of(c) == situation]
    assert chains, "the closest settings of a class reach one of its worlds"

    def order(chain: list[Event]) -> tuple[int, str]:
        return len(chain), repr([(e.kind, sorted(e.params.items())) for e in chain])

    shortest = min(chains, key=order)
    if shortest[-1].kind != "sync":  # it rests: a sync there does nothing, and the scenario shows it
        last = shortest[-1]
        shortest = [*shortest, Event(last.number + 1, "sync", {}, {}, last.loc)]
    return tuple(shortest)
