"""The verdict of a universe claim: its property over every world the alphabet can reach (prove/reach.py).

- `always P` (`never P`): it holds for settings s when P holds (does not hold) in every world reachable under s
  (with `when: W`, every such world where W holds); vacuous when W is never reachable, or the prefix never happens.
- `reachable P`: it holds for s when some world reachable under s has P; the witness is the shortest sequence to
  one, closest to the defaults.
- `conclusion P`: it holds for s when P holds in every world where a sequence ends under s (no event of the
  alphabet changes it any more).
The violating region is a disjunction over the worlds; holds_when, holds_under_defaults and the closest settings
come from the machinery `check` already has (regions.py). The exploration ranges over the disputed readings like
settings; the verdict is the default readings', and the same regions split by reading say what each other reading
gives (sensitivity.py; ADR 014), instead of one exploration per reading. The counterexample is the shortest event
sequence, then the settings closest to the defaults, replayed through the simulator as a scenario `run` replays.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import z3

from ..simulate.engine import Simulator
from ..simulate.outcomes import Outcome, outcome_env
from ..simulate.state import restore
from ..spec.claims import Claim, Setting
from ..spec.ir import Expr, Model
from ..spec.scenario import Event
from ..spec.universe import universe_emails
from .reach import Arrival, Exploration, Node, explore
from .records import Example, Kind, Proof, ScopeView, Verdict
from .regions import closest, cube_formula, holds_when, regions
from .rulepaths import expression_reads, premise_under
from .scope import Space
from .sensitivity import default_readings, reading_confidence, readings
from .setup import Setup, prepare
from .symmetry import NONE as NO_SYMMETRY
from .symmetry import Renaming, Symmetry, closed, inverse, symmetry, then
from .symmetry import event as renamed_event
from .symmetry import settings as renamed_settings
from .z3api import SAT, UNSAT, add, all_of, any_of, check, neg, new_solver


class Values:
    """Where an expression of the claim holds in each world: a region of the node's settings (it may read
    settings, whose values it is then pinned to; most read only the world's mail)."""

    def __init__(self, model: Model, claim: Claim, setup: Setup) -> None:
        self.model, self.claim, self.setup = model, claim, setup
        self.solver = new_solver()
        add(self.solver, list(setup.base))
        self.names = universe_emails(claim.universe) if claim.universe is not None else []
        self.premise = premise_under(claim, dict(setup.space.defaults))
        self._reads: dict[int, list[Setting]] = {}  # id of an expression -> the free settings it reads
        # (node, id of an expression) -> its value in the node's world, for one that reads no setting (the verdict
        # asks each world about its guard more than once), and the environment of the last world evaluated
        self._known: dict[tuple[int, int], bool] = {}
        self._last: tuple[int, Simulator, dict[str, Any]] | None = None

    def _settings_read(self, expr: Expr) -> list[Setting]:
        reads = self._reads.get(id(expr))
        if reads is None:
            found = expression_reads(self.model, self.claim, expr)
            reads = self._reads[id(expr)] = [s for s in self.setup.space.vars if s in found]
        return reads

    def _by_mail(self, node: Node, expr: Expr) -> bool:
        """The value in the node's world of `expr`, which reads no setting (the same under every setting that
        reaches the world)."""
        value = self._known.get((node.index, id(expr)))
        if value is None:
            value = self._known[(node.index, id(expr))] = self._at_defaults(node, expr)
        return value

    def holds(self, node: Node, expr: Expr) -> z3.BoolRef:
        """The settings within `node.condition` under which `expr` is true in the node's world."""
        space = self.setup.space
        reads = self._settings_read(expr)
        if not reads:
            return node.condition if self._by_mail(node, expr) else z3.BoolVal(False)
        pieces: list[z3.BoolRef] = []
        done: list[z3.BoolRef] = []
        while check(self.solver, node.condition, *(neg(d) for d in done)) == SAT:
            values = {**space.defaults, **space.assigned(self.solver.model(), reads)}
            piece = all_of([node.condition, *(space.equals(s, values[s]) for s in reads)])
            done.append(piece)
            if self._value(node, expr, values):
                pieces.append(piece)
        return any_of(pieces)

    def _at_defaults(self, node: Node, expr: Expr) -> bool:
        """`expr` in the node's world, under the defaults (one world's environment serves its expressions)."""
        if self._last is None or self._last[0] != node.index:
            sim = Simulator(self.model, self.premise, explain=False, checked=True)
            self._last = (node.index, sim, self._env(sim, node))
        _, sim, env = self._last
        return bool(sim.compiler.compile(expr)(env))

    def _value(self, node: Node, expr: Expr, settings: dict[Setting, Any]) -> bool:
        sim = Simulator(self.model, premise_under(self.claim, settings), explain=False)
        return bool(sim.compiler.compile(expr)(self._env(sim, node)))

    def _env(self, sim: Simulator, node: Node) -> dict[str, Any]:
        restore(sim.world, node.state)
        existing = [k for k in node.outcomes if "." not in k]
        return outcome_env(node.outcomes, sim.world, sim.scenario.participants, existing, self.names)


