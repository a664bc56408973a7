"""The settings a claim ranges over, as Z3 variables, and the Z3 term of any model expression along a run.

The prover (prove.py) plays the premise through the simulator with concrete settings and, for every guard part,
effect and action condition the simulator evaluates, asks this module for the expression's Z3 term over the free
settings. Everything else an expression reads (where copies are, which activities exist) is fixed by the decisions
recorded before it, so it enters the term as a constant. The conjunction "term == value seen" over a run is that
run's path condition: exactly the settings under which the model takes the same rule path.
Compiled from the same IR expressions as the simulator; nothing about Dynamics 365 is written here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import z3
from z3.z3 import _to_ast_array as _ast_array
from z3.z3 import _to_expr_ref as _expr_ref

from ..simulate.evaluate import Compiler
from ..simulate.world import World
from ..spec.claims import Claim, Setting, setting_attribute
from ..spec.expr import BOOL, NULL, PARTY, PARTY_SET, Expr
from ..spec.ir import Attribute, Model

NONE = "!none"

# Z3 takes SIGINT over while it solves and answers "unknown (canceled)": a Ctrl-C meant for the whole command, or a
# signal reaching only the workers, would turn into an unknown verdict (or an internal error), not an interruption.
# Left to Python, SIGINT interrupts between queries, which here take milliseconds.
z3.set_param("ctrl_c", False)


_CONSTANT_IDS: dict[bool, int] = {}


def _constant_id(value: bool) -> int:
    found = _CONSTANT_IDS.get(value)
    if found is None:
        found = _CONSTANT_IDS[value] = z3.BoolVal(value).get_id()
    return found


def _junction(parts: list[z3.BoolRef], empty: bool, make: Any) -> z3.BoolRef:
    if not parts:
        return z3.BoolVal(empty)
    if len(parts) == 1:
        return parts[0]
    ctx = parts[0].ctx
    array, size = _ast_array(parts)
    return z3.BoolRef(make(ctx.ref(), size, array), ctx)


def new_solver() -> z3.Solver:
    """A solver for trackproof's queries: small, quantifier-free, over finite domains, asked many times each.
    Z3's default solver runs preprocessing tactics before every check, which here cost more than the search;
    the plain SMT core answers the same (both are complete for these formulas) in about 80% of the time."""
    return z3.SimpleSolver()


SAT: int = z3.Z3_L_TRUE
UNSAT: int = z3.Z3_L_FALSE
UNKNOWN: int = z3.Z3_L_UNDEF


def check(solver: z3.Solver, *assumptions: z3.BoolRef) -> int:
    """solver.check(*assumptions) through Z3's C API: SAT, UNSAT or UNKNOWN. z3's own check coerces every
    assumption to a Boolean in Python, which costs several times the solving of these small queries. The caller's
    assumptions own their nodes for the call."""
    size = len(assumptions)
    array = (z3.Ast * size)(*[a.as_ast() for a in assumptions]) if size else None
    return int(z3.Z3_solver_check_assumptions(solver.ctx.ref(), solver.solver, size, array))


def add(solver: z3.Solver, formulas: list[z3.BoolRef]) -> None:
    """solver.add(*formulas) through Z3's C API (z3's own add coerces each formula in Python first)."""
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
    """Conjunction through Z3's C API: z3.And's argument coercion costs more than the solving here."""
    return _junction(parts, True, z3.Z3_mk_and)


def eq(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """a == b through Z3's C API (the operator's coercion is the prover's hot spot)."""
    ctx = a.ctx
    return z3.BoolRef(z3.Z3_mk_eq(ctx.ref(), a.as_ast(), b.as_ast()), ctx)


