"""How much work an expression can ask for: the any/all/first/select it nests within one another (E208).

Depth and length (spec/expr.py) do not bound the work of evaluating an expression, nor of building its Z3 term: each
binder evaluates its body once per member of its collection, so eight `any(...)` within one another over an email's
ten recipients is 10^8 evaluations (a 175-character `--watch` expression never ended). An expression nests at most
MAX_BINDERS of them, counting the bodies of the definitions it calls where they are called. Asked once every
definition is known: by the loader for the model's own expressions (`bound_model`), by claims and `--watch` for
theirs. The shipped model nests at most 3 (its definitions 2), its claims at most 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import TrackproofError
from .ir import Expr, Model

MAX_BINDERS = 4
_BINDERS = ("quant", "first", "select")


def binders(e: Expr, binders_of: Mapping[str, int]) -> int:
    """How many any/all/first/select an evaluation of `e` goes through one within another's body (its collection
    is evaluated once per evaluation of the binder, its body once per member), the definitions it calls counted
    with `binders_of` (each one's own), walked without recursion."""
    deepest, stack = 0, [(e, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level + (binders_of.get(str(node.value), 0) if node.kind == "call" else 0))
        inner = level + 1 if node.kind in _BINDERS else level
        stack.extend((arg, inner if i == 1 else level) for i, arg in enumerate(node.args))
    return deepest


def definition_binders(bodies: Mapping[str, Expr]) -> dict[str, int]:
    """binders() of each definition's body (the loader refused recursive definitions), in the order given."""
    out: dict[str, int] = {}

    def of(name: str) -> int:
        if name not in out:
            body = bodies[name]
            for called in {str(n.value) for n in body.walk() if n.kind == "call"} - set(out):
                of(called)
            out[name] = binders(body, out)
        return out[name]

    for name in bodies:
        of(name)
    return out


def bound_binders(e: Expr, binders_of: Mapping[str, int]) -> None:
    """E208 when `e` nests more than MAX_BINDERS binders (module docstring)."""
    if binders(e, binders_of) > MAX_BINDERS:
        raise TrackproofError("E208", f"expression nests more than {MAX_BINDERS} of any/all/first/select within one "
                              "another, counting the definitions it calls", e.loc,
                              "each level multiplies the work by the size of its collection: say it with fewer")


#: The last model's definitions and their binders (a claim file asks it for every expression).
_LAST: list[tuple[Any, dict[str, int]]] = []


def of_model(model: Model) -> dict[str, int]:
    """binders() of each of the model's definitions."""
    if not _LAST or _LAST[0][0] is not model.definitions:
        _LAST[:] = [(model.definitions, definition_binders({n: d.body for n, d in model.definitions.items()}))]
    return _LAST[0][1]


def bound_model(model: Model) -> None:
    """E208 for a model expression that nests too many binders, with the definitions it calls."""
    binds = of_model(model)
    exprs = [d.body for d in model.definitions.values()] + [c.expr for c in model.vocabulary.constraints]
    for t in model.transitions:
        exprs += [*((t.guard,) if t.guard is not None else ()), *(e.value for e in t.effects),
                  *(a.when for a in t.actions if a.when is not None)]
    exprs += [e.value for effects in model.records.values() for e in effects]
    for e in exprs:
        bound_binders(e, binds)
