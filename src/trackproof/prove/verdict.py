"""A claim's verdict: proved, violated, vacuous or unknown, exactly under which settings it holds, under the
defaults, the minimal counterexample(s), and the documented rules it rests on with their confidence.

`prove_claim` returns a Proof: the portable Verdict (what reports read; it pickles to another process and into the
results cache) and the process-local Z3 state it came from (the rule paths, the regions), which only the
consistency of claims (consistency.py) reads.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import z3

from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from .records import Example, Kind, Proof, ScopeView, Verdict
from .regions import closest, cube_formula, holds_when, regions, symmetries
from .rulepaths import PathRun, closest_run, enumerate_paths, outcome_reads, run_path
from .scope import Space
from .sensitivity import assumptions, default_readings, reading_confidence, readings
from .setup import Setup, prepare, why_no_setting
from .z3api import SAT, UNSAT, all_of, any_of, check, neg, new_solver


def prove_claim(model: Model, claim: Claim, examples: int = 1, reuse: bool | None = None, jobs: int = 1) -> Proof:
    """Decide one claim over its whole scope; a violated claim gets up to `examples` counterexamples, each failing
    another way. `reuse`: whether runs reuse terms (reuse.py; None: unless TRACKPROOF_NO_REUSE is set). `jobs`:
    processes a universe claim's exploration may use (the verdict is the same for any number)."""
    if claim.universe is not None:  # every sequence of a universe's alphabet, not one premise
        from .behaviours import prove_universe

        return prove_universe(model, claim, reuse, jobs)
    setup = prepare(model, claim, reuse)
    space = setup.space
    paths, reason = enumerate_paths(model, claim, setup, explain=False)  # the runs shown are run again
    feasible = [p for p in paths if p.feasible]
    good = [p for p in feasible if p.holds]
    bad = [p for p in feasible if not p.holds]
    infeasible = [p for p in paths if not p.feasible]
    rules = _rules(model, claim, feasible)
    unknown = Verdict(claim, Kind.UNKNOWN, None, None, None, rules, _confidence(model, rules), reason,
                      ScopeView(tuple(space.vars), dict(space.defaults)), len(paths))
    if reason:
        return Proof(unknown, space, setup.base, paths)
    holds_region = any_of([p.condition for p in good + infeasible])
    good_region = any_of([p.condition for p in good])
    bad_region = any_of([p.condition for p in bad])
    # The runs range over the readings of the disputed points; the verdict, its condition and its counterexample
    # are those of the default readings (sensitivity.py says what another reading changes).
    dependence = readings(model, space, list(setup.base), good_region, bad_region)
    setup = replace(setup, base=(*setup.base, *default_readings(space)))
    solvers = regions(list(setup.base), good_region, bad_region)
    at_defaults = _at_defaults(space, solvers.outside)
    violated, holds_somewhere = check(solvers.outside) == SAT, check(solvers.inside) == SAT
    level = reading_confidence(model, dependence, _confidence(model, rules))
    unknown = replace(unknown, readings=dependence, confidence=level)

    def proof(v: Verdict, simply: z3.BoolRef | None = None) -> Proof:
        return Proof(v, space, setup.base, paths, holds_region, bad_region, simply)

    if not violated and not holds_somewhere:
        why = "; ".join(sorted({p.failure for p in infeasible})) or why_no_setting(model, claim)
        return proof(replace(unknown, verdict=Kind.VACUOUS, holds_under_defaults=at_defaults, reason=why))
    # Interchangeable participants (the same kinds and settings, the regions unchanged when they swap) give the
    # images of each cube for free.
    swaps = symmetries(space, [all_of(list(setup.base)), good_region, bad_region]) if holds_somewhere else []
    cubes = holds_when(model, space, good_region, holds_region, solvers, swaps) if holds_somewhere else []
    shown = None if cubes is None else sorted(({space.label(s): v for s, v in cube.items()} for cube in cubes),
                                              key=repr)
    simply = None if cubes is None else any_of([*(cube_formula(space, c) for c in cubes),
                                                *(p.condition for p in infeasible)])
    read = _assumed_at_defaults(model, claim)
    assumed = assumptions(model, space, list(setup.base), solvers.inside, solvers.outside, read)
    decided = replace(unknown, holds_under_defaults=at_defaults, holds_when=shown, assumes=assumed)
    if not violated:
        return proof(replace(decided, verdict=Kind.PROVED), simply)
    # The counterexample: the violating run with the fewest settings changed from their defaults.
    first = closest_run(model, claim, setup, [bad_region], solvers.outside)
    others = _others(model, claim, setup, bad_region, first, examples - 1) if examples > 1 else ()
    level = reading_confidence(model, dependence, _confidence(model, _rules(model, claim, [first])))
    return proof(replace(decided, verdict=Kind.VIOLATED, counterexample=_example(first), others=others,
                         confidence=level), simply)


