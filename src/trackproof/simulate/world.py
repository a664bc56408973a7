"""The world a scenario plays in: parties with their settings, messages with their mailbox copies, and the
activity sides whose lifecycles the machines drive.

This module answers the questions guards ask (`Resolver.get`): a setting, a fact about a message, a party's copy of
it. It holds no Dynamics 365 rule: which message is tracked, sent or correlated is decided in model/ only. What it
computes is how mail itself behaves: who holds a copy, which address resolves to which records (in the order the
model's vocabulary gives), and which earlier messages a reply belongs with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..spec.ir import Model
from ..spec.readings import READING
from ..spec.scenario import Participant, Scenario
from .subjects import smart_match

if TYPE_CHECKING:
    from .hooks import Hooks

#: The activities a message can have: the sender's (outgoing) and the recipients' (incoming); R56, R58.
SIDES = ("outgoing", "incoming")

Env = dict[str, Any]


class Party:
    """A participant as mail sees it: its kind, address and settings, whether it has a mailbox, its members."""

    __slots__ = ("address", "disabled", "id", "is_mailbox", "kind", "members", "owner", "settings")

    def __init__(self, pid: str, kind: str, address: str, settings: dict[str, Any], members: tuple[str, ...],
                 is_mailbox: bool, owner: str | None = None, disabled: bool = False) -> None:
        self.id, self.kind, self.address, self.settings, self.members = pid, kind, address, settings, members
        self.is_mailbox, self.owner, self.disabled = is_mailbox and not disabled, owner, disabled


class Copy:
    """A mailbox's copy of a message: how it holds it and where it is."""

    __slots__ = ("before_watermark", "categorized", "folder", "folder_record", "moved_back", "reprocess", "role")

    def __init__(self, role: str) -> None:
        self.role = role
        self.folder = "none"
        self.categorized = False
        self.moved_back = False
        self.folder_record: str | None = None
        self.before_watermark = False  # set by World.advance_watermarks (R33)
        self.reprocess = False  # the mailbox's processing date was moved earlier (R21), until the next sync


@dataclass(frozen=True)
class Step:
    """One thing that happened to an activity side: a rule fired, or a trigger found no rule that could fire."""

    event: int
    trigger: str
    rule: str | None
    source: str
    dest: str
    sentence: str
    used: tuple[str, ...] = ()  # definitions the guard used: they decide the state
    effect_used: tuple[str, ...] = ()  # definitions the effects used: they decide fields such as accepted_by
    missed: tuple[tuple[str, str], ...] = ()  # (rule id, the part of its guard that was false)
    assumed: tuple[tuple[str, str], ...] = ()  # (setting, confidence) of uncertain defaults the guards read


class Side:
    """One activity of a message (outgoing or incoming): the object a `transitions` machine drives."""

    def __init__(self, message: Message, side: str) -> None:
        self.message = message
        self.side = side
        self.state = ""
        self.fields: dict[str, Any] = {}
        self.steps: list[Step] = []

    @property
    def key(self) -> str:
        return self.message.id if self.message.main is self else f"{self.message.id}.incoming"


class Message:
    """A message as mail sees it: who wrote it, to whom, in reply to what, and every mailbox's copy."""

    def __init__(self, mid: str, origin: str, author: str, sender: str, recipients: tuple[tuple[str, ...], ...],
                 parent: str | None, flags: dict[str, bool], regarding: str | None, order: int,
                 subject: str = "") -> None:
        self.id, self.origin, self.author, self.sender = mid, origin, author, sender
        # the record the recipients' From line resolves to: the sender, unless it was sent on behalf of (or as)
        # another mailbox (R118)
        self.on_behalf_of: str | None = None
        self.received_from = sender
        self.to, self.cc, self.bcc = recipients
        self.parent = parent
        self.is_reply = flags["is_reply"]
        self.is_forward = flags["is_forward"]
        self.subject_changed = flags["subject_changed"]
        self.token_over_limit = flags.get("token_over_limit", False)
        self.in_reply_to_kept = flags["in_reply_to_kept"]
        self.headers_dropped = flags.get("headers_dropped", False)
        self.create_fails = flags.get("create_fails", False)
        self.attachment_over_limit = flags.get("attachment_over_limit", False)
        self.irm = flags.get("irm", False)
        self.subject = subject  # the subject line without any tracking token
        self.regarding = regarding
        self.order = order
        self.shared: dict[str, Any] = {}
        self.copies: dict[str, Copy] = {}
        self.sides: dict[str, Side] = {}

    @property
    def main(self) -> Side:
        return self.sides.get("outgoing") or self.sides["incoming"]


