"""The rule paths of one event from one world, under the settings that reach the world: what the exploration of
every event sequence (prove/reach.py) does at each world, for each event the alphabet allows there.

It is rulepaths.enumerate_paths for one event: Z3 proposes settings in a region of a DecisionTree that no path
covers yet, the simulator plays the event from the world under them with every decision pinned (recorder.py), and
the run's path joins the tree, until the tree covers the settings asked about. Each path gives a `StepRun`: its
condition and the world after it; the paths come in the order of their decisions (Z3's hashes of their pins), not
of Z3's proposals, so that every process that asks a step finds them in one order. Nothing here knows the graph of
worlds (reach.py), nor which process it runs in (levels.py hands a level's steps to workers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from ..errors import TrackproofError
from ..simulate.engine import Simulator
from ..simulate.outcomes import Outcome
from ..simulate.state import MailState, capture, key, renamed, restore, view
from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from ..spec.scenario import Event
from .recorder import PathRecorder
from .rulepaths import AGAIN, INSIDE, DecisionTree, kind_class, premise_under, self_check, self_checking, settings_of
from .setup import Setup
from .symmetry import NONE as NO_SYMMETRY
from .symmetry import Renaming, Symmetry, canonical
from .symmetry import settings as renamed_settings
from .terms import Builder, ReadLog
from .z3api import RLIMIT, SAT, UNKNOWN, UNSAT, add, all_of, any_of, check, neg, new_solver


@dataclass
class StepRun:
    """One rule path of one event from a world: its condition and, when the event could happen, the world after
    it (its key, and its mail and outcomes: from the simulator that holds it, taken when the world is new, or as a
    worker sent them)."""

    condition: z3.BoolRef
    pins: tuple[z3.BoolRef, ...]
    feasible: bool
    key: tuple[Any, ...] | None
    sim: Simulator | None
    definitions: frozenset[str] = frozenset()  # the model's definitions its decisions' terms were built from
    rules: frozenset[str] = frozenset()  # the rules the event fired or found could not fire (its own steps)
    mail: MailState | None = None  # the world after it, where no simulator holds it (from a worker)
    after: dict[str, Outcome] | None = None  # its outcomes, likewise
    # whether a worker found that its settings reach anything anew at the world it leads to, against the settings
    # that world had when the level began (levels.py); None: not known, to be asked
    anew: bool | None = None
    # the renaming of interchangeable participants (symmetry.py) that takes the world after it to the one its orbit
    # keeps: `key`, `state()` and `outcomes()` are that world's; `condition` is still over the settings as played
    renaming: Renaming = ()
    rebuild: Callable[[], tuple[MailState, dict[str, Outcome]]] | None = None  # the renamed world, when asked

    def state(self) -> MailState:
        if self.mail is None and self.rebuild is not None:
            self.mail, self.after = self.rebuild()
        if self.mail is not None:
            return self.mail
        assert self.sim is not None
        return capture(self.sim.world)

    def outcomes(self) -> dict[str, Outcome]:
        if self.after is None and self.rebuild is not None:
            self.mail, self.after = self.rebuild()
        if self.after is not None:
            return self.after
        assert self.sim is not None
        return self.sim.outcomes_now()


class GaveUp(Exception):
    """Z3 answered unknown (its resource limit), or one event has more rule paths than a step may take."""


#: The rule paths one event from one world may have. The shipped universes need at most about 100; each participant
#: whose settings range and whom a sync reads doubles a sync's paths (a universe with ten idle users has over 6,000
#: for one sync), and the exploration would run for many minutes before reaching MAX_WORLDS.
MAX_STEP_PATHS = 2_000


def scope_solver(setup: Setup) -> z3.Solver:
    """A solver holding the scope's constraints, with the resource limit every exploration question has."""
    solver = new_solver()
    solver.set("rlimit", RLIMIT)
    add(solver, list(setup.base))
    return solver


def ask(solver: z3.Solver, *assumptions: z3.BoolRef) -> int:
    """`solver`'s answer under `assumptions`; GaveUp where Z3 answers unknown."""
    answer = check(solver, *assumptions)
    if answer == UNKNOWN:
        raise GaveUp(f"Z3 gave up: {solver.reason_unknown()}")
    return answer


