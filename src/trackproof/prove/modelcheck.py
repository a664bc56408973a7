"""`trackproof check --model`: are the rules themselves consistent? Z3 over a free world.

For every state and trigger, the guards of the transitions that leave it form a decision table. Here each guard is
compiled to Z3 over a *free world*: every setting, every fact about the current email, its parent and an earlier
stored email, and three parties with their mailbox settings and copies are free variables (the vocabulary's
constraints still hold). Questions, each answered with a witness:
- overlap: can two rules of equal priority fire together (nondeterminism)?
- shadowed: can a rule never fire because rules tried before it always fire first?
- dead: can a rule's guard never be true?
- gap: when does nothing at all happen on that trigger (the email stays as it is)? Reported, not an error: staying
  put is often the documented behaviour (Pending Send without a channel, R12).
The free world over-approximates the reachable ones, so "no witness" is a proof; a witness may be unreachable.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from ..spec.expr import BOOL, NULL, PARTY, PARTY_SET, Expr, conjuncts
from ..spec.ir import Model, Transition
from .terms import equality, in_values
from .z3api import SAT, UNSAT, all_of, any_of, check, constants, enum_sort, eq, ite, neg

PARTIES = ("p1", "p2", "p3")
EMAILS = ("current", "parent", "earlier")
NONE = "nobody"
_tags = itertools.count()


@dataclass(frozen=True)
class Finding:
    kind: str  # overlap | shadowed | dead | gap
    machine: str
    state: str
    trigger: str
    rules: tuple[str, ...]
    witness: tuple[str, ...]  # the free world's values that show it, as "name = value"


class FreeWorld:
    def __init__(self, model: Model) -> None:
        self.model = model
        vocab = model.vocabulary
        tag = next(_tags)
        self.party_sort, party_consts = z3.EnumSort(f"mc-party!{tag}", [*PARTIES, NONE])
        self.parties = dict(zip([*PARTIES, NONE], party_consts, strict=True))
        self.email_sort, email_consts = z3.EnumSort(f"mc-email!{tag}", [*EMAILS, NONE])
        self.emails = dict(zip([*EMAILS, NONE], email_consts, strict=True))
        self.vars: dict[str, z3.ExprRef] = {}
        self._terms: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = {}
        self._names: dict[int, tuple[list[str], z3.ExprRef]] = {}
        self._attributes: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self.background: list[z3.BoolRef] = []
        self.enums = {name: enum_sort(name, values) for name, values in vocab.enums.items()}
        for c in vocab.constraints:
            for p in PARTIES:
                dyn = any_of([eq(self.var(f"{p}.kind", "kind"), self.const(k, "kind")) for k in ("user", "queue")])
                self.background.append(z3.Implies(dyn, self.term(c.expr, {"p": self.parties[p]})))
        for e in EMAILS:
            self.background.append(eq(self.var(f"{e}.has_parent", BOOL),
                                      neg(eq(self.var(f"{e}.parent", "email"), self.emails[NONE]))))
        self.background.append(neg(eq(self.var("current.sender", PARTY), self.parties[NONE])))

    # --- variables and constants -------------------------------------------------------------------------------
    def sort(self, typ: str) -> z3.SortRef:
        if typ == BOOL:
            return z3.BoolSort()
        if typ == PARTY:
            return self.party_sort
        if typ == "email":
            return self.email_sort
        return self.enums[typ][0]

    def var(self, name: str, typ: str) -> z3.ExprRef:
        found = self.vars.get(name)
        if found is None:
            found = z3.Const(name, self.sort(typ))
            self.vars[name] = found
        return found

    def const(self, value: Any, typ: str) -> z3.ExprRef:
        if typ == BOOL:
            return z3.BoolVal(bool(value))
        if typ == PARTY or (typ == NULL and value is None):
            return self.parties[NONE if value is None else str(value)]
        if typ == "email":
            return self.emails[NONE if value is None else str(value)]
        consts = self.enums[typ][1]
        return consts[str(value)] if value is not None else consts.get("none", next(iter(consts.values())))

    def _select(self, ref: z3.ExprRef, table: dict[str, z3.ExprRef], choices: tuple[str, ...],
                fetch: Callable[[str], z3.ExprRef], default: z3.ExprRef) -> z3.ExprRef:
        result = default
        for name in reversed(choices):
            result = ite(eq(ref, table[name]), fetch(name), result)
        return result

    # --- terms -------------------------------------------------------------------------------------------------
    def attribute(self, owner: str, obj: z3.ExprRef | None, name: str, typ: str) -> Any:
        """The term of a field of `obj` (a party or an email term), built once per object and field: guards read
        the same fields of the same parties again and again. The entry keeps `obj` alive, so its id is not reused."""
        key = (owner, id(obj), name, typ)
        found = self._attributes.get(key)
        if found is None:
            found = self._attributes[key] = (self._attribute(owner, obj, name, typ), obj)
        return found[0]

    def _attribute(self, owner: str, obj: z3.ExprRef | None, name: str, typ: str) -> Any:
        if owner in ("org", "reading"):  # a setting, or the reading of a disputed point: free in the free world
            return self.var(f"{owner}.{name}", typ)
        if owner == "event":
            return self.var(f"event.{name}", typ)
        if typ == PARTY_SET:
            assert obj is not None
            return lambda p: self._select(obj, self.emails, EMAILS, lambda e: self.var(f"{e}.{name}.{p}", BOOL),
                                          z3.BoolVal(False))
        assert obj is not None
        if owner == "party":
            return self._select(obj, self.parties, PARTIES, lambda p: self.var(f"{p}.{name}", typ),
                                self.const(None, typ) if typ in (PARTY, "email") else self._null(typ))
        return self._select(obj, self.emails, EMAILS, lambda e: self.var(f"{e}.{name}", typ),
                            self.const(None, typ) if typ in (PARTY, "email") else self._null(typ))

    def _null(self, typ: str) -> z3.ExprRef:
        if typ == BOOL:
            return z3.BoolVal(False)
        values = self.model.vocabulary.enums[typ]
        return self.const("none" if "none" in values else values[0], typ)

    def term(self, e: Expr, env: dict[str, Any]) -> Any:
        """The Z3 term of `e` in `env`, built once per expression and environment (guards share definitions, and
        the gap explanations revisit the guards' parts)."""
        # Keyed on the environment's objects, not their Z3 ids (one C call each, most of the lookup's cost): they are
        # the same objects wherever the same term is asked for (constants, variables and terms are each built once
        # here), and each entry keeps its environment's objects alive, so an id is never reused by another object.
        key = (id(e), *((k, id(v)) for k, v in env.items()))
        found = self._terms.get(key)
        if found is None:
            found = self._terms[key] = (self._term(e, env), tuple(env.values()))
        return found[0]

    def _term(self, e: Expr, env: dict[str, Any]) -> Any:
        kind = e.kind
        if kind == "const":
            return z3.BoolVal(bool(e.value)) if e.type == BOOL else self.const(e.value, PARTY)
        if kind == "var":
            return env[str(e.value)]
        if kind == "attr":
            obj = self.term(e.args[0], env) if e.owner not in ("org", "event", "reading") else None
            return self.attribute(e.owner, obj, str(e.value), e.type)
        if kind == "not":
            return neg(self.term(e.args[0], env))
        if kind in ("and", "or"):
            parts = [self.term(a, env) for a in e.args]
            return all_of(parts) if kind == "and" else any_of(parts)
        if kind == "cmp":
            left, right = e.args
            if e.value in ("==", "!="):
                return equality(e, lambda x: self.term(x, env), self.const)
            lt = self.term(left, env)
            if right.kind == "set":
                inside = in_values(e, lt, self.const)
            else:
                member = self.term(right, env)
                inside = any_of([all_of([eq(lt, self.parties[p]), member(p)]) for p in PARTIES])
            return inside if e.value == "in" else neg(inside)
        if kind == "if":
            return ite(self.term(e.args[0], env), self._typed(e.args[1], env, e.type),
                         self._typed(e.args[2], env, e.type))
        if kind == "coalesce":
            parts = [self._typed(a, env, e.type) for a in e.args]
            result = parts[-1]
            for part in reversed(parts[:-1]):
                result = ite(neg(eq(part, self.const(None, e.type))), part, result)
            return result
        if kind == "quant":
            member = self.term(e.args[0], env)
            parts = [(member(p), self.term(e.args[1], {**env, e.var: self.parties[p]})) for p in PARTIES]
            if e.value == "any":
                return any_of([all_of([m, b]) for m, b in parts])
            return all_of([z3.Implies(m, b) for m, b in parts])
        if kind in ("first", "select"):
            return self._picked(e, env)
        if kind == "call":
            definition = self.model.definitions[str(e.value)]
            inner = dict(env)
            for (param, _), arg in zip(definition.params, e.args, strict=True):
                inner[param] = self.term(arg, env)
            return self.term(definition.body, inner)
        raise AssertionError(kind)  # pragma: no cover

    def _picked(self, e: Expr, env: dict[str, Any]) -> Any:
        """`first(...)`: the first party of a set that satisfies a condition; `select(...)`: the set of those
        parties, as the membership function its members satisfy."""
        member = self.term(e.args[0], env)

        def kept(p: str) -> z3.BoolRef:
            cond = self.term(e.args[1], {**env, e.var: self.parties[p]}) if len(e.args) > 1 else z3.BoolVal(True)
            return all_of([member(p), cond])

        if e.kind == "select":
            return kept
        result = self.parties[NONE]
        for p in reversed(PARTIES):
            result = ite(kept(p), self.parties[p], result)
        return result

    def _typed(self, e: Expr, env: dict[str, Any], typ: str) -> Any:
        if e.kind == "const" and e.value is None:
            return self.const(None, typ)
        return self.term(e, env)

    def names(self, formula: z3.ExprRef) -> list[str]:
        """The variables `formula` mentions, sorted; remembered per formula (the gap explanations ask again for the
        same parts of guards). The formula is kept with the answer, so its id is not reused."""
        found = self._names.get(formula.get_id())
        if found is None:
            found = self._names[formula.get_id()] = (sorted(constants([formula])), formula)
        return found[0]

    def scope(self) -> dict[str, Any]:
        return {"org": None, "event": None, "email": self.emails["current"],
                "sender": self.var("current.sender", PARTY), "parent": self.var("current.parent", "email"),
                "actor": self.var("actor", PARTY)}


def _evaluated(m: z3.ModelRef, term: z3.ExprRef) -> str:
    """The value of `term` in `m` (completed) as text: true/false, or the enumeration value's name. Through Z3's C
    API: m.eval, Z3's printer and the tests on the result cost several times the evaluation, and the gap
    explanations evaluate a great many terms."""
    ctx = m.ctx.ref()
    result = (z3.Ast * 1)()
    if not z3.Z3_model_eval(ctx, m.model, term.as_ast(), True, result):  # pragma: no cover
        raise AssertionError("Z3 could not evaluate a term in a model")
    out = result[0]
    z3.Z3_inc_ref(ctx, out)
    try:
        truth = z3.Z3_get_bool_value(ctx, out)
        if truth != z3.Z3_L_UNDEF:
            return "true" if truth == z3.Z3_L_TRUE else "false"
        return str(z3.Z3_get_symbol_string(ctx, z3.Z3_get_decl_name(ctx, z3.Z3_get_app_decl(ctx, out))))
    finally:
        z3.Z3_dec_ref(ctx, out)


def _witness(world: FreeWorld, m: z3.ModelRef, formula: z3.ExprRef, limit: int = 10) -> tuple[str, ...]:
    shown = []
    for name in world.names(formula):
        shown.append(f"{name} = {_evaluated(m, world.vars[name])}")
    return tuple(shown[:limit]) + (("...",) if len(shown) > limit else ())


def _why_not(world: FreeWorld, env: dict[str, Any], m: z3.ModelRef, t: Transition) -> str:
    """The first part of t's guard that is false in the witness, with the values that make it so."""
    if t.guard is None:
        return f"{t.id}: (no guard)"
    if t.side is not None and _evaluated(m, world.var("current.side", "side")) != t.side:
        return f"{t.id}: only for the {t.side} side"
    for part in conjuncts(t.guard):
        term = world.term(part, env)
        if _evaluated(m, term) == "false":
            values = _witness(world, m, term, limit=3)
            return f"{t.id}: `{part.text}` is false ({', '.join(values)})"
    return f"{t.id}: false"  # pragma: no cover - one part of a false conjunction is false


def check_model(model: Model) -> list[Finding]:
    """Overlaps, shadowed and dead rules, and gaps, per machine, state and trigger."""
    world = FreeWorld(model)
    env = world.scope()
    guards: dict[int, z3.BoolRef] = {}
    findings: list[Finding] = []
    # Z3's solver for quantifier-free datatypes (the free world is enumerations, Booleans, equalities and ifs):
    # about 10% faster here than the plain SMT core the prover's many small queries prefer (z3api.new_solver).
    solver = z3.SolverFor("QF_DT")
    solver.set("rlimit", 50_000_000)  # deterministic, unlike a timeout (see prove.RLIMIT)
    solver.add(world.background)
    for machine in model.machines.values():
        groups: dict[tuple[str, str], list[Transition]] = {}
        for t in machine.transitions:
            groups.setdefault((t.source, t.trigger), []).append(t)
        for (source, trigger), ts in sorted(groups.items()):
            state = model.states[source]
            here = [eq(world.var("current.stored", BOOL), z3.BoolVal(state.stored))]
            if state.side != "both":
                here.append(eq(world.var("current.side", "side"), world.const(state.side, "side")))

            def guard(t: Transition) -> z3.BoolRef:
                key = id(t)
                if key not in guards:
                    g = world.term(t.guard, env) if t.guard is not None else z3.BoolVal(True)
                    if t.side is not None:
                        g = all_of([g, eq(world.var("current.side", "side"), world.const(t.side, "side"))])
                    guards[key] = g
                return guards[key]

            ordered = sorted(ts, key=lambda t: (-t.priority, t.order))
            for i, t in enumerate(ordered):
                g = guard(t)
                if check(solver, *here, g) == UNSAT:
                    findings.append(Finding("dead", machine.name, source, trigger, (t.id,), ()))
                    continue
                earlier = [guard(u) for u in ordered[:i] if u.priority > t.priority]
                if earlier and check(solver, *here, g, *[neg(x) for x in earlier]) == UNSAT:
                    findings.append(Finding("shadowed", machine.name, source, trigger,
                                            (t.id, *[u.id for u in ordered[:i] if u.priority > t.priority]), ()))
                for u in ordered[:i]:
                    if u.priority == t.priority and u.id != t.id and check(solver, *here, g, guard(u)) == SAT:
                        both = all_of([g, guard(u)])
                        findings.append(Finding("overlap", machine.name, source, trigger, (u.id, t.id),
                                                _witness(world, solver.model(), both)))
            none = all_of([neg(guard(t)) for t in ts])
            if check(solver, *here, none) == SAT:
                m = solver.model()
                ids = tuple(dict.fromkeys(t.id for t in ordered))
                reasons = tuple(dict.fromkeys(_why_not(world, env, m, t) for t in ordered))
                findings.append(Finding("gap", machine.name, source, trigger, ids, reasons))
    findings += _unreachable(model, findings)
    return findings


def _unreachable(model: Model, findings: list[Finding]) -> list[Finding]:
    """States no rule that can fire leads to, per machine."""
    dead = {(f.machine, f.rules[0]) for f in findings if f.kind in ("dead", "shadowed")}
    out = []
    for machine in model.machines.values():
        seen, todo = {model.initial}, [model.initial]
        while todo:
            here = todo.pop()
            for t in machine.transitions:
                if t.source == here and t.dest and (machine.name, t.id) not in dead and t.dest not in seen:
                    seen.add(t.dest)
                    todo.append(t.dest)
        out += [Finding("unreachable", machine.name, s, "", (), ()) for s in machine.states if s not in seen]
    return out
