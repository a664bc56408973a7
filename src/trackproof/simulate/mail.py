"""What mail is made of: participants, messages, each mailbox's copy of a message, and the activity sides whose
lifecycles the machines drive, with the steps that happened to them. Plain data; the world (world.py) holds them
and answers what guards ask of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The activities a message can have: the sender's (outgoing) and the recipients' (incoming); R56, R58.
SIDES = ("outgoing", "incoming")


class Party:
    """A participant as mail sees it: its kind, address and settings, whether it has a mailbox, its members."""

    __slots__ = ("address", "disabled", "id", "is_mailbox", "kind", "members", "owner", "settings")

    def __init__(self, pid: str, kind: str, address: str, settings: dict[str, Any], members: tuple[str, ...],
                 is_mailbox: bool, owner: str | None = None, disabled: bool = False) -> None:
        self.id, self.kind, self.address, self.settings, self.members = pid, kind, address, settings, members
        # a disabled user has no mailbox and no address resolves to it (R74, R120); `owner`: who owns the record
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

    def __init__(self, message: Message, side: str, position: int = 0) -> None:
        self.message = message
        self.side = side
        self.position = position  # the order sides were made in: a sync cycle goes through them in it
        self.state = ""
        self.was_stored = False  # it was an email activity at some point (set on entering a stored state)
        self.fields: dict[str, Any] = {}
        self.steps: list[Step] = []
        # per (trigger, actor, params): the state, clock and reads of the last try that found no rule
        self.misses: dict[tuple[str, Any, str], tuple[str, int, frozenset[Any]]] = {}

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
        # Unresolved addresses removed before sending (R76): the To and Cc as written, whether each address written
        # was removed, and those whose removal followed from their kind as the scenario gave it (no event had
        # changed it): what the prover may leave to that kind
        self.tracked_by_hand = False  # someone tracked it by hand (Track, the category, a tracked folder)
        self.written: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.removed: dict[str, bool] = {}
        self.by_kind: set[str] = set()

    @property
    def main(self) -> Side:
        return self.sides.get("outgoing") or self.sides["incoming"]