class Stepper:
    """The rule paths of single events from worlds of one universe claim, asked of `solver` (which holds the
    scope, and, while an expansion is asked about, the settings that reach its world)."""

    def __init__(self, model: Model, claim: Claim, setup: Setup, solver: z3.Solver, omit: frozenset[str],
                 sym: Symmetry = NO_SYMMETRY) -> None:
        self.model, self.claim, self.setup, self.space = model, claim, setup, setup.space
        self.solver, self.omit, self.sym = solver, omit, sym

    def step(self, state: MailState, where: tuple[Any, ...], event: Event,
             known: frozenset[int] = frozenset()) -> list[StepRun]:
        """The rule paths of `event` from the world `state` (whose key is `where`), under the settings the solver
        holds now. (Asking first whether the runs so far cover every setting, one question instead of one per
        decision, was measured 2.5 times slower: that question is a hard one, the tree's are easy.) A path whose
        settings were chosen outside the node asked about is blocked in a frame of its own, popped at the end:
        what one event found must not hide settings from the next event asked in the same expansion."""
        tree = DecisionTree()
        runs: list[StepRun] = []
        self.solver.push()
        try:
            while tree.open:
                at = tree.open[-1]
                if at.done:
                    tree.open.pop()
                    continue
                if tree.settled(at, known) or self.ask(*tree.unexplored(at)) == UNSAT:
                    at.done = True
                    continue
                settings = settings_of(self.space, self.solver.model())
                run = self._run(state, where, settings, event)
                self_check(self.claim, self.space, settings, run.condition)
                placed = tree.insert(run.pins, at)
                if placed != AGAIN:
                    runs.append(run)
                    if len(runs) > MAX_STEP_PATHS:
                        raise GaveUp(self._too_many(event))
                if placed != INSIDE:
                    add(self.solver, [neg(run.condition)])
        finally:
            self.solver.pop()
        # In the order of their decisions, not of Z3's proposals (which depend on what the solver was asked
        # before): the same paths in the same order whichever process asked (levels.py). Z3's hash of a term is
        # made from its structure, the same in every process.
        runs.sort(key=lambda run: [p.hash() for p in run.pins])
        return runs

    def ask(self, *assumptions: z3.BoolRef) -> int:
        return ask(self.solver, *assumptions)

    def _too_many(self, event: Event) -> str:
        return (f"one '{event.kind}' event from one world has more than {MAX_STEP_PATHS:,} rule paths: narrow the "
                "universe (fewer participants whose settings range, or fix more of their settings in scope.fixed)")

    def reaches(self, region: z3.BoolRef) -> bool:
        """Whether some setting of the scope is in `region`."""
        return self.ask(region) == SAT

    def _run(self, state: MailState, where: tuple[Any, ...], settings: dict[Setting, Any],
             event: Event) -> StepRun:
        """Play `event` from the world `state` under `settings`, every decision pinned."""
        model, claim, space = self.model, self.claim, self.space
        # Z3 chose the settings within the vocabulary's constraints: they are checked again only where the tests
        # check the two compilations of the model against each other
        sim = Simulator(model, premise_under(claim, settings), explain=False,
                        checked=not self_checking())
        restore(sim.world, state)
        sim.world.kinds = claim.kinds
        classes = [(owner, kind_class(model, claim, owner, settings[(owner, name)]))
                   for owner, name in space.vars if name == "kind"]
        builder = Builder(space, ReadLog(sim.world), sim.compiler, lambda: sim.version)
        # Terms are reused by the decisions before them (reuse.py), which here start from this world and this event:
        # both go into the first decision.
        start = hash((tuple(classes), where, event.kind, repr(sorted(event.params.items()))))
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
        run = StepRun(all_of(list(pins)), pins, True, None, sim, used, _rules(sim, event.number))
        # the world's own mail (nothing plays in it any more): its key, or the key of the world its orbit keeps
        state = view(sim.world)
        run.key = key(state, self.omit)
        if self.sym:
            self._canonical(run, state, settings)
        return run

    def _canonical(self, run: StepRun, state: MailState, settings: dict[Setting, Any]) -> None:
        """Give `run` the key of the world its orbit keeps (symmetry.py), and that world when it is asked for: its
        mail renamed, and its outcomes from a simulator that holds it under the renamed settings."""
        assert run.key is not None
        run.renaming, run.key = canonical(state, run.key, self.omit, self.sym)
        if not run.renaming:
            return
        names = dict(run.renaming)

        def rebuild() -> tuple[MailState, dict[str, Outcome]]:
            mail = renamed(state, names)
            twin = Simulator(self.model, premise_under(self.claim, renamed_settings(settings, run.renaming)),
                             explain=False, checked=True)
            restore(twin.world, mail)
            twin.world.kinds = self.claim.kinds
            return mail, twin.outcomes_now()

        run.sim, run.rebuild = None, rebuild


def _rules(sim: Simulator, number: int) -> frozenset[str]:
    """What event `number` rested on: the rules it fired or found could not fire (its own steps, not the world's
    history)."""
    out: set[str] = set()
    for msg in sim.world.messages.values():
        for side in msg.sides.values():
            for s in side.steps:
                if s.event == number:
                    out.update((*((s.rule,) if s.rule else ()), *(rid for rid, _ in s.missed)))
    return frozenset(out)
