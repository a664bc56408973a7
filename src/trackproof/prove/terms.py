"""Z3 terms of the model's expressions along one run, over the claim's free settings.

The prover plays the premise through the simulator with concrete settings; for every guard part, effect and action
condition the simulator evaluates, the recorder (recorder.py) asks a Builder for the expression's term. What the
expression reads of the world besides settings (where copies are, which activities exist) is fixed by the
decisions recorded before it, so it enters the term as a constant, and what decides that constant is pinned in
`pins`. Compiled from the same IR expressions as the simulator; nothing about Dynamics 365 is written here.

A term's building reads the world through a ReadLog, which keeps every read with the value it gave: term reuse
(reuse.py) serves a term to another run whose world gives the same values, and the recorder learns which fields set
by effects the term rests on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from ..simulate.addresses import RECIPIENT_LINES
from ..simulate.evaluate import Compiler
from ..simulate.world import World
from ..spec.claims import Setting
from ..spec.expr import BOOL, NULL, PARTY, PARTY_SET, Expr
from .scope import Space
from .z3api import all_of, any_of, constant_id, eq, is_value, ite, neg

Read = tuple[tuple[Any, ...], Any]  # what was read (its kind and key), and the value it gave


class ReadLog:
    """The world as the building of one term sees it: every read is kept with the value it gave. Symbolic terms
    read the world only through `get`, `members` (which reads nothing), `overwritten` and `org`, like the compiled
    expressions they evaluate (ReadLog is also their Resolver)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.log: list[Read] = []

    def get(self, owner: str, obj: Any, name: str, env: dict[str, Any]) -> Any:
        value = self.world.get(owner, obj, name, env)
        # a party's field may be its copy of the current email; an event's field is the event's (the same event
        # wherever the term is reused)
        self.log.append((("get", owner, obj, name, env.get("email") if owner == "party" else None), value))
        return value

    def members(self, coll: Any) -> tuple[Any, ...]:
        return self.world.members(coll)

    def overwritten(self, setting: Setting) -> bool:
        """Whether an event changed `setting` (it is then no longer free: its value is the world's)."""
        value = setting in self.world.overwritten
        self.log.append((("overwritten", setting), value))
        return value

    def org(self, name: str) -> Any:
        value = self.world.org[name]
        self.log.append((("org", name), value))
        return value

    def recipient_candidates(self, ref: tuple[str, str | None], name: str = "recipients",
                             ) -> tuple[tuple[str, str | None, bool, bool], ...]:
        """The recipients of a message as written (`name`: all of them, or those of the To or the Cc line):
        (recipient, the address that decides whether it was removed or None, whether it was, whether its kind
        decided it)."""
        value = candidates(self.world, ref[0], name)
        self.log.append((("candidates", ref[0], name), value))
        return value


def candidates(world: World, message: str, name: str = "recipients") -> tuple[tuple[str, str | None, bool, bool], ...]:
    """ReadLog.recipient_candidates, read straight from `world` (reuse.py compares them)."""
    msg = world.messages[message]
    return tuple((q, pid, msg.removed.get(pid, False) if pid else False, pid in msg.by_kind)
                 for q, pid in world.recipient_candidates(msg, RECIPIENT_LINES[name]))


@dataclass
class Built:
    """A term and what its building added: the pins it rests on, the definitions it used, the reads it made."""

    term: z3.ExprRef
    pins: list[z3.BoolRef] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)


