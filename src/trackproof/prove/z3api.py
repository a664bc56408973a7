"""Z3 through its C API where the prover asks most: checks with assumptions, conjunctions, equalities, constants.

The prover builds and asks thousands of small formulas per claim. z3's Python layer coerces and type-checks every
argument of `And`, `==`, `If` and `Solver.check` in Python, which costs several times the solving of these queries
(ADR 006); the functions here call the same C functions z3's own layer ends in, on objects it made, and return its
own classes. Only z3's public API is used (its `Z3_*` functions, `Ast`, `BoolRef`, `ExprRef`, `EnumSort`), so a
new z3 release that keeps its C API keeps this module working (tests/test_prove.py compares each function with z3's
own). Nothing about claims or the model is here.
"""

from __future__ import annotations

from typing import Any

import z3

# Z3 takes SIGINT over while it solves and answers "unknown (canceled)": a Ctrl-C meant for the whole command, or a
# signal reaching only the workers, would turn into an unknown verdict (or an internal error), not an interruption.
# Left to Python, SIGINT interrupts between queries, which here take milliseconds.
z3.set_param("ctrl_c", False)

# Z3's resource limit per query, not a wall-clock timeout: deterministic (the same input gives the same answer on
# any machine, never "unknown" on a busy one) and without the timer thread a timeout starts on every check.
RLIMIT = 50_000_000

SAT: int = z3.Z3_L_TRUE
UNSAT: int = z3.Z3_L_FALSE
UNKNOWN: int = z3.Z3_L_UNDEF

_CONSTANT_IDS: dict[bool, int] = {}


def constant_id(value: bool) -> int:
    """The id of Z3's node for True or False (Z3 shares one node per constant)."""
    found = _CONSTANT_IDS.get(value)
    if found is None:
        found = _CONSTANT_IDS[value] = z3.BoolVal(value).get_id()
    return found


def _array(parts: list[z3.ExprRef]) -> Any:
    return (z3.Ast * len(parts))(*[p.as_ast() for p in parts])


def _junction(parts: list[z3.BoolRef], empty: bool, make: Any) -> z3.BoolRef:
    if not parts:
        return z3.BoolVal(empty)
    if len(parts) == 1:
        return parts[0]
    ctx = parts[0].ctx
    return z3.BoolRef(make(ctx.ref(), len(parts), _array(list(parts))), ctx)


def new_solver() -> z3.Solver:
    """A solver for trackproof's queries: small, quantifier-free, over finite domains, asked many times each.
    Z3's default solver runs preprocessing tactics before every check, which here cost more than the search;
    the plain SMT core answers the same (both are complete for these formulas) in about 80% of the time."""
    return z3.SimpleSolver()


def check(solver: z3.Solver, *assumptions: z3.BoolRef) -> int:
    """solver.check(*assumptions): SAT, UNSAT or UNKNOWN. The caller's assumptions own their nodes for the call."""
    size = len(assumptions)
    array = _array(list(assumptions)) if size else None
    return int(z3.Z3_solver_check_assumptions(solver.ctx.ref(), solver.solver, size, array))


def add(solver: z3.Solver, formulas: list[z3.BoolRef]) -> None:
    """solver.add(*formulas)."""
    ctx, raw = solver.ctx.ref(), solver.solver
    for f in formulas:
        z3.Z3_solver_assert(ctx, raw, f.as_ast())


def core_ids(solver: z3.Solver) -> set[int]:
    """The ids of the assumptions in the unsat core of the last check (which must have been UNSAT)."""
    ctx = solver.ctx.ref()
    vector = z3.Z3_solver_get_unsat_core(ctx, solver.solver)
    z3.Z3_ast_vector_inc_ref(ctx, vector)
    try:
        return {z3.Z3_get_ast_id(ctx, z3.Z3_ast_vector_get(ctx, vector, i))
                for i in range(z3.Z3_ast_vector_size(ctx, vector))}
    finally:
        z3.Z3_ast_vector_dec_ref(ctx, vector)


def all_of(parts: list[z3.BoolRef]) -> z3.BoolRef:
    """And(*parts); True for none."""
    return _junction(parts, True, z3.Z3_mk_and)


def any_of(parts: list[z3.BoolRef]) -> z3.BoolRef:
    """Or(*parts); False for none."""
    return _junction(parts, False, z3.Z3_mk_or)


