"""Field lookups over the outcome of each email, for conclusions (`check`) and watched expressions (`run --watch`).

Email ids name outcomes (stored, status, direction, regarding, accepted_by, tracked_by, correlated_to,
parent_activity, from, to, cc, queue_items, categorized, undeliverable, incoming, state, was_stored) and the facts of
the message (origin, author, ...); everything else is looked up in the run's world. No solver here: `run` uses it
too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..spec.ir import OUTCOME, Model
from ..spec.readings import READING
from .mail import Side, Step
from .world import World


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
    state: str = ""  # its lifecycle state (model/lifecycle.yaml)
    was_stored: bool = False  # an email activity existed for it at some point
    # what Dynamics 365 records on the activity beyond the fields above (docs/scenarios.md#fields-of-an-activity)
    parent_activity: str | None = None  # Parent Activity Id (In-Reply-To and ConversationIndex correlation only)
    from_: str | None = None  # From: the record the sender's address resolved to; None: unresolved (or not stored)
    to: tuple[str, ...] = ()  # To and Cc: the records their addresses resolved to
    cc: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()  # the From, To and Cc addresses that resolved to no record (shown in red)
    queue_items: tuple[str, ...] = ()  # the queues with a queue item for the activity
    categorized: tuple[str, ...] = ()  # mailboxes whose Outlook item carries Tracked to Dynamics 365
    undeliverable: tuple[str, ...] = ()  # mailboxes whose Outlook item carries Undeliverable
    tracked_by: str | None = None  # who tracked it by hand (Accepting Entity then stays empty: R136)

    @property
    def categories(self) -> dict[str, str]:
        """Each mailbox's category on its Outlook item of this email: "tracked" or "undeliverable"."""
        return {**{m: "undeliverable" for m in self.undeliverable}, **{m: "tracked" for m in self.categorized}}


#: Outcome fields whose name is not a Python name (a claim writes `E1.from`).
ATTRIBUTE = {"from": "from_"}
#: What the activity records beyond its state, Regarding, accepting entity and correlated email: the behaviour
#: classes of gaps and diff (which compare and name only those) do not tell them apart.
DETAIL = frozenset({"parent_activity", "from", "to", "cc", "queue_items", "categorized", "undeliverable"})
#: The outcome fields that are sets of parties (an expectation lists them in any order).
PARTY_SETS = ("to", "cc", "queue_items", "categorized", "undeliverable")


#: What an expression may read of the message itself (universe claims quantify over the messages that exist).
_MESSAGE_FACTS = ("origin", "author", "is_reply", "is_forward", "parent", "tracked_by_hand", "exists")


class OutcomeResolver:
    """Field lookups for conclusions: email ids name outcomes; the rest is the run's world."""

    def __init__(self, outcomes: dict[str, Outcome], world: World) -> None:
        self.outcomes = outcomes
        self.world = world

    def get(self, owner: str, obj: Any, name: str, env: dict[str, Any]) -> Any:
        if owner != OUTCOME:
            return self.world.get(owner, obj, name, env)
        if name in _MESSAGE_FACTS:
            msg = self.world.messages.get(str(obj).split(".")[0]) if obj is not None else None
            if name == "exists":
                return msg is not None
            if msg is None:
                return False if name in ("is_reply", "is_forward", "tracked_by_hand") else None
            if name == "author":
                return msg.author
            if name == "parent":
                return msg.parent
            return getattr(msg, name)
        outcome = self.outcomes.get(obj) if obj is not None else None
        if outcome is None:
            return {"stored": False, "status": "none", "direction": "none", "state": "none",
                    "was_stored": False}.get(name)
        if name == "incoming":  # the recipients' activity: E1.incoming, or E1 itself when it is the only side
            key = f"{obj}.incoming"
            return key if key in self.outcomes else (obj if outcome.side == "incoming" else None)
        value = getattr(outcome, ATTRIBUTE.get(name, name))
        return "none" if value is None and name in ("status", "direction") else value

    def members(self, coll: Any) -> tuple[Any, ...]:
        return tuple(coll) if coll else ()