@dataclass(frozen=True)
class _Facts:
    model: Model
    uncertain: dict[str, Any]  # the settings whose documented default is uncertain
    null: dict[str, Any]  # each field's value when there is nothing to read it from
    effect_fields: frozenset[str]  # the email fields transitions' effects set (vocabulary: `field: true`)
    shared_fields: frozenset[str]  # those of them that belong to the message, shared by its sides


_FACTS: dict[int, _Facts] = {}


def _vocabulary_facts(model: Model) -> _Facts:
    """What every world of a model needs from its vocabulary, built once per model (a world is made for every
    run)."""
    found = _FACTS.get(id(model))
    if found is None or found.model is not model:
        vocab = model.vocabulary
        uncertain = {name: a for group in ("org", "mailbox", "party") for name, a in vocab.groups[group].items()
                     if a.default_confidence != "H" or a.queue_default_confidence != "H"}
        null = {name: _null_value(model, a.type) for group in vocab.attributes.values() for name, a in group.items()}
        fields = frozenset(name for name, a in vocab.groups["email"].items() if a.field)
        shared = frozenset(name for name, a in vocab.groups["email"].items() if a.field and a.shared)
        found = _FACTS[id(model)] = _Facts(model, uncertain, null, fields, shared)
    return found


def _null_value(model: Model, typ: str) -> Any:
    if typ == "bool":
        return False
    values = model.vocabulary.enums.get(typ)
    if values is not None and "none" in values:
        return "none"
    return () if typ.startswith("set[") else None