def eq(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """a == b (of the same sort)."""
    ctx = a.ctx
    return z3.BoolRef(z3.Z3_mk_eq(ctx.ref(), a.as_ast(), b.as_ast()), ctx)


def ite(c: z3.BoolRef, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
    """If(c, a, b), of the class of `a` (a Boolean, or a value of an enumeration sort)."""
    ctx = c.ctx
    made: z3.ExprRef = type(a)(z3.Z3_mk_ite(ctx.ref(), c.as_ast(), a.as_ast(), b.as_ast()), ctx)
    return made


def neg(a: z3.BoolRef) -> z3.BoolRef:
    """Not(a)."""
    ctx = a.ctx
    return z3.BoolRef(z3.Z3_mk_not(ctx.ref(), a.as_ast()), ctx)


def implies(a: z3.BoolRef, b: z3.BoolRef) -> z3.BoolRef:
    """Implies(a, b)."""
    ctx = a.ctx
    return z3.BoolRef(z3.Z3_mk_implies(ctx.ref(), a.as_ast(), b.as_ast()), ctx)


def is_value(term: z3.ExprRef) -> bool:
    """Whether `term` is a value (True, False, an enumeration value): no setting can change it."""
    ctx = term.ctx.ref()
    node = term.as_ast()
    if z3.Z3_get_ast_kind(ctx, node) != z3.Z3_APP_AST or z3.Z3_get_app_num_args(ctx, node):
        return False
    return bool(z3.Z3_get_decl_kind(ctx, z3.Z3_get_app_decl(ctx, node)) != z3.Z3_OP_UNINTERPRETED)


def constants(formulas: list[z3.ExprRef]) -> set[str]:
    """The names of the free variables (uninterpreted constants) in some formulas. Walks the raw ASTs: wrapping
    every node in a Python object costs ten times the walk. The formulas own their nodes for the walk."""
    names: set[str] = set()
    if not formulas:
        return names
    ctx = formulas[0].ctx.ref()
    stack = [f.as_ast() for f in formulas]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        ident = z3.Z3_get_ast_id(ctx, node)
        if ident in seen:
            continue
        seen.add(ident)
        if z3.Z3_get_ast_kind(ctx, node) != z3.Z3_APP_AST:
            continue
        count = z3.Z3_get_app_num_args(ctx, node)
        if count:
            stack.extend(z3.Z3_get_app_arg(ctx, node, i) for i in range(count))
            continue
        decl = z3.Z3_get_app_decl(ctx, node)
        if z3.Z3_get_decl_kind(ctx, decl) == z3.Z3_OP_UNINTERPRETED:
            names.add(z3.Z3_get_symbol_string(ctx, z3.Z3_get_decl_name(ctx, decl)))
    return names


_SORTS: dict[tuple[str, tuple[str, ...]], tuple[z3.DatatypeSortRef, dict[str, z3.ExprRef]]] = {}
_VALUE_NAMES: dict[int, str] = {}  # Z3 id of a value of a sort in _SORTS -> its name (value_name)


def enum_sort(name: str, values: tuple[str, ...]) -> tuple[z3.DatatypeSortRef, dict[str, z3.ExprRef]]:
    """One Z3 sort per list of values, shared by every claim of a process: per vocabulary type, so that `X.filter`
    is one variable in all of them (which is what lets `check` ask whether a set of claims can hold together), and
    per list of a claim's participants or emails. Z3's sort names are global, so each gets its own."""
    key = (name, values)
    found = _SORTS.get(key)
    if found is None:
        sort, consts = z3.EnumSort(f"{name}!{len(_SORTS)}", list(values))
        found = (sort, dict(zip(values, consts, strict=True)))
        _SORTS[key] = found
        _VALUE_NAMES.update((const.get_id(), value) for value, const in found[1].items())
    return found


def enum_values() -> list[tuple[z3.DatatypeSortRef, dict[str, z3.ExprRef]]]:
    """Every sort enum_sort has made in this process, with its values by name."""
    return list(_SORTS.values())


def declaration(var: z3.ExprRef) -> Any:
    """The C declaration of a constant (to read its value from a model)."""
    return z3.Z3_get_app_decl(var.ctx.ref(), var.as_ast())


def model_value(model: z3.ModelRef, decl: Any) -> bool | str | None:
    """The value `model` gives the constant declared by `decl`: a bool, the name of an enum_sort value, or None
    when the model leaves it open."""
    ctx, raw = model.ctx.ref(), model.model
    value = z3.Z3_model_get_const_interp(ctx, raw, decl)
    if not value:
        return None
    truth = z3.Z3_get_bool_value(ctx, value)
    if truth != z3.Z3_L_UNDEF:
        return bool(truth == z3.Z3_L_TRUE)
    return _VALUE_NAMES[z3.Z3_get_ast_id(ctx, value)]
