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
  when there are none; when the queue is empty, every reachable (world, settings) pair has been seen: a fixpoint,
  not a bound. Messages are bounded by the universe and every domain is finite, so the fixpoint exists.
Activity fields nothing reads are left out of the worlds' keys (prove/unread.py). Nodes are expanded breadth
first, so the first arrival of a setting at a world is by a shortest sequence. A world no event changes under some
settings is where a sequence ends (`terminal`), for conclusions read at the end.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import z3

from ..errors import TrackproofError
from ..simulate.alphabet import instances
from ..simulate.engine import Simulator
from ..simulate.outcomes import Outcome
from ..simulate.state import MailState, capture, key, restore, world_key
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from ..spec.scenario import Event
from .limits import PROGRESS_EVERY, least_worlds, progress_stream, show_progress
from .recorder import PathRecorder
from .regions import mentioned
from .rulepaths import AGAIN, INSIDE, DecisionTree, kind_class, premise_under, self_check, settings_of
from .setup import Setup
from .terms import Builder, ReadLog
from .unread import unread_detail
from .z3api import RLIMIT, SAT, UNKNOWN, UNSAT, add, all_of, any_of, check, neg, new_solver

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
class StepRun:
    """One rule path of one event from a world: its condition and, when the event could happen, the world after
    it (its key; the simulator that holds it, to copy its mail and outcomes from when the world is new)."""

    condition: z3.BoolRef
    pins: tuple[z3.BoolRef, ...]
    feasible: bool
    key: tuple[Any, ...] | None
    sim: Simulator | None
    definitions: frozenset[str] = frozenset()  # the model's definitions its decisions' terms were built from

    def state(self) -> MailState:
        assert self.sim is not None
        return capture(self.sim.world)

    def outcomes(self) -> dict[str, Outcome]:
        assert self.sim is not None
        return self.sim.outcomes_now()