def outcome_env(outcomes: dict[str, Outcome], world: World, participants: Iterable[str],
                emails: Iterable[str], names: Iterable[str] = ()) -> dict[str, Any]:
    """The environment a conclusion or watched expression is evaluated in: each participant and email id names
    itself (`names`: more ids a universe claim may name, whether or not that message exists), `emails` is the
    messages that exist, and field lookups go through an OutcomeResolver over `outcomes` and the run's `world`."""
    existing = tuple(emails)
    return {"org": None, "reading": None, "email": None, "__event": {}, "__used": None, "__assumed": None,
            "__world": OutcomeResolver(outcomes, world), **{e: e for e in names},
            **{pid: pid for pid in participants}, **{e: e for e in existing}, "emails": existing}


def outcome_of(model: Model, world: World, side: Side) -> Outcome:
    """The outcome of one activity side now: stored or not, its fields, the rules behind it and why it stopped
    short, and how sure the documentation is of them."""
    state = model.states[side.state]
    rules: dict[str, None] = {}  # every rule behind the outcome, in the order they acted
    deciding: dict[str, None] = {}  # the ones that decide stored and status (not fields like accepted_by)
    fired = [s for s in side.steps if s.rule]
    assumed: dict[str, str] = {}
    for s in fired:
        for r in (str(s.rule), *s.used):
            rules.setdefault(r, None)
            deciding.setdefault(r, None)
        for d in s.effect_used:
            rules.setdefault(d, None)
        assumed.update(s.assumed)
    misses = [s for s in side.steps if s.missed and s.source == side.state]
    why_not: tuple[tuple[str, str], ...] = ()
    why_not_event = 0
    if state.stored and fired:
        reason = fired[-1].sentence
    else:
        reason = state.says
        if misses:
            why_not, why_not_event = misses[-1].missed, misses[-1].event
            last = misses[-1]
            why = "; ".join(f"{rid} needs {part}" for rid, part in last.missed)
            reason += f" At event {last.event} ({last.trigger}) no rule fired: {why}."
            for rid in (*(r for r, _ in last.missed), *last.used):
                rules.setdefault(rid, None)
                deciding.setdefault(rid, None)
            assumed.update(last.assumed)
    levels = [model.rule(r).provenance.confidence for r in deciding] + list(assumed.values())
    confidence = min(levels, key="LMH".index) if levels else "H"
    f = side.fields
    prefix = f"{READING}."
    readings = tuple((k[len(prefix):], world.readings[k[len(prefix):]]) for k in sorted(assumed)
                     if k.startswith(prefix))
    settings = tuple((k, v) for k, v in sorted(assumed.items()) if not k.startswith(prefix))
    stored = state.stored
    kept = {name: tuple(f.get(name) or ()) if stored else () for name in ("to", "cc", "queue_items", "categorized")}
    return Outcome(side.key, side.message.id, side.side, stored, state.status, state.direction,
                   f.get("regarding") if stored else None, f.get("accepted_by") if stored else None,
                   f.get("correlated_to") if stored else None, reason, tuple(rules), confidence,
                   tuple(side.steps), tuple(_describe_assumption(world, k, v) for k, v in settings),
                   why_not, why_not_event, readings, settings, side.state, side.was_stored,
                   f.get("parent_activity") if stored else None, f.get("from") if stored else None,
                   unresolved=_unresolved(world, side, f) if stored else (),
                   undeliverable=tuple(f.get("undeliverable") or ()) if side.state == "undeliverable" else (),
                   tracked_by=f.get("tracked_by") if stored else None,
                   **kept)


def _unresolved(world: World, side: Side, fields: dict[str, Any]) -> tuple[str, ...]:
    """The addresses on the From, To and Cc lines that resolved to no record when the activity was created."""
    msg = side.message
    found: dict[str, None] = {}
    if fields.get("from") is None and "from" in fields:
        found[world.parties[msg.on_behalf_of or msg.author].address] = None
    for line, name in ((msg.to, "to"), (msg.cc, "cc")):
        records = set(fields.get(name) or ())
        for pid in line:
            if not records.intersection(world.matches(pid)):
                found[world.parties[pid].address] = None
    return tuple(found)


def _describe_assumption(world: World, key: str, level: str) -> str:
    owner, _, name = key.partition(".")
    return f"{key} = {world.documented_default(owner, name)!r} (documented default of confidence {level})"