def _example(run: PathRun) -> Example:
    return Example(run.settings, run.outcomes)


def _others(model: Model, claim: Claim, setup: Setup, bad: z3.BoolRef, first: PathRun,
            count: int) -> tuple[Example, ...]:
    """Up to `count` more counterexamples, each changing another set of settings. After each one shown, the
    violating configurations that change (at least) all the settings it changes are set aside: they are the same
    reason, with other values or more changes. The next is the closest to the defaults among the rest; so each
    names a minimal set of settings that breaks the claim, fewest first."""
    space = setup.space

    def changes(settings: dict[Setting, Any]) -> list[z3.BoolRef]:
        return [neg(space.equals(s, space.defaults[s])) for s, v in settings.items()
                if s in space.defaults and v != space.defaults[s]]

    region = [*setup.base, bad, neg(all_of(changes(first.settings)))]
    probe = new_solver()
    out: list[Example] = []
    while len(out) < count and check(probe, *region) == SAT:
        settings = closest(model, space, region)
        out.append(_example(run_path(model, claim, setup, settings, None)))
        region.append(neg(all_of(changes(settings))))
    return tuple(out)


def _at_defaults(space: Space, outside: z3.Solver) -> bool:
    """Whether the claim holds with Dynamics 365's defaults (every kind the claim allows); `outside` holds the scope
    and where the claim does not hold."""
    fixed = [space.equals(s, v) for s, v in space.defaults.items() if s[1] != "kind"]
    return check(outside, *fixed) == UNSAT


def _rules(model: Model, claim: Claim, paths: list[PathRun]) -> tuple[str, ...]:
    """The rules behind the emails the conclusion names, in the model's order (transitions, then definitions)."""
    names, fields = outcome_reads(claim)
    found: set[str] = set()
    transitions = {t.id for t in model.transitions}
    for p in paths:
        for key, outcome in p.outcomes.items():
            if key.split(".")[0] in names:
                found.update(r for r in outcome.rules if r in transitions)
        # An action's condition matters only where the action changed the world (records were created).
        acted = any(step.trigger == "create_records" for o in p.outcomes.values() for step in o.steps)
        for (message, role), defs in p.definitions.items():
            if message in names and (role == "guard" or role in fields or (role == "action" and acted)):
                found.update(defs)
    order = [t.id for t in model.transitions] + list(model.definitions)
    return tuple(r for r in dict.fromkeys(order) if r in found)


def _assumed_at_defaults(model: Model, claim: Claim) -> set[Setting]:
    """The uncertain defaults the premise's run under the defaults decides on, as `trackproof run` lists them: that
    run leaves every setting the claim does not fix at its default (the prover's own runs give every setting)."""
    from ..errors import TrackproofError
    from ..simulate.engine import Simulator

    sim = Simulator(model, claim.scenario)
    sim.explain = False
    try:
        outcomes = sim.run()
    except TrackproofError:
        return set()
    return {(key.partition(".")[0], key.partition(".")[2]) for o in outcomes for key, _ in o.assumed}


def _confidence(model: Model, rules: tuple[str, ...]) -> str:
    levels = [model.rule(r).provenance.confidence for r in rules]
    return min(levels, key="LMH".index) if levels else "H"
