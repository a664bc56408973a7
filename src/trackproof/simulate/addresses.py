"""Which records an address resolves to (R74, R75, R76, R120): every participant sharing it for To and Cc, one for
From (a record the tracking mailbox's owner owns first, then the vocabulary's kind order), none for a disabled
user; and which addresses are unresolved. How mail itself behaves, read by the world (world.py), which this class is
a part of; the mail mechanics that read a kind tell the prover's hooks so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..spec.ir import Model
from .mail import Message, Party

if TYPE_CHECKING:
    from .hooks import Hooks

#: The email facts that are recipients, with the lines of the message they come from (0 To, 1 Cc).
RECIPIENT_LINES = {"recipients": (0, 1), "to_recipients": (0,), "cc_recipients": (1,)}
#: The email facts the address book answers (AddressBook.address_fact).
ADDRESS_FACTS = (*RECIPIENT_LINES, "picked", "sender_disabled", "sender_shared", "recipients_shared")


class AddressBook:
    """The address lookups of a world (World inherits them): its parties, by address, and the prover's hooks."""

    model: Model
    parties: dict[str, Party]
    by_address: dict[str, tuple[str, ...]]
    kinds: dict[str, tuple[str, ...]]
    overwritten: set[tuple[str, str]]
    hooks: Hooks | None
    reading: set[Any] | None

    def matches(self, pid: str) -> tuple[str, ...]:
        """Every participant sharing `pid`'s address, in listing order (To and Cc resolve to all of them); a
        disabled user matches none."""
        return self.by_address.get(self.parties[pid].address, ())

    def tracker(self, msg: Message) -> str | None:
        """The mailbox that tracks a received message, for sender resolution: its first Dynamics recipient."""
        return next((p for p, c in msg.copies.items() if c.role != "sender"), None)

    def list_members(self, pid: str) -> tuple[str, ...]:
        """The members of a distribution list (the mail mechanics read the kind: told to the hooks); none for any
        other kind."""
        party = self.parties[pid]
        if not party.members:
            return ()
        if self.hooks is not None:
            self.hooks.read(pid, "kind")
        return party.members if party.kind in self.model.vocabulary.kind_roles["expands"] else ()

    def may_be_unresolved(self, pid: str) -> bool:
        """Whether `pid` may be an address no record matches, of the kinds it may have (`kinds`: the prover's
        claims let kinds range; a scenario's are what it says). Reads no kind of this world."""
        choices = self.kinds.get(pid, (self.parties[pid].kind,))
        if (pid, "kind") in self.overwritten:
            choices = (self.parties[pid].kind,)
        unresolved = self.model.vocabulary.kind_roles["unresolved"]
        return any(k in unresolved for k in choices)

    def read_kind(self, pid: str) -> None:
        """The mail mechanics are about to read `pid`'s kind (told to the hooks)."""
        if self.hooks is not None:
            self.hooks.read(pid, "kind")

    def unresolved(self, pid: str) -> bool:
        """Whether `pid` is an address no record matches (the mail mechanics read its kind: told to the hooks)."""
        if self.hooks is not None:
            self.hooks.read(pid, "kind")
        return self.parties[pid].kind in self.model.vocabulary.kind_roles["unresolved"]

    def resolve_sender(self, pid: str, tracker: str | None = None) -> str:
        """The one record the From address resolves to (R74, R120): a record owned by the tracking mailbox's owner
        (the user, or the user who owns the queue) first, then the vocabulary's kind order, then the listing order
        (the earliest created). An address that only a disabled user has stays that user's, whom no filter takes for
        a lead, contact, account or email-enabled record."""
        order = self.model.vocabulary.sender_order
        matches = self.matches(pid) or (pid,)
        if len(matches) > 1 and self.hooks is not None:
            for q in matches:
                self.hooks.read(q, "kind")
        mine = None
        if tracker is not None:
            party = self.parties[tracker]
            mine = tracker if party.kind == "user" else party.owner

        def rank(q: Party) -> tuple[int, int]:
            owned = 0 if mine is not None and q.owner == mine else 1
            return owned, order.index(q.kind) if q.kind in order else len(order)

        return sorted((self.parties[q] for q in matches), key=rank)[0].id

    def address_fact(self, msg: Message, name: str) -> Any:
        """One of ADDRESS_FACTS of `msg`: its recipients (all, To, Cc), the To and Cc as written before unresolved
        addresses were removed (R76), whether only a disabled user has the From address (R74, R120), whether
        several records have it, the To and Cc recipients whose address several records have (R75)."""
        if name in RECIPIENT_LINES:
            return self.recipients(msg, lines=RECIPIENT_LINES[name])
        if name == "picked":
            return (*msg.written[0], *msg.written[1]) if msg.written else (*msg.to, *msg.cc)
        if name == "sender_disabled":
            return self.parties[msg.author].disabled
        if name == "recipients_shared":
            return tuple(q for q in self.recipients(msg) if self.address_shared(q))
        return self.address_shared(msg.author)

    def address_shared(self, pid: str) -> bool:
        """Whether the address `pid` has matches several records (R74, R130: a From address may then stay
        unresolved; R75: a To or Cc address too, under the org setting). The matches are told apart by kind only
        where they are records at all (told to the hooks)."""
        matches = self.matches(pid)
        if len(matches) < 2:
            return False
        for q in matches:
            self.read_kind(q)
        skip = (*self.model.vocabulary.kind_roles["unresolved"], *self.model.vocabulary.kind_roles["expands"])
        return sum(1 for q in matches if self.parties[q].kind not in skip) > 1

    def recipient_candidates(self, msg: Message, lines: tuple[int, ...] = (0, 1)) -> tuple[tuple[str, str | None], ...]:
        """The To and Cc recipients as written, resolved to every matching record, each with the address whose
        kind decides whether it was removed before sending (None: it was not subject to removal). With the kinds of
        the written addresses, they give `recipients` (the prover builds its terms from these, so that a rule path
        need not fix the kind of every address: prove/terms.py)."""
        if msg.written is None:
            return tuple((q, None) for q in self.recipients(msg, lines=lines))
        seen: dict[str, str | None] = {}
        for pid in (a for line in lines for a in msg.written[line]):
            for q in self.matches(pid):
                seen.setdefault(q, pid if pid in msg.removed else None)
        return tuple(seen.items())

    def recipients(self, msg: Message, observed: bool = False, lines: tuple[int, ...] = (0, 1)) -> tuple[str, ...]:
        """The To and Cc recipients, resolved to every matching record (R75). `observed`: read by the mail
        mechanics themselves (not through an expression, whose terms the prover builds from the candidates), so
        which addresses were removed is told to the hooks. `lines`: 0 To, 1 Cc (both by default)."""
        if observed and self.hooks is not None:
            for pid in msg.by_kind:
                self.hooks.read(pid, "kind")
        seen: dict[str, None] = {}
        for pid in (a for line in lines for a in (msg.to, msg.cc)[line]):
            for q in self.matches(pid):
                seen.setdefault(q, None)
        return tuple(seen)

