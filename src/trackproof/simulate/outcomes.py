"""Field lookups over the outcome of each email, for conclusions (`check`) and watched expressions (`run --watch`).

Email ids name outcomes (stored, status, direction, regarding, accepted_by, correlated_to, incoming); everything else
is looked up in the run's world. No solver here: `run` uses it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..spec.claims import OUTCOME
from .world import Step, World


@dataclass(frozen=True)
class Outcome:
    key: str
    message: str
    side: str
    stored: bool
    status: str | None
    direction: str | None
    regarding: str | None
    accepted_by: str | None
    correlated_to: str | None
    reason: str
    rules: tuple[str, ...]
    confidence: str
    steps: tuple[Step, ...]
    assumptions: tuple[str, ...] = ()  # uncertain defaults the outcome rests on
    why_not: tuple[tuple[str, str], ...] = ()  # rules that could have moved it on at the last try, and why they did not
    why_not_event: int = 0
    readings: tuple[tuple[str, str], ...] = ()  # (disputed point, reading) the outcome rests on (model/readings.yaml)
    assumed: tuple[tuple[str, str], ...] = ()  # ("owner.setting", confidence) of each assumption, as data


class OutcomeResolver:
    """Field lookups for conclusions: email ids name outcomes; the rest is the run's world."""

    def __init__(self, outcomes: dict[str, Outcome], world: World) -> None:
        self.outcomes = outcomes
        self.world = world

    def get(self, owner: str, obj: Any, name: str, env: dict[str, Any]) -> Any:
        if owner != OUTCOME:
            return self.world.get(owner, obj, name, env)
        outcome = self.outcomes.get(obj) if obj is not None else None
        if outcome is None:
            return {"stored": False, "status": "none", "direction": "none"}.get(name)
        if name == "incoming":  # the recipients' activity: E1.incoming, or E1 itself when it is the only side
            key = f"{obj}.incoming"
            return key if key in self.outcomes else (obj if outcome.side == "incoming" else None)
        value = getattr(outcome, name)
        return "none" if value is None and name in ("status", "direction") else value

    def members(self, coll: Any) -> tuple[Any, ...]:
        return tuple(coll) if coll else ()


def outcome_env(outcomes: dict[str, Outcome], world: World, participants: Iterable[str],
                emails: Iterable[str]) -> dict[str, Any]:
    """The environment a conclusion or watched expression is evaluated in: each participant and email id names
    itself, and field lookups go through an OutcomeResolver over `outcomes` and the run's `world`."""
    return {"org": None, "reading": None, "email": None, "__event": {}, "__used": None, "__assumed": None,
            "__world": OutcomeResolver(outcomes, world),
            **{pid: pid for pid in participants}, **{e: e for e in emails}}