class Explorer:
    """The exploration of one universe claim (its setup from prove/setup.py)."""

    def __init__(self, model: Model, claim: Claim, setup: Setup, max_worlds: int | None = None,
                 max_depth: int | None = None) -> None:
        assert claim.universe is not None
        self.model, self.claim, self.setup, self.universe = model, claim, setup, claim.universe
        self.space = setup.space
        self.max_worlds = MAX_WORLDS if max_worlds is None else max_worlds
        self.max_depth = max_depth  # None: to the fixpoint; else no sequence longer than this is played
        self.solver = new_solver()
        self.solver.set("rlimit", RLIMIT)
        add(self.solver, list(setup.base))
        # runs read from Z3's models the settings some condition mentions: the scope's constraints from the start
        self.space.constrained |= mentioned(self.space, list(setup.base))
        self.nodes: list[Node] = []
        self.index: dict[tuple[Any, ...], int] = {}
        self.transitions = 0
        self.rules: set[str] = set()
        # fields no guard, effect or property reads: worlds that differ only there are one (prove/unread.py)
        self.omit = unread_detail(model, claim)

    def run(self) -> Exploration:
        self.refuse_if_too_large()
        root = self._root()
        queue: deque[Expansion] = deque([Expansion(root.index, 0, list(root.arrivals))])
        pending: dict[tuple[int, int], Expansion] = {}
        shown = time.monotonic()
        try:
            while queue:
                if progress_stream() is not None and time.monotonic() - shown > PROGRESS_EVERY:
                    shown = time.monotonic()
                    self._show_progress(queue)
                expansion = queue.popleft()
                pending.pop((expansion.node, expansion.depth), None)
                for child in self._expand(expansion):
                    waiting = pending.get((child.node, child.depth))
                    if waiting is None:
                        waiting = pending[(child.node, child.depth)] = Expansion(child.node, child.depth, [])
                        queue.append(waiting)
                    waiting.arrivals.append(child)
                if len(self.nodes) > self.max_worlds:
                    return self._found(self._too_large())
        except _GaveUp as stop:
            return self._found(str(stop))
        return self._found("")

    def _found(self, reason: str) -> Exploration:
        return Exploration(self.nodes, self.transitions, reason, self.rules, self.omit)

    def _show_progress(self, queue: deque[Expansion]) -> None:
        depth = max((e.depth for e in queue), default=0)
        show_progress(f"{self.claim.id}: {len(self.nodes):,} worlds (at most {self.max_worlds:,}), "
                      f"{self.transitions:,} transitions, {len(queue):,} expansions left at depth {depth}")

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
            whole = Arrival(node.index, None, None, node.condition, depth)
            added += self._expand(Expansion(node.index, depth, [whole]))
        return added

    def _too_large(self) -> str:
        u = self.universe
        return (f"more than {self.max_worlds} reachable worlds: narrow the universe (fewer than {u.messages} "
                f"messages, fewer participants or kinds that range, fewer alphabet entries or alternatives, or fix "
                f"more settings in scope.fixed)")

    def _root(self) -> Node:
        sim = Simulator(self.model, premise_under(self.claim, dict(self.space.defaults)), explain=False)
        state = capture(sim.world)
        node = self._node(state, 0, z3.BoolVal(True), {})
        node.arrivals.append(Arrival(node.index, None, None, z3.BoolVal(True), 0))
        return node

    def _node(self, state: MailState, played: int, condition: z3.BoolRef, outcomes: dict[str, Outcome]) -> Node:
        node = Node(len(self.nodes), (played, key(state, self.omit)), state, played, condition, outcomes)
        self.nodes.append(node)
        self.index[node.key] = node.index
        return node

    def _events(self, node: Node) -> list[Event]:
        prefix = self.universe.prefix
        if node.played < len(prefix):
            return [prefix[node.played]]
        sim = Simulator(self.model, premise_under(self.claim, dict(self.space.defaults)), explain=False)
        restore(sim.world, node.state)
        sim.world.kinds = self.claim.kinds
        return instances(self.universe, sim.world, self._depth_of(node) + 1)

    def _depth_of(self, node: Node) -> int:
        return min(a.depth for a in node.arrivals)

    def _expand(self, expansion: Expansion) -> list[Arrival]:
        """Every event from the expansion's world, under its arrivals' settings: the children reached anew."""
        node = self.nodes[expansion.node]
        if self.max_depth is not None and expansion.depth >= self.max_depth:
            return []  # a bounded exploration: these worlds are reached, not expanded (and not known to be ends)
        part = any_of([a.part for a in expansion.arrivals])
        self.solver.push()
        try:
            add(self.solver, [part])
            return self._children(node, expansion, part)
        finally:
            self.solver.pop()

    def _children(self, node: Node, expansion: Expansion, part: z3.BoolRef) -> list[Arrival]:
        out: list[Arrival] = []
        leaving: list[z3.BoolRef] = []  # the settings under which some event changes this world
        known = expansion.known()
        for event in self._events(node):
            event = Event(expansion.depth + 1, event.kind, event.params, event.locs, event.loc)
            for step in self._step(node, event, known):
                if not step.feasible or step.key is None:
                    continue
                self._used(step, event.number)
                played = node.played + (1 if node.played < len(self.universe.prefix) else 0)
                child_key = (played, step.key)
                if child_key == node.key:
                    node.stays.setdefault(event.kind, []).append(all_of([part, step.condition]))
                    continue
                leaving.append(step.condition)
                moving = reached = all_of([part, step.condition])
                found = self.index.get(child_key)
                child = self._node(step.state(), played, reached, step.outcomes()) if found is None else \
                    self.nodes[found]
                node.moves.setdefault(event.kind, []).append((moving, child.index))
                if found is not None:
                    reached = all_of([reached, neg(child.condition)])
                    answer = check(self.solver, reached)
                    if answer == UNKNOWN:
                        raise _GaveUp(f"Z3 gave up: {self.solver.reason_unknown()}")
                    if answer != SAT:
                        continue
                    child.condition = any_of([child.condition, reached])
                new = Arrival(child.index, expansion, event, reached, expansion.depth + 1,
                              known | {p.get_id() for p in step.pins})
                child.arrivals.append(new)
                out.append(new)
        if node.played >= len(self.universe.prefix):
            node.terminal.append(all_of([part, neg(any_of(leaving))]))
        return out

    def _used(self, step: StepRun, number: int) -> None:
        """What event `number` rested on in `step`: the rules it fired or found could not fire (its own steps, not
        the world's history) and the definitions its decisions were built from (as verdict.py counts them)."""
        assert step.sim is not None
        for msg in step.sim.world.messages.values():
            for side in msg.sides.values():
                for s in side.steps:
                    if s.event == number:
                        self.rules.update((*((s.rule,) if s.rule else ()), *(rid for rid, _ in s.missed)))
        self.rules.update(step.definitions)

    def _step(self, node: Node, event: Event, known: frozenset[int] = frozenset()) -> list[StepRun]:
        """The rule paths of one event from `node`'s world, under the settings the solver holds now (the
        expansion's): rulepaths.enumerate_paths, for one event. (Asking first whether the runs so far cover every
        setting, one question instead of one per decision, was measured 2.5 times slower: that question is a hard
        one, the tree's are easy.)"""
        tree = DecisionTree()
        runs: list[StepRun] = []
        while tree.open:
            at = tree.open[-1]
            if at.done:
                tree.open.pop()
                continue
            if tree.settled(at, known) or self._ask(*tree.unexplored(at)) == UNSAT:
                at.done = True
                continue
            settings = settings_of(self.space, self.solver.model())
            run = self._run(node, settings, event)
            self_check(self.claim, self.space, settings, run.condition)
            where = tree.insert(run.pins, at)
            if where != AGAIN:
                runs.append(run)
                self.transitions += 1
            if where != INSIDE:  # in the expansion's frame: popped with it
                add(self.solver, [neg(run.condition)])
        return runs

    def _ask(self, *assumptions: z3.BoolRef) -> int:
        answer = check(self.solver, *assumptions)
        if answer == UNKNOWN:
            raise _GaveUp(f"Z3 gave up: {self.solver.reason_unknown()}")
        return answer

    def _run(self, node: Node, settings: dict[Setting, Any], event: Event) -> StepRun:
        """Play `event` from `node`'s world under `settings`, every decision pinned."""
        model, claim, space = self.model, self.claim, self.space
        sim = Simulator(model, premise_under(claim, settings), explain=False)
        restore(sim.world, node.state)
        sim.world.kinds = claim.kinds
        classes = [(owner, kind_class(model, claim, owner, settings[(owner, name)]))
                   for owner, name in space.vars if name == "kind"]
        builder = Builder(space, ReadLog(sim.world), sim.compiler, lambda: sim.version)
        # Terms are reused by the decisions before them (reuse.py), which here start from this world and this event:
        # both go into the first decision.
        start = hash((tuple(classes), node.key, event.kind, repr(sorted(event.params.items()))))
        recorder = PathRecorder(model, space, self.setup.reuse, sim.world, builder, start)
        for owner, same in classes:
            recorder.hold(owner, "kind", [any_of([space.equals((owner, "kind"), k) for k in same])])
        sim.observe(recorder)
        feasible = True
        try:
            sim.play_event(event)
        except TrackproofError as err:
            if err.code != "E404":
                raise
            feasible = False
        finally:
            sim.observe(None)
        # everything the step decided but what nothing reads: the world after it is the same for all (its key)
        pins = tuple(recorder.finish(None, self.omit))
        if not feasible:
            return StepRun(all_of(list(pins)), pins, False, None, None)
        used = frozenset(d for defs in builder.defs.values() for d in defs)
        return StepRun(all_of(list(pins)), pins, True, world_key(sim.world, self.omit), sim, used)


class _GaveUp(Exception):
    pass


def explore(model: Model, claim: Claim, setup: Setup, max_worlds: int | None = None,
            max_depth: int | None = None) -> Exploration:
    """Every world a universe claim's alphabet can reach, with the settings that reach each (module docstring);
    with `max_depth`, only by sequences of at most that many events (a bound, not a fixpoint: `gaps` says so)."""
    return Explorer(model, claim, setup, max_worlds, max_depth).run()
