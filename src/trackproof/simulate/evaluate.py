"""Compile checked expressions (expr.Expr) into Python closures. No `eval`, no `exec`.

A compiled expression is a function of an environment: a dict from names (org, email, sender, bound variables,
definition parameters) to values. Values are plain: bool, an enumerated value (str), None, a party id (str), an
email reference (message id, side or None), or a tuple of party ids. Field lookup goes through the `Resolver`
found in ``env["__world"]`` (the simulator's world), so this module knows nothing about Dynamics 365, and one
compiled closure serves every run of the same model.
Calls of definitions record the definition's name in ``env["__used"]`` so a verdict can name the rules it rests on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..spec.expr import Expr
from ..spec.ir import Definition

Env = dict[str, Any]
Fn = Callable[[Env], Any]


class Resolver(Protocol):
    def get(self, owner: str, obj: Any, name: str, env: Env) -> Any: ...

    def members(self, coll: Any) -> tuple[Any, ...]: ...


class Compiler:
    """Compiles expressions once; the resolver comes with each environment (``env["__world"]``)."""

    def __init__(self, definitions: dict[str, Definition]) -> None:
        self.definitions = definitions
        self._defs: dict[str, Fn] = {}
        self._cache: dict[int, tuple[Expr, Fn]] = {}

    def definition(self, name: str) -> Fn:
        fn = self._defs.get(name)
        if fn is None:
            fn = self.compile(self.definitions[name].body)
            self._defs[name] = fn
        return fn

    def compile(self, e: Expr) -> Fn:
        """The closure of `e`, built once per expression node."""
        found = self._cache.get(id(e))
        if found is None or found[0] is not e:
            found = (e, self._compile(e))
            self._cache[id(e)] = found
        return found[1]

    def _compile(self, e: Expr) -> Fn:
        kind = e.kind
        if kind == "const":
            value = e.value
            return lambda env: value
        if kind == "var":
            name = str(e.value)
            return lambda env: env[name]
        if kind == "attr":
            owner, attr = e.owner, str(e.value)
            if owner in ("org", "reading"):  # one object of each: nothing to evaluate before the lookup
                return lambda env: env["__world"].get(owner, None, attr, env)
            obj_fn = self.compile(e.args[0])
            return lambda env: env["__world"].get(owner, obj_fn(env), attr, env)
        if kind == "not":
            arg = self.compile(e.args[0])
            return lambda env: not arg(env)
        if kind == "and":
            parts = [self.compile(a) for a in e.args]
            return lambda env: all(p(env) for p in parts)
        if kind == "or":
            parts = [self.compile(a) for a in e.args]
            return lambda env: any(p(env) for p in parts)
        if kind == "cmp":
            return self._compare(e)
        if kind == "set":
            values = frozenset(e.value) if isinstance(e.value, tuple) else frozenset()
            return lambda env: values
        if kind == "if":
            cond, then, other = (self.compile(a) for a in e.args)
            return lambda env: then(env) if cond(env) else other(env)
        if kind == "coalesce":
            parts = [self.compile(a) for a in e.args]
            return lambda env: next((v for v in (p(env) for p in parts) if v is not None), None)
        if kind == "quant":
            return self._quantifier(e)
        if kind == "first":
            return self._first(e)
        if kind == "select":
            return self._select(e)
        if kind == "call":
            return self._call(e)
        raise AssertionError(kind)  # pragma: no cover - the checker admits no other kinds

    def _compare(self, e: Expr) -> Fn:
        left, right = self.compile(e.args[0]), self.compile(e.args[1])
        op = e.value
        if op == "==":
            return lambda env: left(env) == right(env)
        if op == "!=":
            return lambda env: left(env) != right(env)
        if e.args[1].kind == "set":
            if op == "in":
                return lambda env: left(env) in right(env)
            return lambda env: left(env) not in right(env)
        if op == "in":
            return lambda env: left(env) in env["__world"].members(right(env))
        return lambda env: left(env) not in env["__world"].members(right(env))

    def _quantifier(self, e: Expr) -> Fn:
        coll, body = self.compile(e.args[0]), self.compile(e.args[1])
        var = e.var
        if e.value == "any":
            return lambda env: any(body({**env, var: m}) for m in env["__world"].members(coll(env)))
        return lambda env: all(body({**env, var: m}) for m in env["__world"].members(coll(env)))

    def _first(self, e: Expr) -> Fn:
        coll = self.compile(e.args[0])
        cond = self.compile(e.args[1]) if len(e.args) > 1 else (lambda env: True)
        var = e.var

        def pick(env: Env) -> Any:
            for m in env["__world"].members(coll(env)):
                if cond({**env, var: m}):
                    return m
            return None

        return pick

    def _select(self, e: Expr) -> Fn:
        coll = self.compile(e.args[0])
        cond = self.compile(e.args[1]) if len(e.args) > 1 else (lambda env: True)
        var = e.var
        return lambda env: tuple(m for m in env["__world"].members(coll(env)) if cond({**env, var: m}))

    def _call(self, e: Expr) -> Fn:
        name = str(e.value)
        params = [p for p, _ in self.definitions[name].params]
        args = [self.compile(a) for a in e.args]

        pairs = list(zip(params, args, strict=True))
        body: list[Fn] = []  # the definition's closure, compiled on the first call (definitions may call each other)

        def call(env: Env) -> Any:
            inner = dict(env)
            for p, a in pairs:
                inner[p] = a(env)
            used = env.get("__used")
            if used is not None:
                used.setdefault(name, None)
            if not body:
                body.append(self.definition(name))
            return body[0](inner)

        return call