class Builder:
    """Z3 terms of model expressions in one run's world; pins what it reads concretely into `pins`."""

    def __init__(self, space: Space, reader: ReadLog, compiler: Compiler,
                 version: Callable[[], int] | None = None) -> None:
        self.space = space
        self.version = version or (lambda: 0)  # changes whenever the world may have changed
        self._calls: dict[tuple[Any, ...], Built] = {}  # a call's term in this world, as built
        self.defined: list[str] = []  # every definition the terms used, in order (prove.run_path slices it)
        # (message id, role) -> definitions in its terms, every branch and not just the one taken; the role is
        # "guard", "action" or the email field an effect sets
        self.defs: dict[tuple[str, str], set[str]] = {}
        self.role = "guard"
        self.reader = reader  # the world, through the log of the term being built
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
            elif e.kind == "attr" and e.owner == "reading":
                found = str(e.value) in self.space.reading_names
            elif e.kind == "attr" and e.owner == "party" and str(e.value) in self._names:
                found = True
            elif e.kind == "attr" and e.owner == "email" and e.value in RECIPIENT_LINES:
                found = "kind" in self._names  # who is left may depend on the kinds (_members)
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
            term = self.term(e, env)
            if not is_value(term):
                self.pins.append(eq(term, self.space.const(value, e.type)))
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
            parts = []
            for m, present in self._members(coll, env):
                part = self.term(body, {**env, e.var: m})
                if present is not None:  # a recipient whose address may have been removed before sending
                    part = all_of([present, part]) if e.value == "any" else any_of([neg(present), part])
                parts.append(part)
            return any_of(parts) if e.value == "any" else all_of(parts)
        if kind == "first":
            result = s.const(None, PARTY)
            for m, present in reversed(self._members(e.args[0], env)):
                cond = self.term(e.args[1], {**env, e.var: m}) if len(e.args) > 1 else z3.BoolVal(True)
                result = ite(cond if present is None else all_of([present, cond]), s.const(m, PARTY), result)
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
            log = self.reader.log
            if found is None:
                marks = len(self.pins), len(self.defined), len(log)
                term = self.term(definition.body, inner)
                found = Built(term, self.pins[marks[0]:], self.defined[marks[1]:], log[marks[2]:])
                self._calls[key] = found
            else:
                # What building it added, added again: the term that uses it may be kept and used in another run,
                # and must bring with it the pins, definitions and reads it rests on.
                self.pins.extend(found.pins)
                self.defs.setdefault(where, set()).update(found.definitions)
                self.defined.extend(found.definitions)
                log.extend(found.reads)
            return found.term
        raise AssertionError(kind)  # pragma: no cover

    def _members(self, coll: Expr, env: dict[str, Any]) -> list[tuple[Any, z3.BoolRef | None]]:
        """The members of a collection, each with the condition under which it is one (None: always). The
        recipients of an email whose unresolved addresses were removed before sending (R76) are those written,
        each present unless its address's kind made it unresolved: a term over that kind, not a fact of the run,
        so that the rule path need not fix the kind of every address."""
        if coll.kind == "attr" and coll.owner == "email" and coll.value in RECIPIENT_LINES:
            ref = self._concrete(coll.args[0], env)
            if ref is not None:
                out: list[tuple[Any, z3.BoolRef | None]] = []
                for q, written, removed, by_kind in self.reader.recipient_candidates(ref, str(coll.value)):
                    present: z3.BoolRef | None = None
                    if written is not None:
                        setting = (written, "kind")
                        if by_kind and setting in self.space.vars:
                            self.space.read.add(setting)
                            unresolved = self.space.model.vocabulary.kind_roles["unresolved"]
                            present = neg(any_of([eq(self.space.vars[setting], self.space.const(k, "kind"))
                                                  for k in unresolved]))
                        else:
                            present = z3.BoolVal(not removed)
                    out.append((q, present))
                return out
        if coll.kind == "select":  # each member of the collection, present when it also satisfies the condition
            kept: list[tuple[Any, z3.BoolRef | None]] = []
            for m, present in self._members(coll.args[0], env):
                if len(coll.args) == 1:
                    kept.append((m, present))
                    continue
                cond = self.term(coll.args[1], {**env, coll.var: m})
                kept.append((m, cond if present is None else all_of([present, cond])))
            return kept
        return [(m, None) for m in self.reader.members(self.compiler.compile(coll)(env))]

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
            if ident == constant_id(absorbing):
                return z3.BoolVal(absorbing)
            if ident != constant_id(conjunction):
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
            if setting in s.vars and not self.reader.overwritten(setting):
                s.read.add(setting)
                return s.vars[setting]
            return s.const(self.reader.org(name), e.type)
        if owner == "reading":  # a disputed point's reading: free like a setting, unless the claim fixes it
            setting = ("reading", name)
            if setting in s.vars:
                s.read.add(setting)
                return s.vars[setting]
            return s.const(self.reader.get(owner, None, name, env), e.type)
        obj = self._concrete(e.args[0], env)
        if owner == "party" and obj is not None:
            setting = (str(obj), name)
            if setting in s.vars and not self.reader.overwritten(setting):
                s.read.add(setting)
                return s.vars[setting]
        return s.const(self.reader.get(owner, obj, name, env), e.type)

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
            if choices is not None and right.value not in choices and \
                    not self.reader.overwritten((str(owner), "kind")):  # outside the setting's domain: never equal
                return z3.BoolVal(e.value == "!=")
        if e.value in ("==", "!="):
            return equality(e, lambda x: self.term(x, env), s.const)
        lt = self.term(left, env)
        if right.kind == "set":
            inside = in_values(e, lt, s.const)
        else:
            assert right.type == PARTY_SET
            options = [(eq(lt, s.const(m, PARTY)), present) for m, present in self._members(right, env)]
            inside = any_of([same if present is None else all_of([present, same]) for same, present in options])
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
