"""Can a set of beliefs all be true at once? For claims that share a setup (the same fixed settings), ask Z3 for
settings under which every claim holds; if there are none, name the smallest set of claims at fault (a minimal
unsatisfiable subset, found by deleting claims one at a time in their order, not Z3's raw core).

This answers the consultant's real question: "is my understanding right?" becomes "under which settings is all of
it right, and if under none, which of my beliefs contradict each other?".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import z3

from ..spec.claims import Claim, Setting
from ..spec.ir import Model
from .records import Proof
from .regions import holds_when, regions
from .scope import Space
from .z3api import SAT, UNSAT, add, all_of, any_of, check, core_ids, implies, neg, new_solver


@dataclass(frozen=True)
class Consistency:
    claims: tuple[str, ...]
    setup: dict[str, Any]  # the fixed settings the claims share
    consistent: bool
    together_when: list[dict[str, list[Any]]] | None  # cubes under which all hold (when consistent; None: too many)
    conflict: tuple[str, ...]  # a minimal set of claims that cannot hold together (when not)


class JointSpace(Space):
    """The union of several claims' settings (a setting with the same name is the same Z3 variable)."""

    def __init__(self, spaces: list[Space]) -> None:
        first = spaces[0]
        self.model = first.model
        self.claim = replace(first.claim, kinds={k: v for s in spaces for k, v in s.claim.kinds.items()})
        self.enums = first.enums
        self.vars, self.attrs, self.defaults = {}, {}, {}
        self.read: set[Setting] = set()
        self._atoms, self._consts = {}, {}
        for space in spaces:
            for setting, var in space.vars.items():
                self.vars.setdefault(setting, var)
                self.attrs.setdefault(setting, space.attrs[setting])
                self.defaults.setdefault(setting, space.defaults[setting])
            self.read |= space.read


def setup_key(claim: Claim) -> tuple[tuple[str, str], ...]:
    """What claims must share to be asked together: the same fixed settings."""
    return tuple(sorted((f"{o}.{n}", repr(val)) for (o, n), val in claim.fixed.items()))


def _groups(proofs: list[Proof]) -> list[list[Proof]]:
    groups: dict[tuple[Any, ...], list[Proof]] = {}
    for p in proofs:
        if p.holds_region is None:
            continue
        groups.setdefault(setup_key(p.verdict.claim), []).append(p)
    return [g for g in groups.values() if len(g) > 1]


def consistency(model: Model, proofs: list[Proof]) -> list[Consistency]:
    """For each group of claims that share a setup: whether they can all hold, and under which settings; if not,
    a minimal set of them that cannot."""
    out = []
    for group in _groups(proofs):
        solver = new_solver()
        marks = {}
        for v in group:
            mark = z3.Bool(f"claim {v.verdict.claim.id}")
            marks[mark.get_id()] = v.verdict.claim.id
            assert v.holds_region is not None
            add(solver, [implies(mark, all_of([*v.base, v.holds_region]))])
        literals = [z3.Bool(f"claim {v.verdict.claim.id}") for v in group]
        setup = {f"{o}.{n}": val for (o, n), val in group[0].verdict.claim.fixed.items()}
        ids = tuple(v.verdict.claim.id for v in group)
        if check(solver, *literals) == SAT:
            space = JointSpace([v.space for v in group])
            base = [r for v in group for r in v.base]
            # Where each claim holds, and where it does not, within the scope: from its cubes where it has them (the
            # same region in formulas far smaller than the rule paths' conditions, so the same cubes come out of
            # cheaper queries), else from its rule paths.
            inside, outside = [], []
            for v in group:
                if v.holds_simply is not None:
                    inside.append(v.holds_simply)
                    outside.append(neg(v.holds_simply))
                else:
                    assert v.holds_region is not None and v.bad_region is not None
                    inside.append(v.holds_region)
                    outside.append(v.bad_region)
            everything, bad = all_of(inside), any_of(outside)
            cubes = holds_when(model, space, everything, everything, regions(base, everything, bad))
            shown = None if cubes is None else sorted(({space.label(s): vals for s, vals in c.items()} for c in cubes),
                                                      key=repr)
            out.append(Consistency(ids, setup, True, shown, ()))
            continue
        # Deletion in the claims' order, from all of them: the set found depends only on what the claims say, not on
        # the core Z3 returns. A claim outside the last core can go without asking (the core still conflicts), so
        # the core only saves queries; the decisions are those of asking every time.
        needed = core_ids(solver)
        current = list(literals)
        for literal in literals:
            trial = [c for c in current if not c.eq(literal)]
            if literal.get_id() not in needed:
                current = trial
            elif check(solver, *trial) == UNSAT:
                current, needed = trial, core_ids(solver)
        out.append(Consistency(ids, setup, False, [], tuple(marks[c.get_id()] for c in current)))
    return out
