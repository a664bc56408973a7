"""Every behaviour of a universe: the worlds reachable by any sequence of alphabet events, each with the settings
under which it is reached (DESIGN.md, "Behaviours: every event sequence, not one"; ADR 013).

Parametric reachability on the rule-path engine:
- a node is a mail state (simulate/state.py) labelled with a Z3 condition over the free settings: the settings
  under which some sequence reaches it;
- expanding a node by an event the alphabet allows runs the rule-path enumeration for that one event from that
  world, under the part of the node's condition not expanded yet: each rule path gives a child world and the
  condition `part and path condition` (every decision of the step pinned, so that the child world is the same for
  all of it);
- a child already reached goes on only with the settings that reach it anew (`condition and not reached`), dropped
  when there are none; when a level reaches nothing anew, every reachable (world, settings) pair has been seen: a
  fixpoint, not a bound. Messages are bounded by the universe and every domain is finite, so the fixpoint exists.
Activity fields nothing reads are left out of the worlds' keys (prove/unread.py); a world that differs from one
reached only by swapping interchangeable participants is that world, reached under the settings swapped with it
(prove/symmetry.py; an exploration to its fixpoint only). Nodes are expanded breadth
first, so the first arrival of a setting at a world is by a shortest sequence; a level's steps (steps.py) may be
asked on several processes (levels.py, ADR 016), and are recorded here in the level's order whichever asked them.
A world no event changes under some settings is where a sequence ends (`terminal`), for conclusions read at the
end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import z3

from ..errors import TrackproofError
from ..simulate.alphabet import instances
from ..simulate.engine import Simulator
from ..simulate.outcomes import Outcome
from ..simulate.state import MailState, capture, key, restore
from ..spec.claims import Claim
from ..spec.ir import Model
from ..spec.scenario import Event
from .levels import Expanding, Steps, ask_level
from .limits import PROGRESS_EVERY, least_worlds, progress_stream, show_progress
from .regions import mentioned
from .rulepaths import premise_under
from .setup import Setup
from .steps import GaveUp, Stepper, ask, scope_solver
from .symmetry import NONE as NO_SYMMETRY
from .symmetry import Renaming, Symmetry
from .symmetry import formula as renamed_formula
from .symmetry import settings as renamed_settings
from .unread import unread_detail
from .z3api import SAT, add, all_of, any_of, neg

MAX_WORLDS = 20_000
@dataclass
class Arrival:
    """How some settings first reach a node: from which expansion of its parent, by which event."""

    node: int
    parent: Expansion | None
    event: Event | None
    part: z3.BoolRef  # the settings that arrive this way (disjoint from the node's other arrivals)
    depth: int  # events from the start
    known: frozenset[int] = frozenset()  # ids of pins that hold for every setting of `part` (a speed-up)
    # the renaming of interchangeable participants that took the world the event made to the one kept (symmetry.py):
    # `part` is over the renamed settings, `event` as it was played from the parent's world
    renaming: Renaming = ()


@dataclass
class Expansion:
    """The arrivals at one world at one depth, expanded together (their settings joined)."""

    node: int
    depth: int
    arrivals: list[Arrival]

    def known(self) -> frozenset[int]:
        """The pins that hold for every setting of every arrival: a decision the run makes again on one of them
        cannot go the other way here, so the decision tree need not ask about it."""
        return frozenset.intersection(*(a.known for a in self.arrivals))


@dataclass
class Node:
    index: int
    key: tuple[Any, ...]
    state: MailState
    played: int  # events of the prefix played so far
    condition: z3.BoolRef  # every setting that reaches this world (its arrivals' parts together)
    # the own events (not time passing) on the way here, for an exploration bounded by them (`Own`; else ())
    own: tuple[Any, ...]
    outcomes: dict[str, Outcome]
    arrivals: list[Arrival] = field(default_factory=list)
    terminal: list[z3.BoolRef] = field(default_factory=list)  # settings under which no event changes it any more
    # per event kind, the settings under which an event of that kind leaves this world as it is (a sync that finds
    # nothing to do): where a sequence can rest, which the first arrivals alone do not say
    stays: dict[str, list[z3.BoolRef]] = field(default_factory=dict)
    # per event kind, where it changes this world, and the world it leads to
    moves: dict[str, list[tuple[z3.BoolRef, int]]] = field(default_factory=dict)


@dataclass
class Exploration:
    nodes: list[Node]
    transitions: int  # rule paths of single events taken
    reason: str  # why the exploration stopped short ("" when it reached its fixpoint)
    # every rule and definition some transition used (fired, or that could have fired and why not): what the
    # reachable behaviours rest on, whichever settings happened to reach a world first
    rules: set[str] = field(default_factory=set)
    omitted: frozenset[str] = frozenset()  # activity fields left out of the world keys (nothing reads them)

    @property
    def depth(self) -> int:
        """The length of the longest shortest sequence: after it, nothing new is reached."""
        return max((a.depth for n in self.nodes for a in n.arrivals), default=0)


@dataclass(frozen=True)
class Own:
    """A bound on the events someone does (not time passing: `settle`, such as sync cycles), for an exploration
    whose reader looks only at sequences of at most `most` of them (gaps: a story's start and one more), and who
    reads each world by the own events that led to it (its situation). Worlds are told apart by those events, so
    that the settings of each sequence of own events are all kept where it leads (two sequences reaching one world
    under the same settings would otherwise leave only the first), and one after `most` of them is expanded only
    by `settle` events: exactly the sequences of at most `most` own events, each to the exploration's depth."""

    most: int
    settle: frozenset[str]


class Explorer:
    """The exploration of one universe claim (its setup from prove/setup.py)."""

    def __init__(self, model: Model, claim: Claim, setup: Setup, max_worlds: int | None = None,
                 max_depth: int | None = None, own: Own | None = None, jobs: int = 1,
                 sym: Symmetry = NO_SYMMETRY) -> None:
        assert claim.universe is not None
        self.model, self.claim, self.setup, self.universe = model, claim, setup, claim.universe
        self.space = setup.space
        self.max_worlds = MAX_WORLDS if max_worlds is None else max_worlds
        self.max_depth = max_depth  # None: to the fixpoint; else no sequence longer than this is played
        self.own = own
        self.jobs = jobs  # processes that ask a level's steps (levels.py); the graph is the same for any number
        self.solver = scope_solver(setup)
        # runs read from Z3's models the settings some condition mentions: the scope's constraints from the start
        self.space.constrained |= mentioned(self.space, list(setup.base))
        self.nodes: list[Node] = []
        self.index: dict[tuple[Any, ...], int] = {}
        self.transitions = 0
        self.rules: set[str] = set()
        # fields no guard, effect or property reads: worlds that differ only there are one (prove/unread.py)
        self.omit = unread_detail(model, claim)
        # interchangeable participants (symmetry.py): worlds that differ by swapping them are one, their settings
        # renamed; only for an exploration to its fixpoint (a bounded one reads its worlds by the events to them)
        assert not sym or (own is None and max_depth is None)
        self.sym = sym
        self.stepper = Stepper(model, claim, setup, self.solver, self.omit, sym)
        self.renamed_solver: z3.Solver | None = None  # the scope alone: a renamed arrival is asked there
        # the premise under the defaults, from which the events each world allows are read (its constraints are
        # checked once, at the root)
        self.premise = premise_under(claim, dict(self.space.defaults))
        self.before = 0  # the worlds reached before the level being recorded
        self.grown: set[int] = set()  # those of them whose settings this level added to

    def run(self) -> Exploration:
        """Breadth first, a level (every expansion at one depth) at a time: its steps are asked (levels.py), then
        recorded in the level's order; the arrivals at one world at the next depth are expanded together."""
        self.refuse_if_too_large()
        root = self._root()
        level = [Expansion(root.index, 0, list(root.arrivals))]
        shown = time.monotonic()
        try:
            while level:
                self._close_read()
                following: dict[int, Expansion] = {}  # node -> its expansion at the next depth
                self.before, self.grown = len(self.nodes), set()
                for done, (expansion, steps) in enumerate(zip(level, self._ask(level), strict=True)):
                    if progress_stream() is not None and time.monotonic() - shown > PROGRESS_EVERY:
                        shown = time.monotonic()
                        self._show_progress(expansion.depth, len(level) - done)
                    for child in self._children(expansion, steps):
                        waiting = following.get(child.node)
                        if waiting is None:
                            waiting = following[child.node] = Expansion(child.node, child.depth, [])
                        waiting.arrivals.append(child)
                    if len(self.nodes) > self.max_worlds:
                        return self._found(self._too_large())
                level = list(following.values())
        except GaveUp as stop:
            return self._found(str(stop))
        return self._found("")

    def _found(self, reason: str) -> Exploration:
        self._close_read()
        return Exploration(self.nodes, self.transitions, reason, self.rules, self.omit)

    def _close_read(self) -> None:
        """With interchangeable participants, the settings the runs read, and their images under the renamings: a
        renamed arrival's settings are over the images, and a run (settings_of) and the closest-settings search
        (regions.closest) take from Z3 only the settings in `space.read`; others stay at their defaults."""
        if self.sym:
            read = self.space.read
            read |= {s for r in self.sym.renamings for s in renamed_settings(dict.fromkeys(read), r)}

    def _show_progress(self, depth: int, left: int) -> None:
        show_progress(f"{self.claim.id}: {len(self.nodes):,} worlds (at most {self.max_worlds:,}), "
                      f"{self.transitions:,} transitions, {left:,} expansions left at depth {depth}")

    def refuse_if_too_large(self) -> None:
        """E408 before any work, for a universe that certainly has more worlds than the exploration may take
        (limits.least_worlds)."""
        least, sent, free = least_worlds(self.model, self.claim, dict(self.space.defaults), self.omit)
        if least > self.max_worlds:
            raise TrackproofError(
                "E408", f"this universe has at least {least:,} worlds ({sent} different first messages, up to "
                f"{free} messages made in order), more than the {self.max_worlds:,} an exploration may take",
                self.universe.loc, "narrow it: fewer messages, fewer alternatives in the alphabet's send entries "
                "(from, to, via), or fewer participants")

    def one_more(self) -> list[Arrival]:
        """After `run`: one more expansion of every world, under every setting that reaches it. At a fixpoint it
        reaches nothing new (no new world, no new setting at an old one): the tests check that it returns []."""
        added: list[Arrival] = []
        for node in list(self.nodes):
            depth = max(a.depth for a in node.arrivals)
            whole = Expansion(node.index, depth, [Arrival(node.index, None, None, node.condition, depth)])
            added += self._children(whole, next(self._ask([whole])))
        return added

    def _too_large(self) -> str:
        u = self.universe
        return (f"more than {self.max_worlds} reachable worlds: narrow the universe (fewer than {u.messages} "
                f"messages, fewer participants or kinds that range, fewer alphabet entries or alternatives, or fix "
                f"more settings in scope.fixed)")

    def _root(self) -> Node:
        sim = Simulator(self.model, self.premise, explain=False)
        state = capture(sim.world)
        node = self._node(state, 0, (), z3.BoolVal(True), {})
        node.arrivals.append(Arrival(node.index, None, None, z3.BoolVal(True), 0))
        return node

    def _node(self, state: MailState, played: int, own: tuple[Any, ...], condition: z3.BoolRef,
              outcomes: dict[str, Outcome], where: tuple[Any, ...] | None = None) -> Node:
        """A new world (`where`: its mail's key, when the step that reached it knows it already)."""
        where = key(state, self.omit) if where is None else where
        node = Node(len(self.nodes), (played, own, where), state, played, condition, own, outcomes)
        self.nodes.append(node)
        self.index[node.key] = node.index
        return node

    def _events(self, node: Node) -> list[Event]:
        prefix = self.universe.prefix
        if node.played < len(prefix):
            return [prefix[node.played]]
        sim = Simulator(self.model, self.premise, explain=False, checked=True)
        restore(sim.world, node.state)
        sim.world.kinds = self.claim.kinds
        found = instances(self.universe, sim.world, self._depth_of(node) + 1)
        if self.own is not None and len(node.own) >= self.own.most:
            return [e for e in found if e.kind in self.own.settle]
        return found

    def _depth_of(self, node: Node) -> int:
        return min(a.depth for a in node.arrivals)

    def _ask(self, level: list[Expansion]) -> Iterator[tuple[Expanding, Steps]]:
        """Each expansion as asked (its events, the settings reaching it, the pins they fix), and its events' rule
        paths (none for an expansion at the depth bound), in the level's order, each as soon as it is known."""
        items = []
        for expansion in level:
            node = self.nodes[expansion.node]
            bounded = self.max_depth is not None and expansion.depth >= self.max_depth
            events = () if bounded else tuple(Event(expansion.depth + 1, e.kind, e.params, e.locs, e.loc)
                                               for e in self._events(node))
            items.append(Expanding(node.state, node.key, any_of([a.part for a in expansion.arrivals]),
                                   expansion.known(), events))

        def reached(i: int, event: Event, where: tuple[Any, ...]) -> z3.BoolRef | None:
            found = self.index.get(self._child_key(self.nodes[level[i].node], event, where))
            return None if found is None else self.nodes[found].condition

        asked = ask_level(self.stepper, items, self.jobs, reached)
        return zip(items, asked, strict=True)

    def _child_key(self, node: Node, event: Event, where: tuple[Any, ...]) -> tuple[Any, ...]:
        """The key of the world an event leads to from `node` (`where`: its mail's key)."""
        played = node.played + (1 if node.played < len(self.universe.prefix) else 0)
        own = node.own + ((_label(event),) if self.own is not None and event.kind not in self.own.settle else ())
        return played, own, where

    def _children(self, expansion: Expansion, asked: tuple[Expanding, Steps]) -> list[Arrival]:
        """Record the steps of an expansion: the children reached anew (with the settings that reach them anew),
        where a sequence can rest, and where it ends."""
        node = self.nodes[expansion.node]
        if self.max_depth is not None and expansion.depth >= self.max_depth:
            return []  # a bounded exploration: these worlds are reached, not expanded (and not known to be ends)
        item, steps = asked
        part, known = item.part, item.known
        out: list[Arrival] = []
        leaving: list[z3.BoolRef] = []  # the settings under which some event changes this world
        # whether a path brings a child new settings is asked with the expansion's settings asserted, as it was
        # before levels.py asked steps elsewhere (the same answers; measured no slower than among the assumptions)
        self.solver.push()
        add(self.solver, [part])
        try:
            for event, runs in zip(item.events, steps, strict=True):
                self.transitions += len(runs)
                for step in runs:
                    if not step.feasible or step.key is None:
                        continue
                    self.rules.update(step.rules)
                    self.rules.update(step.definitions)
                    child_key = self._child_key(node, event, step.key)
                    if child_key == node.key and not step.renaming:
                        node.stays.setdefault(event.kind, []).append(all_of([part, step.condition]))
                        continue
                    leaving.append(step.condition)
                    moving = reached = all_of([part, step.condition])
                    if step.renaming:
                        reached = renamed_formula(self.space, moving, step.renaming)
                    found = self.index.get(child_key)
                    child = self._node(step.state(), child_key[0], child_key[1], reached, step.outcomes(),
                                       child_key[2]) if found is None else self.nodes[found]
                    node.moves.setdefault(event.kind, []).append((moving, child.index))
                    if found is not None:
                        if step.anew is False:  # a worker found it so against fewer settings than the child has now
                            continue
                        reached = all_of([reached, neg(child.condition)])
                        # a worker found new settings here against the settings the child has had since the level
                        # began: unless this level added to them, that is the answer
                        told = step.anew is True and found < self.before and found not in self.grown
                        if not told and not self._reaches(reached, step.renaming):
                            continue
                        child.condition = any_of([child.condition, reached])
                        self.grown.add(found)
                    new = Arrival(child.index, expansion, event, reached, expansion.depth + 1,
                                  frozenset() if step.renaming else known | {p.get_id() for p in step.pins},
                                  step.renaming)
                    child.arrivals.append(new)
                    out.append(new)
        finally:
            self.solver.pop()
        if node.played >= len(self.universe.prefix):
            node.terminal.append(all_of([part, neg(any_of(leaving))]))
        return out

    def _reaches(self, region: z3.BoolRef, renaming: Renaming) -> bool:
        """Whether some setting of the scope is in `region`: asked where the expansion's settings are asserted,
        unless the region is over renamed settings (it holds the renamed ones itself)."""
        if not renaming:
            return self.stepper.reaches(region)
        if self.renamed_solver is None:
            self.renamed_solver = scope_solver(self.setup)
        return ask(self.renamed_solver, region) == SAT


def _label(event: Event) -> tuple[Any, ...]:
    """An own event as the situation of a world names it: its kind and parameters but the new message's id."""
    return event.kind, tuple(sorted((k, repr(v)) for k, v in event.params.items() if k != "id"))


def explore(model: Model, claim: Claim, setup: Setup, max_worlds: int | None = None,
            max_depth: int | None = None, own: Own | None = None, jobs: int = 1,
            sym: Symmetry = NO_SYMMETRY) -> Exploration:
    """Every world a universe claim's alphabet can reach, with the settings that reach each (module docstring);
    with `max_depth`, only by sequences of at most that many events, and with `own`, of at most that many own
    events (bounds, not a fixpoint: `gaps` says so)."""
    return Explorer(model, claim, setup, max_worlds, max_depth, own, jobs, sym).run()
