"""The activity fields a universe claim's exploration may leave out of its world keys: those of the activity's
DETAIL (From, To, Cc, Parent Activity Id, queue items, categories; simulate/outcomes.py) that nothing reads.

Two worlds that differ only in such a field have the same future: every guard, effect and action condition of the
model reads the same values in both, so every event takes the same rule path in both and gives worlds that again
differ only there, and the claim's property has the same value in both. The exploration (prove/reach.py) can then
keep one of them. What reads a field is decided from the expressions, not guessed:
- the model: every expression it holds (definitions, guards, effects, action conditions, the lifecycle's
  `records`) that reads `<email>.<field>`, except an effect reading the field it sets (removing the category
  keeps the other mailboxes of `categorized`): what it reads there decides only that field again, so two worlds
  that differ only in it still give worlds that differ only in it; the simulator's own mechanics read none of
  these fields (they only store them, and `outcome_of` reports them);
- the claim: its property and its guard (`when`) reading `<email>.<field>` of an outcome.
A `conclusion` claim keeps every field: it is read where a sequence ends, at the worlds no event changes, and an
event that changes only such a field does change the world (merged, the change would look like none).
What is left out is never shown: a counterexample's or a witness's outcomes come from replaying its events through
the simulator (prove/behaviours.py `replay`), not from the world the exploration kept.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..simulate.outcomes import DETAIL
from ..spec.claims import Claim
from ..spec.ir import OUTCOME, Effect, Expr, Model

_EMAIL = "email"


def _expressions(value: Any, seen: set[int], out: list[Expr], effects: list[Effect]) -> None:
    """Every expression `value` holds, however deep (a model's records, definitions, transitions, ...); the
    effects apart, in `effects`."""
    if isinstance(value, str | int | float | bool) or value is None or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Effect):
        effects.append(value)
    elif isinstance(value, Expr):
        out.append(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _expressions(getattr(value, f.name), seen, out, effects)
    elif isinstance(value, dict):
        for item in value.values():
            _expressions(item, seen, out, effects)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _expressions(item, seen, out, effects)


def read_fields(exprs: list[Expr], owner: str) -> frozenset[str]:
    """The attributes of objects of type `owner` that the expressions (and their subexpressions) read."""
    return frozenset(str(e.value) for expr in exprs for e in expr.walk() if e.kind == "attr" and e.owner == owner)


def model_reads(model: Model) -> frozenset[str]:
    """The fields of an email that some expression of the model reads."""
    exprs: list[Expr] = []
    effects: list[Effect] = []
    _expressions(model, set(), exprs, effects)
    return read_fields(exprs, _EMAIL).union(*(read_fields([e.value], _EMAIL) - {e.target} for e in effects))


def unread_detail(model: Model, claim: Claim) -> frozenset[str]:
    """The DETAIL fields that neither the model nor the claim's property reads (module docstring): what the
    exploration of `claim` leaves out of its world keys and of the decisions a step records."""
    prop = claim.property
    if prop is None or prop.kind == "conclusion":
        return frozenset()
    claimed = read_fields([claim.conclusion, *((prop.when,) if prop.when is not None else ())], OUTCOME)
    return frozenset(DETAIL - model_reads(model) - claimed)