class World:
    """Parties, org settings and messages, and the field lookups guards make on them."""

    def __init__(self, model: Model, scenario: Scenario, hooks: Hooks | None = None) -> None:
        self.model = model
        vocab = model.vocabulary
        self.org: dict[str, Any] = {k: a.default for k, a in vocab.groups["org"].items()}
        self.org.update(scenario.org)
        # the reading of each disputed point (model/readings.yaml) this run plays under: the default, or the one the
        # scenario or claim chose
        self.readings: dict[str, str] = {k: r.default for k, r in model.readings.items()}
        self.readings.update(scenario.readings)
        self.parties: dict[str, Party] = {}
        for p in scenario.participants.values():
            self.parties[p.id] = Party(p.id, p.kind, p.address, self._settings(p), p.members,
                                       p.kind in vocab.mailbox_kinds, p.owner, p.disabled)
        self.messages: dict[str, Message] = {}
        self.watermark: dict[str, int] = {}  # per mailbox: order of the newest message a sync has seen in it
        # per mailbox: the Inbox rules that move arriving mail, in the order they were made (first that applies
        # wins): (only from this sender, or None for all mail; destination folder; a tracked folder's record)
        self.inbox_rules: dict[str, list[tuple[str | None, str, str | None]]] = {}
        self.overwritten: set[tuple[str, str]] = set()  # settings an event changed: no longer free for the prover
        # Told when anything reads a field an effect set (regarding, accepted_by, correlated_to, has_token) of a
        # message: the prover pins an effect's value only once something depends on it (hooks.py).
        self.hooks = hooks
        self.explicit: set[tuple[str, str]] = {("org", k) for k in scenario.org}
        self.explicit |= {(p.id, k) for p in scenario.participants.values() for k in p.settings}
        facts = _vocabulary_facts(model)
        self._uncertain, self._null = facts.uncertain, facts.null
        self._effect_fields, self._shared_fields = facts.effect_fields, facts.shared_fields

    def _settings(self, p: Participant) -> dict[str, Any]:
        vocab = self.model.vocabulary
        out: dict[str, Any] = {k: a.default for k, a in vocab.groups["party"].items() if k != "kind"}
        if p.kind in vocab.mailbox_kinds:
            for k, a in vocab.groups["mailbox"].items():
                out[k] = a.default_for_queue if p.kind == "queue" and a.default_for_queue is not None else a.default
        out.update(p.settings)
        return out

    @contextmanager
    def unobserved(self) -> Iterator[None]:
        """Reads made inside are not told to the hooks (they only settle which term is which: prove/reuse.py)."""
        hooks, self.hooks = self.hooks, None
        try:
            yield
        finally:
            self.hooks = hooks

    # --- mail mechanics -------------------------------------------------------------------------------------
    def matches(self, pid: str) -> tuple[str, ...]:
        """Every participant sharing `pid`'s address, in listing order (To and Cc resolve to all of them); a
        disabled user never matches (R74, R120)."""
        address = self.parties[pid].address
        return tuple(q.id for q in self.parties.values() if q.address == address and not q.disabled)

    def tracker(self, msg: Message) -> str | None:
        """The mailbox that tracks a received message, for sender resolution: its first Dynamics recipient."""
        return next((p for p, c in msg.copies.items() if c.role != "sender"), None)

    def resolve_sender(self, pid: str, tracker: str | None = None) -> str:
        """The one record the From address resolves to (R74, R120): a record owned by the tracking mailbox's owner
        (the user, or the user who owns the queue) first, then the vocabulary's kind order, then the listing order
        (the earliest created). An address that only a disabled user has stays that user's, whom no filter takes for
        a lead, contact, account or email-enabled record."""
        order = self.model.vocabulary.sender_order
        candidates = [self.parties[q] for q in self.matches(pid)] or [self.parties[pid]]
        mine = None
        if tracker is not None:
            party = self.parties[tracker]
            mine = tracker if party.kind == "user" else party.owner

        def rank(q: Party) -> tuple[int, int]:
            owned = 0 if mine is not None and q.owner == mine else 1
            return owned, order.index(q.kind) if q.kind in order else len(order)

        return sorted(candidates, key=rank)[0].id

    def recipients(self, msg: Message) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for pid in (*msg.to, *msg.cc):
            for q in self.matches(pid):
                seen.setdefault(q, None)
        return tuple(seen)

    def holders(self, msg: Message, side: str | None) -> tuple[str, ...]:
        if side == "outgoing":
            return tuple(p for p, c in msg.copies.items() if c.role == "sender")
        return tuple(p for p, c in msg.copies.items() if c.role != "sender")

    def ancestors(self, msg: Message) -> list[Message]:
        out: list[Message] = []
        cur = msg.parent
        while cur is not None:
            out.append(self.messages[cur])
            cur = self.messages[cur].parent
        return out

    def stored(self, side: Side) -> bool:
        return self.model.states[side.state].stored

    def message_stored(self, msg: Message) -> bool:
        return any(self.stored(s) for s in msg.sides.values())

    def stored_ancestor(self, msg: Message) -> Message | None:
        return next((a for a in self.ancestors(msg) if self.message_stored(a)), None)

    def advance_watermarks(self, processed: set[str]) -> None:
        """After a sync cycle, each mailbox it processed has seen every message delivered to it so far (R33)."""
        for msg in self.messages.values():
            for pid, copy in msg.copies.items():
                if copy.folder != "none" and pid in processed:
                    self.watermark[pid] = max(self.watermark.get(pid, -1), msg.order)
        for msg in self.messages.values():
            for pid, copy in msg.copies.items():
                copy.before_watermark = msg.order <= self.watermark.get(pid, -1)
                if pid in processed:
                    copy.reprocess = False

    def process_from_now(self, pid: str) -> None:
        """The mailbox's Process Email From date (the later of its own and its server profile's) is set to now:
        every message already in the mailbox counts as processed, so none is evaluated automatically (R122)."""
        for msg in self.messages.values():
            copy = msg.copies.get(pid)
            if copy is not None and copy.folder != "none":
                self.watermark[pid] = max(self.watermark.get(pid, -1), msg.order)
        for msg in self.messages.values():
            copy = msg.copies.get(pid)
            if copy is not None:
                copy.before_watermark = msg.order <= self.watermark.get(pid, -1)

    def reset_processing(self, pid: str) -> None:
        """The mailbox's processing date moved earlier (R21): its watermark goes back and its items are seen anew."""
        self.watermark.pop(pid, None)
        for msg in self.messages.values():
            copy = msg.copies.get(pid)
            if copy is not None:
                copy.before_watermark = False
                copy.reprocess = True

    def assumption(self, owner: str, name: str, env: Env) -> None:
        """Note a setting left at a default the documentation is unsure of: the verdict rests on it."""
        attr = self._uncertain.get(name)
        if attr is None or (owner, name) in self.explicit:
            return
        party = self.parties.get(owner)
        queue = party is not None and party.kind == "queue" and attr.default_for_queue is not None
        level = attr.queue_default_confidence if queue else attr.default_confidence
        if level != "H":
            found = env.get("__assumed")
            if found is not None:
                found.setdefault(f"{owner}.{name}", level)

    def reading(self, point: str, env: Env) -> str:
        """The chosen reading of a disputed point; the outcome rests on it whichever it is (noted as `reading.<id>`
        among the run's assumptions, with the reading's confidence)."""
        choice = self.readings[point]
        found = env.get("__assumed")
        if found is not None:
            found.setdefault(f"{READING}.{point}", self.model.readings[point].choices[choice].confidence)
        return choice

    def message_field(self, msg: Message, name: str) -> Any:
        for s in msg.sides.values():
            if self.stored(s) and s.fields.get(name) is not None:
                return s.fields[name]
        return None

    # --- the Resolver protocol ----------------------------------------------------------------------------
    def members(self, coll: Any) -> tuple[Any, ...]:
        return tuple(coll) if coll else ()

    def get(self, owner: str, obj: Any, name: str, env: Env) -> Any:
        if owner == "org":
            self.assumption("org", name, env)
            return self.org[name]
        if owner == READING:
            return self.reading(name, env)
        if owner == "event":
            return env["__event"].get(name, self._null[name])
        if obj is None:
            return self._null[name]
        if owner == "party":
            return self._party(obj, name, env)
        return self._email(obj, name)

    def _party(self, pid: str, name: str, env: Env) -> Any:
        party = self.parties[pid]
        if name == "kind":
            return party.kind
        if name in party.settings:
            self.assumption(pid, name, env)
            return party.settings[name]
        current = env.get("email")
        if current is not None and name in self.model.vocabulary.groups["copy"]:
            copy = self.messages[current[0]].copies.get(pid)
            if copy is not None:
                return getattr(copy, name)
        return self._null[name]

    def _email(self, ref: tuple[str, str | None], name: str) -> Any:
        msg = self.messages[ref[0]]
        side = msg.sides.get(ref[1]) if ref[1] else None
        if name == "stored":
            return self.stored(side) if side else self.message_stored(msg)
        if name in self._effect_fields:
            if self.hooks is not None:
                self.hooks.read(msg.id, name)
            if name in self._shared_fields:
                return msg.shared.get(name, self._null[name])
            return side.fields.get(name) if side else self.message_field(msg, name)
        if name == "origin":
            return msg.origin
        if name == "side":
            return ref[1] or msg.main.side
        if name == "internal":
            return len(msg.sides) == 2
        if name == "has_parent":
            return msg.parent is not None
        if name in ("is_reply", "is_forward", "subject_changed", "in_reply_to_kept", "token_over_limit",
                    "headers_dropped", "create_fails", "attachment_over_limit", "irm"):
            return getattr(msg, name)
        if name == "smart_match":
            earlier = sorted((m for m in self.messages.values() if m.order < msg.order and self.message_stored(m)),
                             key=lambda m: -m.order)
            match = smart_match(msg, earlier, lambda pid: self.parties[pid].address)
            return (match.id, None) if match else None
        if name == "stored_ancestor":
            found = self.stored_ancestor(msg)
            return (found.id, None) if found else None
        if name == "thread_stored":
            return any(self.message_stored(a) for a in self.ancestors(msg))
        if name == "sibling_stored":
            return any(self.stored(s) for k, s in msg.sides.items() if k != ref[1])
        if name == "sender":
            return msg.received_from if (ref[1] or msg.main.side) == "incoming" else msg.sender
        if name == "parent":
            return (msg.parent, None) if msg.parent else None
        if name == "recipients":
            return self.recipients(msg)
        if name == "holders":
            return self.holders(msg, ref[1])
        raise KeyError(name)  # pragma: no cover - the checker admits only declared fields
