"""Cheap structural checks that run every time the model is loaded, before any simulation or solving.

- each machine has its initial state, every listed state is reachable from it, and no reachable state is a trap
  (not final, and no transition leads anywhere else);
- two transitions on the same (state, trigger) with the same priority must not be able to fire together.

The overlap check works on a finite abstraction of the guards: each field compared with constants ranges over its
enumerated values, every other condition (a definition, a quantifier) is a free true/false atom. If the abstraction
cannot make both guards true, the guards are disjoint for certain; if it can, the loader reports the two rule ids
with the witness. Overlaps between different priorities are deliberate orderings and are returned as notes.
The complete, solver-backed overlap and gap analysis belongs to `trackproof check --model` (a later issue).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import TYPE_CHECKING

from ..errors import TrackproofError
from .expr import BOOL, Expr

if TYPE_CHECKING:
    from .ir import Model, Transition

MAX_ASSIGNMENTS = 1 << 16


def _path(e: Expr) -> bool:
    while e.kind == "attr":
        e = e.args[0]
    return e.kind == "var"


def _atoms(e: Expr, enums: dict[str, tuple[str, ...]], out: dict[str, tuple[object, ...]]) -> None:
    if e.kind in ("and", "or", "not"):
        for a in e.args:
            _atoms(a, enums, out)
        return
    if e.kind == "cmp" and e.args[1].kind in ("const", "set") and _path(e.args[0]) and e.args[0].type in enums:
        out[e.args[0].text] = enums[e.args[0].type]
        return
    if e.kind == "const":
        return
    if e.type == BOOL:
        out[e.text] = (True, False)


def _abstract(e: Expr, a: dict[str, object], enums: dict[str, tuple[str, ...]]) -> bool:
    if e.kind == "and":
        return all(_abstract(x, a, enums) for x in e.args)
    if e.kind == "or":
        return any(_abstract(x, a, enums) for x in e.args)
    if e.kind == "not":
        return not _abstract(e.args[0], a, enums)
    if e.kind == "const":
        return bool(e.value)
    if e.kind == "cmp" and e.args[0].text in a and e.args[1].kind in ("const", "set"):
        value = a[e.args[0].text]
        right = e.args[1].value
        if e.value == "==":
            return value == right
        if e.value == "!=":
            return value != right
        inside = value in right  # type: ignore[operator]
        return inside if e.value == "in" else not inside
    return bool(a[e.text])


def may_overlap(g1: Expr | None, g2: Expr | None, enums: dict[str, tuple[str, ...]]) -> dict[str, object] | None:
    """A witness assignment of the abstraction that makes both guards true, or None if they are disjoint."""
    atoms: dict[str, tuple[object, ...]] = {}
    for g in (g1, g2):
        if g is not None:
            _atoms(g, enums, atoms)
    names = sorted(atoms)
    total = 1
    for n in names:
        total *= len(atoms[n])
    if total > MAX_ASSIGNMENTS:
        return {"(too many atoms to enumerate)": True}
    for values in itertools.product(*(atoms[n] for n in names)):
        a = dict(zip(names, values, strict=True))
        if (g1 is None or _abstract(g1, a, enums)) and (g2 is None or _abstract(g2, a, enums)):
            return a
    return None


def _structure(model: Model) -> None:
    for m in model.machines.values():
        if model.initial not in m.states:
            raise TrackproofError("E304", f"machine '{m.name}' does not list the initial state '{model.initial}'",
                                  m.loc)
        edges: dict[str, set[str]] = defaultdict(set)
        for t in m.transitions:
            if t.dest is not None:
                edges[t.source].add(t.dest)
        seen, todo = {model.initial}, [model.initial]
        while todo:
            for nxt in sorted(edges[todo.pop()]):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for s in m.states:
            if s not in seen:
                raise TrackproofError("E304", f"state '{s}' is unreachable in machine '{m.name}'", m.loc,
                                      "add a transition into it or remove it from the machine's states")
            if not model.states[s].final and not (edges[s] - {s}):
                raise TrackproofError("E304", f"state '{s}' is a trap in machine '{m.name}': it is not final and "
                                      "no transition leaves it", m.loc)


def _overlaps(model: Model) -> list[str]:
    notes: list[str] = []
    groups: dict[tuple[str, str], list[Transition]] = defaultdict(list)
    for t in model.transitions:
        groups[(t.source, t.trigger)].append(t)
    enums = model.vocabulary.enums
    for (source, trigger), ts in sorted(groups.items()):
        for t1, t2 in itertools.combinations(ts, 2):
            if t1.id == t2.id or (t1.side and t2.side and t1.side != t2.side):
                continue
            witness = may_overlap(t1.guard, t2.guard, enums)
            if witness is None:
                continue
            if t1.priority == t2.priority:
                shown = ", ".join(f"{k} = {v}" for k, v in witness.items())
                raise TrackproofError("E305", f"rules '{t1.id}' and '{t2.id}' can both fire on '{trigger}' from "
                                      f"'{source}' (for example when {shown})", t2.loc,
                                      "make the guards exclusive, or give one a higher priority")
            first, second = (t1, t2) if t1.priority > t2.priority else (t2, t1)
            notes.append(f"on '{trigger}' from '{source}', '{first.id}' (priority {first.priority}) is tried before "
                         f"'{second.id}' (priority {second.priority})")
    return notes


def check_machines(model: Model) -> list[str]:
    """Refuse a structurally unsound model; return notes on deliberate orderings."""
    _structure(model)
    return _overlaps(model)