def prove_universe(model: Model, claim: Claim, reuse: bool | None = None, jobs: int = 1,
                   merge: bool = True) -> Proof:
    """Decide a universe claim over every setting in scope and every sequence of its alphabet (module docstring),
    its exploration on up to `jobs` processes; `merge`: worlds that differ only by swapping interchangeable
    participants are one (without it, the same verdict from more worlds: the tests and the benchmark compare)."""
    assert claim.universe is not None and claim.property is not None
    setup = prepare(model, claim, reuse)
    space = setup.space
    # The exploration ranges over the readings of the disputed points like settings (ADR 014): the verdict, its
    # condition and its examples are those of the default readings (or those the claim chose); the same regions,
    # split by reading, give the verdict under each other reading (sensitivity.py).
    # worlds that differ only by swapping interchangeable participants are explored once (symmetry.py): every
    # region read from the worlds kept is closed over the renamings
    sym = symmetry(model, claim) if merge else NO_SYMMETRY
    found = explore(model, claim, setup, jobs=jobs, sym=sym)
    free = list(setup.base)
    setup = replace(setup, base=(*setup.base, *default_readings(space)))
    scope = ScopeView(tuple(space.vars), dict(space.defaults))
    unknown = Verdict(claim, Kind.UNKNOWN, None, None, None, (), "H", found.reason, scope, found.transitions,
                      worlds=len(found.nodes), depth=found.depth, interchangeable=sym.groups,
                      renamings=len(sym.renamings))
    if found.reason:
        return Proof(unknown, space, setup.base)
    values = Values(model, claim, setup)
    bad_at = _violations(claim, found, values, sym)
    bad = any_of(list(bad_at.values())) if -1 in bad_at else closed(space, any_of(list(bad_at.values())), sym)
    good = neg(bad)
    base = list(setup.base)
    rules = _rules(model, found)
    happens = [(closed(space, region, sym), why) for region, why in _happens(claim, found, values)]
    dependence = readings(model, space, free, good, bad, tuple(region for region, _ in happens))
    unknown = replace(unknown, rules=rules, readings=dependence,
                      confidence=reading_confidence(model, dependence, _confidence(model, rules)))
    vacuous = _vacuous(happens, base)
    solvers = regions(base, good, bad)
    at_defaults = check(solvers.outside, *(space.equals(s, v) for s, v in space.defaults.items()
                                           if s[1] != "kind")) == UNSAT
    if vacuous:
        return Proof(replace(unknown, verdict=Kind.VACUOUS, holds_under_defaults=at_defaults, reason=vacuous),
                     space, setup.base)
    cubes = holds_when(model, space, good, good, solvers) if check(solvers.inside) == SAT else []
    shown = None if cubes is None else sorted(({space.label(s): v for s, v in cube.items()} for cube in cubes),
                                              key=repr)
    simply = None if cubes is None else any_of([cube_formula(space, c) for c in cubes])
    decided = replace(unknown, holds_under_defaults=at_defaults, holds_when=shown)
    witness = _witness(model, claim, setup, found, values) if claim.property.kind == "reachable" else None
    if check(solvers.outside) == UNSAT:
        return Proof(replace(decided, verdict=Kind.PROVED, witness=witness), space, setup.base,
                     holds_region=good, bad_region=bad, holds_simply=simply)
    if claim.property.kind == "reachable":  # no sequence reaches it under these settings: they are the example
        settings = closest(model, space, [*base, bad], solver=solvers.outside)
        cex = Example(settings, {}, ())
    else:
        cex = _shortest(model, claim, setup, found, bad_at)
    return Proof(replace(decided, verdict=Kind.VIOLATED, counterexample=cex, witness=witness), space, setup.base,
                 holds_region=good, bad_region=bad, holds_simply=simply)


def _violations(claim: Claim, found: Exploration, values: Values, sym: Symmetry) -> dict[int, z3.BoolRef]:
    """Per world, the settings under which it breaks the property (for `reachable`, under key -1: the settings under
    which no world has it, closed over the renamings)."""
    assert claim.property is not None
    prop, expr = claim.property, claim.conclusion
    out: dict[int, z3.BoolRef] = {}
    if prop.kind == "reachable":
        reached = any_of([values.holds(n, expr) for n in found.nodes])
        out[-1] = neg(closed(values.setup.space, reached, sym))
        return out
    for node in found.nodes:
        if prop.kind == "conclusion":
            if not node.terminal:
                continue
            where = all_of([any_of(node.terminal), neg(values.holds(node, expr))])
        else:
            guard = values.holds(node, prop.when) if prop.when is not None else node.condition
            inside = values.holds(node, expr)
            where = all_of([guard, neg(inside)]) if prop.kind == "always" else all_of([guard, inside])
        out[node.index] = where
    return out


