"""What the simulator offers an observer of a run (the prover): one protocol, called at the points where what
follows depends on something the observer may want to decide symbolically.

- `record(expr, env, value, role, held)`: the simulator evaluated `expr` (a guard, an effect's value, an action's
  condition, or a decision of the engine's own bookkeeping) in `env` and got `value`; `role` is "guard", "action"
  or the email field an effect sets. `held`, when given, names the fact the value decides (a message's field set
  by an effect, a mailbox's watermark): nothing depends on it until something reads that fact.
- `read(owner, fact)`: something is about to read a fact: a field an effect set of message `owner` (Regarding,
  accepting entity, correlated email, token), a mailbox's "watermark", a participant's "kind" where the mail
  mechanics tell kinds apart. The prover pins a held value only once something depends on it.
A run without hooks (`trackproof run`) pays nothing for them.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..spec.expr import Expr


class Hooks(Protocol):
    def record(self, expr: Expr, env: dict[str, Any], value: Any, role: str,
               held: tuple[str, str] | None = None) -> None: ...

    def read(self, owner: str, fact: str) -> None: ...
