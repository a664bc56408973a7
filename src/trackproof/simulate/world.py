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
from .addresses import ADDRESS_FACTS, AddressBook
from .mail import Copy, Message, Party, Side
from .subjects import smart_match

if TYPE_CHECKING:
    from .hooks import Hooks

Env = dict[str, Any]


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


class World(AddressBook):
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
        self.by_address: dict[str, tuple[str, ...]] = {}  # address -> the participants that have it, in order
        for party in self.parties.values():  # a disabled user never matches an address (R74, R120)
            if not party.disabled:
                self.by_address[party.address] = (*self.by_address.get(party.address, ()), party.id)
        self.watermark: dict[str, int] = {}  # per mailbox: order of the newest message a sync has seen in it
        # per mailbox: the Inbox rules that move arriving mail, in the order they were made (first that applies
        # wins): (only from this sender, or None for all mail; destination folder; a tracked folder's record)
        self.inbox_rules: dict[str, list[tuple[str | None, str, str | None]]] = {}
        self.mailbox_copies: dict[str, list[tuple[Message, Copy]]] = {}  # per mailbox, its copies in message order
        self._seen: dict[str, int] = {}  # per mailbox: how many of its copies are known to be before its watermark
        self._reprocessing: dict[str, list[tuple[Message, Copy]]] = {}  # per mailbox: copies to be processed again
        # What the world looked like when: a clock, and when each object last changed ("org", ("party", id),
        # ("msg", id)); an attempt that read nothing changed since needs no second try (Simulator.fire).
        self.clock = 0
        self.stamps: dict[Any, int] = {}
        self.sides: list[Side] = []  # every activity side, in the order they were made
        # Broadcast triggers (a sync cycle, a legacy client's pass): per (trigger, actor), the positions of the sides
        # that may react (the others' last try found no rule and read nothing changed since), and who watches what
        self.awake: dict[tuple[str, Any], set[int]] = {}
        self.watchers: dict[Any, list[tuple[int, tuple[str, Any]]]] = {}
        self.woken: list[int] | None = None  # sides woken during the broadcast under way
        self.reading: set[Any] | None = None  # the objects read by the attempt under way, when asked
        self.kinds: dict[str, tuple[str, ...]] = {}  # the kinds a participant may have, where they range (prover)
        self.overwritten: set[tuple[str, str]] = set()  # settings an event changed: no longer free for the prover
        # Told when anything reads a field an effect set (regarding, accepted_by, correlated_to, has_token) of a
        # message: the prover pins an effect's value only once something depends on it (hooks.py).
        self.hooks = hooks
        self.explicit: set[tuple[str, str]] = {("org", k) for k in scenario.org}
        self.explicit |= {(p.id, k) for p in scenario.participants.values() for k in p.settings}
        facts = _vocabulary_facts(model)
        self._uncertain, self._null = facts.uncertain, facts.null
        self._effect_fields, self._shared_fields = facts.effect_fields, facts.shared_fields
        self._copy_fields = vocab.groups["copy"]

    def _settings(self, p: Participant) -> dict[str, Any]:
        vocab = self.model.vocabulary
        out: dict[str, Any] = {k: a.default for k, a in vocab.groups["party"].items() if k != "kind"}
        if p.kind in vocab.mailbox_kinds:
            for k, a in vocab.groups["mailbox"].items():
                out[k] = a.default_for(p.kind)
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
    def touch(self, *keys: Any) -> None:
        """Something about these objects changed ("org", ("party", id), ("msg", id)): the sides whose last try of a
        broadcast trigger read them may react again."""
        self.clock += 1
        for key in keys:
            self.stamps[key] = self.clock
            for position, trigger in self.watchers.pop(key, ()):
                awake = self.awake.get(trigger)
                if awake is not None and position not in awake:
                    awake.add(position)
                    if self.woken is not None:
                        self.woken.append(position)

    def add_side(self, side: Side) -> None:
        side.position = len(self.sides)
        self.sides.append(side)
        for awake in self.awake.values():
            awake.add(side.position)

    def sleep(self, side: Side, trigger: tuple[str, Any], reads: frozenset[Any]) -> None:
        """`side` found no rule for a broadcast `trigger` after reading `reads`: leave it be until one changes."""
        awake = self.awake.get(trigger)
        if awake is None:
            return
        awake.discard(side.position)
        for key in reads:
            self.watchers.setdefault(key, []).append((side.position, trigger))

    def awake_sides(self, trigger: tuple[str, Any]) -> set[int]:
        """The positions of the sides that may react to a broadcast trigger (all of them the first time)."""
        found = self.awake.get(trigger)
        if found is None:
            found = self.awake[trigger] = set(range(len(self.sides)))
        return found

    def unchanged_since(self, clock: int, keys: frozenset[Any]) -> bool:
        """Whether none of these objects changed after `clock`."""
        stamps = self.stamps
        return all(stamps.get(k, 0) <= clock for k in keys)

    def holders(self, msg: Message, side: str | None) -> tuple[str, ...]:
        if side == "outgoing":
            return tuple(p for p, c in msg.copies.items() if c.role == "sender")
        return tuple(p for p, c in msg.copies.items() if c.role != "sender")

    def ancestors(self, msg: Message) -> Iterator[Message]:
        """The messages `msg` answers, nearest first."""
        cur = msg.parent
        while cur is not None:
            found = self.messages[cur]
            yield found
            cur = found.parent

    def stored(self, side: Side) -> bool:
        return self.model.states[side.state].stored

    def message_stored(self, msg: Message) -> bool:
        return any(self.stored(s) for s in msg.sides.values())

    def stored_ancestor(self, msg: Message) -> Message | None:
        """The nearest earlier message of the conversation that is stored (the ancestors looked at until then are
        what the answer read)."""
        for a in self.ancestors(msg):
            if self.reading is not None:
                self.reading.add(("msg", a.id))
            if self.message_stored(a):
                return a
        return None

    def _smart_match(self, msg: Message) -> tuple[str, None] | None:
        """The stored earlier message smart matching finds (subjects.py); every earlier message is what it read."""
        earlier = [m for m in self.messages.values() if m.order < msg.order]
        if self.reading is not None:
            self.reading.update(("msg", m.id) for m in earlier)
        stored = sorted((m for m in earlier if self.message_stored(m)), key=lambda m: -m.order)
        match = smart_match(msg, stored, lambda pid: self.parties[pid].address)
        return (match.id, None) if match else None

    def add_copy(self, msg: Message, pid: str, copy: Copy) -> None:
        msg.copies[pid] = copy
        self.mailbox_copies.setdefault(pid, []).append((msg, copy))
        self.touch(("msg", msg.id))

    def advance_watermarks(self, processed: set[str]) -> None:
        """After a sync cycle, each mailbox it processed has seen every message delivered to it so far (R33). The
        watermark only moves forward (until a reset), so each copy is looked at once as it passes."""
        for pid in sorted(processed):
            copies = self.mailbox_copies.get(pid, [])
            newest = next((msg.order for msg, copy in reversed(copies) if copy.folder != "none"), -1)
            self.watermark[pid] = max(self.watermark.get(pid, -1), newest)
            seen = self._seen.get(pid, 0)
            while seen < len(copies) and copies[seen][0].order <= self.watermark[pid]:
                msg, copy = copies[seen]
                if not copy.before_watermark:
                    copy.before_watermark = True
                    self.touch(("msg", msg.id))
                seen += 1
            self._seen[pid] = seen
            for msg, copy in self._reprocessing.pop(pid, []):
                copy.reprocess = False
                self.touch(("msg", msg.id))

    def process_from_now(self, pid: str) -> None:
        """The mailbox's Process Email From date (the later of its own and its server profile's) is set to now:
        every message already in the mailbox counts as processed, so none is evaluated automatically (R122)."""
        copies = self.mailbox_copies.get(pid, [])
        newest = next((msg.order for msg, copy in reversed(copies) if copy.folder != "none"), -1)
        self.watermark[pid] = max(self.watermark.get(pid, -1), newest)
        for msg, copy in copies:
            if msg.order <= self.watermark[pid] and not copy.before_watermark:
                copy.before_watermark = True
                self.touch(("msg", msg.id))

    def reset_processing(self, pid: str) -> None:
        """The mailbox's processing date moved earlier (R21): its watermark goes back and its items are seen anew."""
        self.watermark.pop(pid, None)
        self._seen[pid] = 0
        marked = self._reprocessing.setdefault(pid, [])
        for msg, copy in self.mailbox_copies.get(pid, []):
            copy.before_watermark = False
            copy.reprocess = True
            marked.append((msg, copy))
            self.touch(("msg", msg.id))

    def documented_default(self, owner: str, name: str) -> Any:
        """An uncertain setting's documented default for this owner (a queue's, where a queue's differs): what a
        run that read it assumed, whatever an event set it to later."""
        party = self.parties.get(owner)
        return self._uncertain[name].default_for(party.kind if party is not None else None)

    def assumption(self, owner: str, name: str, env: Env) -> None:
        """Note a setting left at a default the documentation is unsure of: the verdict rests on it."""
        attr = self._uncertain.get(name)
        if attr is None or (owner, name) in self.explicit:
            return
        party = self.parties.get(owner)
        level = attr.confidence_for(party.kind if party is not None else None)
        if level != "H":
            found = env.get("__assumed")
            if found is not None:
                found.setdefault(f"{owner}.{name}", level)

    def reading_of(self, point: str, env: Env) -> str:
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
            if self.reading is not None:
                self.reading.add("org")
            self.assumption("org", name, env)
            return self.org[name]
        if owner == READING:
            return self.reading_of(name, env)
        if owner == "event":
            return env["__event"].get(name, self._null[name])
        if obj is None:
            return self._null[name]
        if owner == "party":
            return self._party(obj, name, env)
        return self._email(obj, name)

    def _party(self, pid: str, name: str, env: Env) -> Any:
        party = self.parties[pid]
        if self.reading is not None:
            self.reading.add(("party", pid))
        if name == "kind":
            return party.kind
        if name in party.settings:
            self.assumption(pid, name, env)
            return party.settings[name]
        current = env.get("email")
        if current is not None and name in self._copy_fields:
            if self.reading is not None:
                self.reading.add(("msg", current[0]))
            if name in ("before_watermark", "reprocess") and self.hooks is not None:
                self.hooks.read(pid, "watermark")  # what the syncs decided for this mailbox's watermark
            copy = self.messages[current[0]].copies.get(pid)
            if copy is not None:
                return getattr(copy, name)
        return self._null[name]

    def _email(self, ref: tuple[str, str | None], name: str) -> Any:
        msg = self.messages[ref[0]]
        side = msg.sides.get(ref[1]) if ref[1] else None
        reading = self.reading
        if reading is not None:
            reading.add(("msg", msg.id))
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
            return self._smart_match(msg)
        if name == "stored_ancestor":
            found = self.stored_ancestor(msg)
            return (found.id, None) if found else None
        if name == "thread_stored":
            return self.stored_ancestor(msg) is not None
        if name == "sibling_stored":
            return any(self.stored(s) for k, s in msg.sides.items() if k != ref[1])
        if name == "sender":
            return msg.received_from if (ref[1] or msg.main.side) == "incoming" else msg.sender
        if name == "parent":
            return (msg.parent, None) if msg.parent else None
        if name in ADDRESS_FACTS:
            return self.address_fact(msg, name)
        if name == "holders":
            return self.holders(msg, ref[1])
        raise KeyError(name)  # pragma: no cover - the checker admits only declared fields
