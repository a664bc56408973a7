"""Say why a condition is false, in the model's own words: the innermost parts that failed, with their values.

Used for "why was this email not tracked?": for each rule that could have fired, the explanation walks into the
definitions it calls and the recipients it ranges over, down to a setting and its value
("for r = X: filter_accepts(X): none of: `r.filter == 'all'` (r.filter is 'in_response'); ...").
It evaluates with the same compiled closures as the simulator, so the explanation cannot disagree with the verdict.
"""

from __future__ import annotations

from typing import Any

from ..spec.expr import Expr
from ..spec.ir import Model
from .evaluate import Compiler

MAX_DEPTH = 16
MAX_MEMBERS = 4


class Explainer:
    def __init__(self, model: Model, compiler: Compiler) -> None:
        self.model = model
        self.compiler = compiler

    def _value(self, e: Expr, env: dict[str, Any]) -> Any:
        return self.compiler.compile(e)(env)

    def why_false(self, e: Expr, env: dict[str, Any], depth: int = 0) -> str:
        """Why `e` is false in `env` (the caller has checked that it is)."""
        if depth > MAX_DEPTH:
            return f"`{e.text}`"
        kind = e.kind
        if kind == "and":
            for part in e.args:
                if not self._value(part, env):
                    return self.why_false(part, env, depth + 1)
        if kind == "or":
            return "none of: " + "; ".join(self.why_false(p, env, depth + 1) for p in e.args)
        if kind == "not":
            return f"`{e.args[0].text}` holds"
        if kind == "if":  # the branch taken is the one that was false
            taken = e.args[1] if self._value(e.args[0], env) else e.args[2]
            return self.why_false(taken, env, depth + 1)
        if kind == "call":
            definition = self.model.definitions[str(e.value)]
            inner = dict(env)
            shown = []
            for (param, _), arg in zip(definition.params, e.args, strict=True):
                inner[param] = self._value(arg, env)
                shown.append(str(inner[param]))
            head = f"{e.value}({', '.join(shown)})"
            return f"{head}: {self.why_false(definition.body, inner, depth + 1)}"
        if kind == "quant":
            coll, body = e.args
            members = env["__world"].members(self._value(coll, env))
            if e.value == "all":
                for m in members:
                    inner = {**env, e.var: m}
                    if not self._value(body, inner):
                        return f"for {e.var} = {m}: {self.why_false(body, inner, depth + 1)}"
            if not members:
                return f"`{coll.text}` is empty"
            parts = [f"for {e.var} = {m}: {self.why_false(body, {**env, e.var: m}, depth + 1)}"
                     for m in members[:MAX_MEMBERS]]
            more = f"; and {len(members) - MAX_MEMBERS} more" if len(members) > MAX_MEMBERS else ""
            return "; ".join(parts) + more
        if kind == "cmp" and e.args[0].kind in ("attr", "var"):
            return f"`{e.text}` ({e.args[0].text} is {self._value(e.args[0], env)!r})"
        return f"`{e.text}` is false"
