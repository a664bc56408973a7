"""What the simulator offers an observer of a run (the prover): one protocol, called at the points where what
follows depends on something the observer may want to decide symbolically.

- `record(expr, env, value, role)`: the simulator evaluated `expr` (a guard, an effect's value, an action's
  condition, or a decision of the engine's own bookkeeping) in `env` and got `value`; `role` is "guard", "action"
  or the email field an effect sets.
- `read(message, field)`: something is about to read a field an effect set (Regarding, accepting entity,
  correlated email, token) of `message`; the prover pins an effect's value only once something depends on it.
A run without hooks (`trackproof run`) pays nothing for them.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..spec.expr import Expr


class Hooks(Protocol):
    def record(self, expr: Expr, env: dict[str, Any], value: Any, role: str) -> None: ...

    def read(self, message: str, field: str) -> None: ...
