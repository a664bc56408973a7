"""Regions of settings, and what the prover says about them: the exact condition a claim holds under (holds_when,
as readable cubes), the point closest to the defaults (canonical counterexamples), and the two solvers every query
after a proof shares.

Every answer here depends only on the region asked about, never on the order Z3 searches in, its random seed or
the solver chosen (ADR 003): cubes grow from the earliest uncovered point, the closest point is found by plain
satisfiability queries (at most k changes, then one setting at a time).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import z3

from ..spec.claims import Setting
from ..spec.ir import Model
from .scope import Space
from .z3api import (
    RLIMIT,
    SAT,
    UNKNOWN,
    UNSAT,
    add,
    all_of,
    any_of,
    check,
    constants,
    core_ids,
    implies,
    neg,
    new_solver,
)

MAX_CUBES = 64  # holds_when with more cubes is no readable condition: reported unknown, never truncated


def mentioned(space: Space, formulas: list[z3.BoolRef]) -> set[Setting]:
    """The settings a list of formulas mentions."""
    by_name = {space.label(s): s for s in space.vars}
    return {by_name[name] for name in constants(list(formulas)) if name in by_name}


def cube_formula(space: Space, cube: dict[Setting, list[Any]]) -> z3.BoolRef:
    return all_of([any_of([space.equals(s, v) for v in values]) for s, values in cube.items()])


def domain(model: Model, space: Space, s: Setting) -> list[Any]:
    typ = space.attrs[s].type
    if typ == "bool":
        return [True, False]
    if s[1] == "kind":
        return list(space.claim.kinds[s[0]])
    return list(model.vocabulary.enums[typ])


def preference(model: Model, space: Space, s: Setting) -> list[Any]:
    """A setting's values in the order a canonical choice tries them: its default, then its domain's order."""
    default = space.defaults[s]
    return [default, *(v for v in domain(model, space, s) if v != default)]


def earliest(model: Model, space: Space, solver: z3.Solver, order: list[Setting],
             extra: tuple[z3.BoolRef, ...] = ()) -> dict[Setting, Any]:
    """The earliest point (in `order`, each setting's values by _preference) that `solver`'s assertions and `extra`
    allow; they must allow one. Where the rest of the settings can all stay at their defaults, one query settles
    them."""

    def possible(*assumptions: z3.BoolRef) -> bool:
        answer = check(solver, *extra, *assumptions)
        if answer == UNKNOWN:  # pragma: no cover - these queries are far below the resource limit
            raise AssertionError(f"Z3 gave up on a canonical choice: {solver.reason_unknown()}")
        return answer == SAT

    chosen: dict[Setting, Any] = {}
    fixed: list[z3.BoolRef] = []
    # The "rest at defaults" query is known to fail up to `blocked`: the last one's unsat core holds, besides
    # settings already chosen, only defaults of settings from `blocked` on, and each later query up to there asks
    # all of those again. Skipping it changes no answer, only the number of queries.
    blocked = -1
    for i, s in enumerate(order):
        values = preference(model, space, s)
        if i > blocked:
            rest = [space.equals(k, space.defaults[k]) for k in order[i:]]
            if possible(*fixed, *rest):
                chosen.update((k, space.defaults[k]) for k in order[i:])
                break
            core = core_ids(solver)
            at = [j for j, atom in enumerate(rest) if atom.get_id() in core]
            blocked = i + (at[0] if at else len(rest))
            if at == [0]:  # the default of `s` alone (with the settings chosen) is impossible
                values = values[1:]
        value = next((v for v in values[:-1] if possible(*fixed, space.equals(s, v))), values[-1])
        chosen[s] = value
        fixed.append(space.equals(s, value))
    return chosen


def _core(space: Space, solver: z3.Solver, cube: dict[Setting, list[Any]]) -> set[Setting] | None:
    """None if `cube` meets `solver`'s assertions; else the settings of an unsat core (those the proof needs)."""
    parts = {s: any_of([space.equals(s, v) for v in values]) for s, values in cube.items()}
    if check(solver, *parts.values()) != UNSAT:
        return None
    core = core_ids(solver)
    return {s for s, part in parts.items() if part.get_id() in core}


@dataclass(frozen=True)
class Regions:
    """One claim's two solvers, built once and asked by every query that follows the proof: `inside` holds the
    scope and the region where the claim holds (and can happen), `outside` the scope and where it does not hold.
    Cubes the cover has taken are excluded from `inside` only under the assumption `fresh`."""

    inside: z3.Solver
    outside: z3.Solver
    fresh: z3.BoolRef


def regions(base: list[z3.BoolRef], good: z3.BoolRef, bad: z3.BoolRef) -> Regions:
    """`bad`: where the claim does not hold, within base (rule paths cover the scope and never overlap, so the
    violating paths' conditions are exactly the scope minus where it holds: a disjunction Z3 takes in faster than
    the negation of the other paths)."""
    inside = new_solver()
    add(inside, [*base, good])
    outside = new_solver()
    outside.set("rlimit", RLIMIT)
    add(outside, [*base, bad])
    return Regions(inside, outside, z3.Bool(f"!fresh{next(_fresh)}"))


_fresh = itertools.count()


Cube = dict[Setting, list[Any]]
Swap = dict[Setting, Setting]  # a permutation of settings: every setting of one participant with another's


def symmetries(space: Space, formulas: list[z3.BoolRef]) -> list[Swap]:
    """Swaps of interchangeable participants under which each formula (the scope, the regions) is the same: two
    participants with the same kinds, fixed settings and free settings, whose settings swapped leave each formula
    equivalent (asked of Z3: F and not F-swapped is unsat; the swap is its own inverse, so that is equivalence).
    Consecutive swaps of a group generate all its permutations."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    claim = space.claim
    for pid, p in claim.scenario.participants.items():
        names = tuple(sorted(n for o, n in space.vars if o == pid))
        fixed = tuple(sorted((n, repr(v)) for (o, n), v in claim.fixed.items() if o == pid))
        groups.setdefault((p.kind, claim.kinds.get(pid), fixed, names), []).append(pid)
    swaps: list[Swap] = []
    for (_, _, _, names), members in groups.items():
        for a, b in itertools.pairwise(members):
            swap = {**{(a, n): (b, n) for n in names}, **{(b, n): (a, n) for n in names}}
            pairs = [(space.vars[s], space.vars[t]) for s, t in swap.items()]
            if pairs and all(_invariant(f, pairs) for f in formulas):
                swaps.append(swap)
    return swaps


def _invariant(formula: z3.BoolRef, pairs: list[tuple[z3.ExprRef, z3.ExprRef]]) -> bool:
    solver = new_solver()
    solver.set("rlimit", RLIMIT)
    add(solver, [formula, neg(z3.substitute(formula, *pairs))])
    return check(solver) == UNSAT


def _images(space: Space, cube: Cube, swaps: list[Swap]) -> list[Cube]:
    """The cube's images under the group the swaps generate (itself first), each in the space's order."""
    position = {s: i for i, s in enumerate(space.vars)}
    seen = {repr(sorted(cube.items(), key=lambda kv: position[kv[0]])): cube}
    todo = [cube]
    while todo and len(seen) <= MAX_CUBES:
        current = todo.pop()
        for swap in swaps:
            image = {swap.get(s, s): v for s, v in current.items()}
            image = dict(sorted(image.items(), key=lambda kv: position[kv[0]]))
            key = repr(list(image.items()))
            if key not in seen:
                seen[key] = image
                todo.append(image)
    return list(seen.values())


def holds_when(model: Model, space: Space, good: z3.BoolRef, holds: z3.BoolRef,
               solvers: Regions, swaps: list[Swap] | None = None) -> list[dict[Setting, list[Any]]] | None:
    """Cover the settings where the claim holds (and can happen) with readable cubes (DESIGN.md, holds_when);
    None when that takes more than MAX_CUBES cubes (a list that long is not a readable condition, and a shorter
    one would not be exact). `solvers`: regions() of the scope, `good` and where the claim does not hold; `holds`
    (good, or where the premise cannot happen) only says which settings may matter. `swaps`: symmetries of the
    regions (symmetries()): the images of a cube found are cubes too, taken without asking."""
    finder, outside, fresh = solvers.inside, solvers.outside, solvers.fresh
    cubes: list[dict[Setting, list[Any]]] = []
    orbits: list[list[Cube]] = []
    # A setting neither region mentions cannot matter: it is dropped without asking the solver.
    named = mentioned(space, [good, holds])
    order = [s for s in space.vars if s in named]
    while check(finder, fresh) == SAT:
        if len(cubes) == MAX_CUBES:
            return None
        # Each cube grows from the earliest point not yet covered (the defaults first, then each domain's order),
        # not from whatever model Z3 returns: the cubes then depend only on the region, never on Z3's search.
        cube = {s: [v] for s, v in earliest(model, space, finder, order, (fresh,)).items()}
        # `needed`: the settings of an unsat core of "cube and not holds". A setting outside it can be dropped
        # without asking (the core's own literals still rule the rest out), so the greedy below asks Z3 only where
        # the answer is not already known, and decides exactly as if it asked every time.
        needed = _core(space, outside, cube)
        for s in order:
            trial = {k: v for k, v in cube.items() if k != s}
            if needed is not None and s not in needed:
                cube = trial
                continue
            found = _core(space, outside, trial)
            if found is not None:
                cube, needed = trial, found
                continue
            values = domain(model, space, s)
            for value in values:
                if value in cube[s] or len(cube[s]) == len(values) - 1:  # all values: the drop just refused
                    continue
                trial = {**cube, s: [*cube[s], value]}
                found = _core(space, outside, trial)
                if found is not None:
                    cube, needed = trial, found
            cube[s] = [v for v in values if v in cube[s]]
        orbit = _images(space, cube, swaps or [])
        orbits.append(orbit)
        cubes += orbit
        if len(cubes) > MAX_CUBES:
            return None
        add(finder, [implies(fresh, neg(cube_formula(space, c))) for c in orbit])
    return _tidy(space, finder, orbits, swaps or [])


def _tidy(space: Space, solver: z3.Solver, orbits: list[list[Cube]], swaps: list[Swap]) -> list[Cube]:
    """Drop cubes and values that the other cubes already cover, so each cube says only what it adds. `solver`
    holds the region to cover. Cubes come in orbits (a cube and its images under the regions' symmetries): an
    orbit goes when the cubes outside it cover its first cube (then, by symmetry, all of it), and a value goes from
    a whole orbit at once."""
    formulas: dict[str, z3.BoolRef] = {}

    def formula(c: Cube) -> z3.BoolRef:
        key = repr(list(c.items()))
        found = formulas.get(key)
        if found is None:
            found = formulas[key] = cube_formula(space, c)
        return found

    def covers(candidate: list[list[Cube]]) -> bool:
        return check(solver, neg(any_of([formula(c) for orbit in candidate for c in orbit]))) == UNSAT

    orbits = [[dict(c) for c in orbit] for orbit in orbits]
    for i in reversed(range(len(orbits))):
        others = orbits[:i] + orbits[i + 1:]
        if others and covers(others):
            del orbits[i]
    for i, orbit in enumerate(orbits):
        cube = orbit[0]
        for s in list(cube):
            for value in list(cube[s]):
                if len(cube[s]) == 1:
                    break
                trial = {**cube, s: [v for v in cube[s] if v != value]}
                shrunk = _images(space, trial, swaps) if swaps else [trial]
                if len(shrunk) == len(orbit) and covers([*orbits[:i], shrunk, *orbits[i + 1:]]):
                    cube, orbit = trial, shrunk
                    orbits[i] = orbit
    return [c for orbit in orbits for c in orbit]


def closest(model: Model, space: Space, region: list[z3.BoolRef],
            relevant: set[Setting] | None = None, solver: z3.Solver | None = None) -> dict[Setting, Any]:
    """The settings in `region` with the fewest changes from the defaults, chosen canonically: the answer depends
    only on the region, never on the order Z3 searches in. `relevant`: the settings the region may mention (by
    default those the space's runs read); the others keep their defaults. `solver`: one that already holds exactly
    `region` (it is then asked, not built; nothing is added to it).

    First the fewest changes k (asking "at most k changes?" for k = 0, 1, ...); then, setting by setting in the
    space's order, the first value (the default, then the domain's order) that still leaves a point of the region
    with at most k changes."""
    relevant = relevant if relevant is not None else space.read | space.constrained
    # A setting the region does not mention stays at its default (the default is always possible for it, and costs
    # no change): the search finds that with the others, in its "the rest at their defaults" query (earliest).
    # Walking the region's terms for the names it mentions cost more than those queries (bench/bench_gaps.py).
    order = [s for s in space.vars if s in relevant]
    if solver is None:
        solver = new_solver()
        solver.set("rlimit", RLIMIT)
        add(solver, region)
    changed = [neg(space.equals(s, space.defaults[s])) for s in order]
    bound = 0
    while True:
        at_most = z3.AtMost(*changed, bound) if changed else z3.BoolVal(True)
        answer = check(solver, at_most)
        if answer == SAT:
            break
        if answer == UNKNOWN or bound >= len(changed):  # pragma: no cover - the region is known to be non-empty
            raise AssertionError(f"no point in a non-empty region ({solver.reason_unknown()})")
        bound += 1
    return {**space.defaults, **earliest(model, space, solver, order, (at_most,))}
