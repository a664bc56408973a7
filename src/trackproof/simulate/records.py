"""What Dynamics 365 records on an email activity whichever rule acts (model/lifecycle.yaml `records`: From, To, Cc,
the Outlook categories), and how a field is set and told to the prover.

A field that is a set of parties (To, Cc, queue items, categories) is told to the prover one party at a time: for
each participant, whether it is a member (`p in select(...)`, a term the prover builds like any membership), held
until something reads the field. What decides who is in the set is the model's expression, never this module.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..spec.expr import BOOL, PARTY, PARTY_SET, Expr
from ..spec.ir import Effect

if TYPE_CHECKING:
    from .evaluate import Fn
    from .hooks import Hooks
    from .mail import Side
    from .world import World

#: The name a membership test binds the party it asks about to (no participant id can take it).
MEMBER = "#member"
_MEMBERSHIP: dict[int, tuple[Expr, Expr]] = {}  # id of a set-valued expression -> (it, `MEMBER in it`)


def membership(value: Expr) -> Expr:
    """`MEMBER in value`, built once per expression."""
    found = _MEMBERSHIP.get(id(value))
    if found is None or found[0] is not value:
        member = Expr("var", PARTY, value.loc, MEMBER, MEMBER)
        found = _MEMBERSHIP[id(value)] = (value, Expr("cmp", BOOL, value.loc, f"p in {value.text}", "in",
                                                     (member, value)))
    return found[1]


def tell(hooks: Hooks, effect: Effect, env: dict[str, Any], value: Any, message: str,
         parties: tuple[str, ...]) -> None:
    """Tell the prover the value an effect gave a field of `message` (held until the field is read)."""
    if effect.value.type != PARTY_SET:
        hooks.record(effect.value, env, value, effect.target, (message, effect.target))
        return
    test = membership(effect.value)
    for pid in parties:
        hooks.record(test, {**env, MEMBER: pid}, pid in value, effect.target, (message, effect.target))


def entered(source_stored: bool, dest: str, dest_stored: bool, source: str) -> str | None:
    """Which of the lifecycle's `records` a transition from `source` to `dest` makes Dynamics record, if any."""
    if dest_stored and not source_stored:
        return "created"
    if dest == "undeliverable" and source != "undeliverable":
        return "undeliverable"
    return None


def store(side: Side, target: str, value: Any, shared: frozenset[str], emails: frozenset[str]) -> None:
    """Set a field of the side (of the message, for a field both sides share); an email is kept as its id."""
    if target in emails and value is not None:
        value = value[0]
    if target in shared:
        side.message.shared[target] = value
    else:
        side.fields[target] = value


def record_fields(world: World, side: Side, effects: list[tuple[Effect, Fn]], env: dict[str, Any],
                  shared: frozenset[str], emails: frozenset[str]) -> None:
    """Set what Dynamics records on the side whichever rule acted (the lifecycle's `records`, compiled; `shared`
    and `emails`: as for `store`); the definitions they used join the rule's step (they decide those fields)."""
    if not effects:
        return
    values = [(e, fn(env)) for e, fn in effects]
    if world.hooks is not None:
        parties = tuple(world.parties)
        for effect, value in values:
            tell(world.hooks, effect, env, value, side.message.id, parties)
    for effect, value in values:
        store(side, effect.target, value, shared, emails)
    last = side.steps[-1]
    side.steps[-1] = replace(last, effect_used=tuple(dict.fromkeys((*last.effect_used, *env["__used"]))))
    world.touch(("msg", side.message.id))