def _happens(claim: Claim, found: Exploration, values: Values) -> list[tuple[z3.BoolRef, str]]:
    """The regions that must each be non-empty for the claim to say anything, with why it says nothing when one is
    empty: the settings under which its prefix completes, and (with `when`) under which its guard is reached."""
    assert claim.universe is not None and claim.property is not None
    played = [n.condition for n in found.nodes if n.played == len(claim.universe.prefix)]
    out = [(any_of(played), "the prefix of events can never happen")]
    if claim.property.when is not None:
        guard = any_of([values.holds(n, claim.property.when) for n in found.nodes])
        out.append((guard, f"no reachable world has `{claim.property.when.text}`"))
    return out


def _vacuous(happens: list[tuple[z3.BoolRef, str]], base: list[z3.BoolRef]) -> str:
    """Why the claim says nothing within `base` ('' when it does): the first of `happens` that is empty there."""
    solver = new_solver()
    add(solver, base)
    return next((why for region, why in happens if check(solver, region) == UNSAT), "")


def chain(space: Space, arrival: Arrival,
          settings: dict[Setting, Any]) -> tuple[tuple[Event, ...], dict[Setting, Any], Renaming]:
    """The events that lead to `arrival` under `settings` (over its world's participants), from the first event
    on; the settings they are played under from the start; and the renaming from the arrival's world to the world
    they make. Where an arrival renamed interchangeable participants (symmetry.py), the settings before it are the
    renamed ones taken back, and so are the events after it."""
    out: list[tuple[Arrival, Renaming]] = []
    current: Arrival | None = arrival
    here = settings
    while current is not None and current.event is not None:
        back = inverse(current.renaming)
        here = renamed_settings(here, back)  # over the parent's world
        out.append((current, back))
        parent = current.parent
        current = None if parent is None else next(a for a in parent.arrivals if space.holds(a.part, here))
    events: list[Event] = []
    frame: Renaming = ()  # from the world of the arrival reached so far to the worlds as played from the start
    for a, back in reversed(out):
        assert a.event is not None
        events.append(renamed_event(a.event, frame))
        frame = then(back, frame)
    return tuple(events), here, frame


def _shortest(model: Model, claim: Claim, setup: Setup, found: Exploration,
              bad_at: dict[int, z3.BoolRef]) -> Example:
    """The shortest violating sequence, then the settings closest to the defaults that take it."""
    space = setup.space
    by_depth: dict[int, list[tuple[Arrival, z3.BoolRef]]] = {}
    for node in found.nodes:
        where = bad_at.get(node.index)
        if where is None:
            continue
        for a in node.arrivals:
            by_depth.setdefault(a.depth, []).append((a, all_of([a.part, where])))
    probe = new_solver()
    add(probe, list(setup.base))
    for depth in sorted(by_depth):
        region = any_of([r for _, r in by_depth[depth]])
        if check(probe, region) != SAT:
            continue
        settings = closest(model, space, [*setup.base, region])
        arrival = next(a for a, r in by_depth[depth] if space.holds(r, settings))
        events, settings, _ = chain(space, arrival, settings)
        return Example(settings, replay(model, claim, settings, events), events)
    raise AssertionError("a violated claim has a violating world")  # pragma: no cover


def _witness(model: Model, claim: Claim, setup: Setup, found: Exploration, values: Values) -> Example | None:
    """For `reachable`: the shortest sequence to a world with the property, closest to the defaults."""
    witness_at = {n.index: values.holds(n, claim.conclusion) for n in found.nodes}
    probe = new_solver()
    add(probe, list(setup.base))
    if check(probe, any_of(list(witness_at.values()))) != SAT:
        return None
    return _shortest(model, claim, setup, found, witness_at)


def replay(model: Model, claim: Claim, settings: dict[Setting, Any], events: tuple[Any, ...]) -> dict[str, Outcome]:
    """The outcomes of playing `events` from the start under `settings` (what `run` gives the scenario file)."""
    scenario = replace(premise_under(claim, settings), events=events)
    return {o.key: o for o in Simulator(model, scenario).run()}


def _rules(model: Model, found: Exploration) -> tuple[str, ...]:
    """The rules some transition of the exploration used, in the model's order."""
    order = [t.id for t in model.transitions] + list(model.definitions)
    return tuple(r for r in dict.fromkeys(order) if r in found.rules)


def _confidence(model: Model, rules: tuple[str, ...]) -> str:
    levels = [model.rule(r).provenance.confidence for r in rules]
    return min(levels, key="LMH".index) if levels else "H"