def ite(c: z3.BoolRef, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
    """If(c, a, b) through Z3's C API (z3.If coerces and type-checks each argument in Python)."""
    ctx = c.ctx
    return _expr_ref(z3.Z3_mk_ite(ctx.ref(), c.as_ast(), a.as_ast(), b.as_ast()), ctx)


def neg(a: z3.BoolRef) -> z3.BoolRef:
    ctx = a.ctx
    return z3.BoolRef(z3.Z3_mk_not(ctx.ref(), a.as_ast()), ctx)


def any_of(parts: list[z3.BoolRef]) -> z3.BoolRef:
    """Disjunction through Z3's C API (see all_of)."""
    return _junction(parts, False, z3.Z3_mk_or)


def constants(formulas: list[z3.ExprRef]) -> set[str]:
    """The names of the free variables (uninterpreted constants) in some formulas.
    Walks the raw ASTs through Z3's C API: wrapping every node in a Python object costs ten times the walk. The
    formulas own their nodes, so the raw pointers stay valid for the walk."""
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


_VALUE_NAMES: dict[int, str] = {}  # Z3 id of a value of a sort in _SORTS -> its name (Space.assigned)


def _vocabulary_sort(name: str, values: tuple[str, ...]) -> tuple[z3.DatatypeSortRef, dict[str, z3.ExprRef]]:
    """One Z3 sort per list of values, shared by every claim: per vocabulary type, so that `X.filter` is one
    variable in all of them (which is what lets `check` ask whether a set of claims can hold together), and per
    list of a claim's participants or emails (named "party" or "email"). Z3's sort names are global, so each gets
    its own."""
    key = (name, values)
    found = _SORTS.get(key)
    if found is None:
        sort, consts = z3.EnumSort(f"{name}!{len(_SORTS)}", list(values))
        found = (sort, dict(zip(values, consts, strict=True)))
        _SORTS[key] = found
        _VALUE_NAMES.update((const.get_id(), value) for value, const in found[1].items())
    return found


_VARS: dict[tuple[str, int], z3.ExprRef] = {}  # (name, sort id) -> the setting's variable (Space._var)
_DECLS: dict[int, Any] = {}  # id of a variable in _VARS -> its Z3 declaration (Space.assigned)
_ATOMS: dict[tuple[int, Any], z3.BoolRef] = {}  # (id of a variable in _VARS, value) -> "variable == value"


class Space:
    """The free settings of one claim as Z3 variables, their defaults, and the constraints between them."""

    def __init__(self, model: Model, claim: Claim, emails: list[str]) -> None:
        self.model = model
        self.claim = claim
        self.enums: dict[str, tuple[z3.DatatypeSortRef, dict[str, z3.ExprRef]]] = {}
        for name, values in model.vocabulary.enums.items():
            self.enums[name] = _vocabulary_sort(name, values)
        self.enums[PARTY] = _vocabulary_sort("party", (*claim.scenario.participants, NONE))
        self.enums["email"] = _vocabulary_sort("email", (*emails, NONE))
        self.vars: dict[Setting, z3.ExprRef] = {}
        self.attrs: dict[Setting, Attribute] = {}
        self.defaults: dict[Setting, Any] = {}
        self.background: list[z3.BoolRef] = []
        self._atoms: dict[tuple[Setting, Any], z3.BoolRef] = {}
        self._consts: dict[tuple[str, Any], z3.ExprRef] = {}
        self._declare()
        self.names = {name for _, name in self.vars}
        self.org_names = {name for owner, name in self.vars if owner == "org"}
        self.symbolic_memo: dict[int, bool] = {}  # expression id -> may read a free setting (Builder.symbolic)
        self.settings_only: dict[int, bool] = {}  # expression id -> reads only settings (prove.reads_settings_only)
        self.read: set[Setting] = set()  # the settings some run's path condition mentions
        self.constrained: set[Setting] = set()  # the settings the scope's constraints mention
        # (decisions so far, expression, email, actor, event, role) -> (term, pins, definitions, fields read): see
        # prove.run_path
        self.terms: dict[tuple[Any, ...], Any] = {}
        # (kinds' classes, the step, its names) -> (what the term's building read of the world, the cached entry)
        self.by_reads: dict[tuple[Any, ...], list[tuple[Any, Any]]] = {}
        self.pins: dict[tuple[Any, ...], z3.BoolRef] = {}  # (id of a kept term, type, value) -> "term == value"

    def _candidates(self) -> list[tuple[Setting, Attribute]]:
        vocab = self.model.vocabulary
        out: list[tuple[Setting, Attribute]] = [(("org", n), a) for n, a in vocab.groups["org"].items()]
        for pid, p in self.claim.scenario.participants.items():
            mailbox = p.kind in ("user", "queue")
            if mailbox:
                out += [((pid, n), a) for n, a in vocab.groups["mailbox"].items()
                        if not (a.users_only and p.kind == "queue")]
            out += [((pid, n), a) for n, a in vocab.groups["party"].items() if n != "kind"]
        return out

    def _declare(self) -> None:
        claim = self.claim
        wanted = set(claim.free) if claim.free is not None else None
        for setting, attr in self._candidates():
            if setting in claim.fixed or (wanted is not None and setting not in wanted):
                continue
            self.vars[setting] = self._var(setting, attr.type)
            self.attrs[setting] = attr
            self.defaults[setting] = self.default(setting, attr)
        for pid, choices in claim.kinds.items():
            var = self._var((pid, "kind"), "kind")
            self.vars[(pid, "kind")] = var
            self.attrs[(pid, "kind")] = self.model.vocabulary.groups["party"]["kind"]
            self.defaults[(pid, "kind")] = choices[0]
            self.background.append(any_of([var == self.const(k, "kind") for k in choices]))

    def _var(self, setting: Setting, typ: str) -> z3.ExprRef:
        """The setting's Z3 variable. Its sort is shared by every claim (vocabulary types, Booleans), and so is the
        variable: made once per process, not once per claim."""
        name = f"{setting[0]}.{setting[1]}"
        sort = z3.BoolSort() if typ == BOOL else self.enums[typ][0]
        key = (name, sort.get_id())
        found = _VARS.get(key)
        if found is None:
            found = _VARS[key] = z3.Bool(name) if typ == BOOL else z3.Const(name, sort)
            _DECLS[id(found)] = z3.Z3_get_app_decl(found.ctx.ref(), found.as_ast())
        return found

    def default(self, setting: Setting, attr: Attribute) -> Any:
        owner = setting[0]
        participant = self.claim.scenario.participants.get(owner)
        if participant is not None and participant.kind == "queue" and attr.default_for_queue is not None:
            return attr.default_for_queue
        return attr.default

    def const(self, value: Any, typ: str) -> z3.ExprRef:
        key = (typ, value if not isinstance(value, list) else tuple(value))
        found = self._consts.get(key)
        if found is None:
            found = self._const(value, typ)
            self._consts[key] = found
        return found

    def _const(self, value: Any, typ: str) -> z3.ExprRef:
        if typ == BOOL:
            return z3.BoolVal(bool(value))
        if typ in ("party", "email"):
            if isinstance(value, tuple):
                value = value[0]
            return self.enums[typ][1][NONE if value is None else str(value)]
        consts = self.enums[typ][1]
        return consts[str(value)] if value is not None else consts.get("none", next(iter(consts.values())))

    def equals(self, setting: Setting, value: Any) -> z3.BoolRef:
        """`setting == value` as a Z3 atom, built once."""
        key = (setting, value)
        atom = self._atoms.get(key)
        if atom is None:
            var = self.vars[setting]
            typ = self.attrs[setting].type
            shared = (id(var), value)  # the variable is kept in _VARS: its id is not reused
            atom = _ATOMS.get(shared)
            if atom is None:
                atom = (var if value else neg(var)) if typ == BOOL else eq(var, self.const(value, typ))
                _ATOMS[shared] = atom
            self._atoms[key] = atom
        return atom

    def assigned(self, model: z3.ModelRef, settings: Iterable[Setting]) -> dict[Setting, Any]:
        """The values `model` gives `settings`, as Python values (a bool, or an enum value's name); a setting it
        leaves open is absent. Read through Z3's C API, one setting at a time: m.eval and printing the values cost
        more than the prover's own queries, and a model holds more than the settings asked for."""
        ctx, raw = model.ctx.ref(), model.model
        out: dict[Setting, Any] = {}
        for setting in settings:
            value = z3.Z3_model_get_const_interp(ctx, raw, _DECLS[id(self.vars[setting])])
            if not value:
                continue
            truth = z3.Z3_get_bool_value(ctx, value)
            if truth != z3.Z3_L_UNDEF:
                out[setting] = truth == z3.Z3_L_TRUE
            else:
                out[setting] = _VALUE_NAMES[z3.Z3_get_ast_id(ctx, value)]
        return out

    def label(self, setting: Setting) -> str:
        return f"{setting[0]}.{setting[1]}"


class Builder:
    """Z3 terms of model expressions in one run's world; pins what it reads concretely into `pins`."""

    def __init__(self, space: Space, world: World, compiler: Compiler,
                 version: Callable[[], int] | None = None) -> None:
        self.space = space
        self.version = version or (lambda: 0)  # changes whenever the world may have changed
        # a call's term in this world, with the pins, definitions and reads its building added
        self._calls: dict[tuple[Any, ...], tuple[z3.ExprRef, list[z3.BoolRef], list[str], list[Any]]] = {}
        self.defined: list[str] = []  # every definition the terms used, in order (prove.run_path slices it)
        # (message id, role) -> definitions in its terms, every branch and not just the one taken; the role is
        # "guard", "action" or the email field an effect sets
        self.defs: dict[tuple[str, str], set[str]] = {}
        self.role = "guard"
        self.world = world
        self.compiler = compiler
        self.pins: list[z3.BoolRef] = []
        self._names = space.names
        self._org = space.org_names
        self._symbolic = space.symbolic_memo

    def symbolic(self, e: Expr) -> bool:
        """Whether `e` may read a free setting (if not, its value along the run is a constant)."""
        key = id(e)
        found = self._symbolic.get(key)
        if found is None:
            if e.kind == "attr" and e.owner == "org":
                found = str(e.value) in self._org
            elif e.kind == "attr" and e.owner == "party" and str(e.value) in self._names:
                found = True
            elif e.kind == "call":
                found = self.symbolic(self.space.model.definitions[str(e.value)].body) or any(
                    self.symbolic(a) for a in e.args)
            else:
                found = any(self.symbolic(a) for a in e.args)
            self._symbolic[key] = found
        return found

    def _concrete(self, e: Expr, env: dict[str, Any]) -> Any:
        value = self.compiler.compile(e)(env)
        if e.kind not in ("var", "const"):
            self.pins.append(self.term(e, env) == self.space.const(value, e.type))
        return value

    def term(self, e: Expr, env: dict[str, Any]) -> z3.ExprRef:
        s, kind = self.space, e.kind
        if kind not in ("const", "var") and not self.symbolic(e):
            return s.const(self.compiler.compile(e)(env), e.type)
        if kind == "const":
            return z3.BoolVal(bool(e.value)) if e.type == BOOL else s.const(e.value, PARTY)
        if kind == "var":
            return s.const(env[str(e.value)], e.type)
        if kind == "attr":
            return self._attribute(e, env)
        if kind == "not":
            return neg(self.term(e.args[0], env))
        if kind in ("and", "or"):
            return self._junction(kind == "and", e.args, env)
        if kind == "cmp":
            return self._compare(e, env)
        if kind == "if":
            cond = self.term(e.args[0], env)
            return ite(cond, self._typed(e.args[1], env, e.type), self._typed(e.args[2], env, e.type))
        if kind == "coalesce":
            parts = [self._typed(a, env, e.type) for a in e.args]
            result = parts[-1]
            none = s.const(None, e.type if e.type != NULL else PARTY)
            for part in reversed(parts[:-1]):
                result = ite(neg(eq(part, none)), part, result)
            return result
        if kind == "quant":
            coll, body = e.args
            members = self.world.members(self.compiler.compile(coll)(env))
            parts = [self.term(body, {**env, e.var: m}) for m in members]
            return any_of(parts) if e.value == "any" else all_of(parts)
        if kind == "first":
            members = self.world.members(self.compiler.compile(e.args[0])(env))
            result = s.const(None, PARTY)
            for m in reversed(members):
                cond = self.term(e.args[1], {**env, e.var: m}) if len(e.args) > 1 else z3.BoolVal(True)
                result = ite(cond, s.const(m, PARTY), result)
            return result
        if kind == "call":
            current = env.get("email")
            where = (current[0] if current else "", self.role)
            self.defs.setdefault(where, set()).add(str(e.value))
            self.defined.append(str(e.value))
            definition = self.space.model.definitions[str(e.value)]
            inner = dict(env)
            values = []
            for (param, _), arg in zip(definition.params, e.args, strict=True):
                inner[param] = self._concrete(arg, env)
                values.append(inner[param])
            event = env.get("__event")
            key = (e.value, tuple(values), env.get("email"), env.get("actor"), id(event) if event else 0,
                   self.version())
            found = self._calls.get(key)
            log = getattr(self.world, "log", None)  # what a term's building read (prove.run_path)
            if found is None:
                marks = len(self.pins), len(self.defined), len(log) if log is not None else 0
                term = self.term(definition.body, inner)
                found = (term, self.pins[marks[0]:], self.defined[marks[1]:],
                         log[marks[2]:] if log is not None else [])
                self._calls[key] = found
            else:
                # What building it added, added again: the term that uses it may be kept and used in another run,
                # and must bring with it the pins, definitions and reads it rests on.
                self.pins.extend(found[1])
                self.defs.setdefault(where, set()).update(found[2])
                self.defined.extend(found[2])
                if log is not None:
                    log.extend(found[3])
            return found[0]
        raise AssertionError(kind)  # pragma: no cover

    def _junction(self, conjunction: bool, args: tuple[Expr, ...], env: dict[str, Any]) -> z3.ExprRef:
        """And/Or, deciding at once on a constant part: only the parts that can still matter become terms."""
        absorbing = not conjunction  # False absorbs an And, True absorbs an Or
        parts = []
        for a in args:
            if not self.symbolic(a):
                if bool(self.compiler.compile(a)(env)) == absorbing:
                    return z3.BoolVal(absorbing)
                continue
            part = self.term(a, env)
            ident = part.get_id()  # Z3 shares one node per constant: one C call instead of is_true/is_false's four
            if ident == _constant_id(absorbing):
                return z3.BoolVal(absorbing)
            if ident != _constant_id(conjunction):
                parts.append(part)
        if not parts:
            return z3.BoolVal(conjunction)
        if len(parts) == 1:
            return parts[0]
        return all_of(parts) if conjunction else any_of(parts)

    def _typed(self, e: Expr, env: dict[str, Any], typ: str) -> z3.ExprRef:
        """The term of `e`, with a bare None given the sort of `typ` (a party or an email)."""
        if e.kind == "const" and e.value is None:
            return self.space.const(None, typ if typ != NULL else PARTY)
        return self.term(e, env)

    def _attribute(self, e: Expr, env: dict[str, Any]) -> z3.ExprRef:
        owner, name, s = e.owner, str(e.value), self.space
        if owner == "org":
            setting: Setting = ("org", name)
            if setting in s.vars and setting not in self.world.overwritten:
                s.read.add(setting)
                return s.vars[setting]
            return s.const(self.world.org[name], e.type)
        obj = self._concrete(e.args[0], env)
        if owner == "party" and obj is not None:
            setting = (str(obj), name)
            if setting in s.vars and setting not in self.world.overwritten:
                s.read.add(setting)
                return s.vars[setting]
        return s.const(self.world.get(owner, obj, name, env), e.type)

    def _compare(self, e: Expr, env: dict[str, Any]) -> z3.ExprRef:
        left, right = e.args
        s = self.space
        for side in (left, right):
            if side.kind == "attr" and side.owner in ("party", "email") and \
                    self.compiler.compile(side.args[0])(env) is None:
                # An attribute of nobody (`E1.accepted_by.kind` when nothing accepted it) has no value in the
                # attribute's sort: once the absence is pinned, the comparison is a constant of this run.
                self._concrete(side.args[0], env)
                return z3.BoolVal(bool(self.compiler.compile(e)(env)))
        if e.value in ("==", "!=") and left.kind == "attr" and right.kind == "const" and left.value == "kind":
            owner = self.compiler.compile(left.args[0])(env)
            choices = self.space.claim.kinds.get(str(owner))
            if choices is not None and right.value not in choices and (str(owner), "kind") not in \
                    self.world.overwritten:  # outside the setting's domain: never equal
                return z3.BoolVal(e.value == "!=")
        if e.value in ("==", "!="):
            return equality(e, lambda x: self.term(x, env), s.const)
        lt = self.term(left, env)
        if right.kind == "set":
            inside = in_values(e, lt, s.const)
        else:
            assert right.type == PARTY_SET
            members = self.world.members(self.compiler.compile(right)(env))
            inside = any_of([eq(lt, s.const(m, PARTY)) for m in members])
        return inside if e.value == "in" else neg(inside)


def equality(e: Expr, term: Callable[[Expr], Any], const: Callable[[Any, str], Any]) -> z3.BoolRef:
    """`a == b` or `a != b` as a Z3 term, a quoted value taking the type of the other side (shared by the prover's
    and the model check's compilers)."""
    left, right = e.args
    typ = left.type if left.type not in (NULL, "str") else right.type
    lt = const(left.value, typ) if left.kind == "const" and left.type != BOOL else term(left)
    rt = const(right.value, typ) if right.kind == "const" and right.type != BOOL else term(right)
    return eq(lt, rt) if e.value == "==" else neg(eq(lt, rt))


def in_values(e: Expr, left: z3.ExprRef, const: Callable[[Any, str], Any]) -> z3.BoolRef:
    """`a in {'x', 'y'}` (before any `not`) as a Z3 term."""
    values = e.args[1].value if isinstance(e.args[1].value, tuple) else ()
    return any_of([eq(left, const(v, e.args[0].type)) for v in values])


def quiet(env: dict[str, Any]) -> dict[str, Any]:
    """An environment whose evaluation records nothing (no rules used, no assumptions)."""
    return {**env, "__used": None, "__assumed": None}


def setting_attr(model: Model, claim: Claim, owner: str, name: str) -> Attribute | None:
    kind = claim.scenario.participants[owner].kind if owner in claim.scenario.participants else None
    return setting_attribute(model, owner, name, kind)
