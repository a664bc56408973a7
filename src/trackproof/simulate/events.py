"""What each kind of scenario event does: create a message, run a sync cycle, start a legacy client, act by hand.

Each handler validates the event against the world (the email exists, the actor holds a copy, ...) and then fires
triggers on the activity sides; the rules that decide what follows are in model/.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import Loc, TrackproofError
from ..spec.ir import Model
from ..spec.scenario import Event
from ..spec.yamlsrc import quoted
from .automatic import RULE_FOLDERS, add_inbox_rule, reply_event
from .mail import SIDES, Message, Side
from .world import World


class Simulator(Protocol):
    """What an event needs of the run it happens in (engine.Simulator): the world, and the mail mechanics and
    triggers the engine carries out."""

    model: Model
    world: World

    def fire(self, side: Side, trigger: str, actor: str | None = None,
             params: dict[str, Any] | None = None) -> bool: ...

    def deliver(self, msg: Message) -> None: ...

    def new_side(self, msg: Message, name: str) -> Side: ...

    def add_copy(self, msg: Message, pid: str, role: str) -> None: ...

    def decide(self, definition: str, party: str, held: tuple[str, str] | None = None) -> bool: ...

    def check_constraints(self, event: Event | None) -> None: ...

    def broadcast(self, trigger: str, actor: str | None = None) -> None: ...

ORIGINS = ("crm", "outlook", "outside")


def event_error(event: Event, key: str, message: str, code: str = "E404") -> TrackproofError:
    """A TrackproofError at the event parameter `key` (or the event)."""
    loc: Loc = event.locs.get(key, event.loc)
    return TrackproofError(code, message, loc)


MOVE_FOLDERS = ("inbox", *RULE_FOLDERS)
#: The true/false parameters of `send` that describe the message (long_subject: the subject is cut, the token kept).
SEND_FLAGS = ("subject_changed", "token_over_limit", "headers_dropped", "create_fails", "attachment_over_limit", "irm",
              "long_subject")


def _party(sim: Simulator, event: Event, key: str) -> str:
    pid = event.params.get(key)
    if not isinstance(pid, str) or pid not in sim.world.parties:
        raise event_error(event, key, f"unknown participant {quoted(pid)}", "E401")
    return pid



def _parties(sim: Simulator, event: Event, key: str) -> tuple[str, ...]:
    raw = event.params.get(key) or []
    items = raw if isinstance(raw, list) else [raw]
    item_locs = getattr(raw, "locs", None) or []  # a list read from a file knows where each item is
    for i, pid in enumerate(items):
        if not isinstance(pid, str) or pid not in sim.world.parties:
            message = f"unknown participant {quoted(pid)} in '{key}'"
            if i < len(item_locs):
                raise TrackproofError("E401", message, item_locs[i])
            raise event_error(event, key, message, "E401")
    return tuple(items)


def _message(sim: Simulator, event: Event, key: str = "email") -> Message:
    eid = event.params.get(key)
    msg = sim.world.messages.get(str(eid))
    if msg is None:
        raise event_error(event, key, f"unknown email {eid!r}: no earlier 'send' event has that id", "E405")
    return msg


def _bool(event: Event, key: str, default: bool) -> bool:
    value = event.params.get(key, default)
    if not isinstance(value, bool):
        raise event_error(event, key, f"'{key}' is true or false", "E402")
    return value


def _origin(sim: Simulator, event: Event, author: str, eid: str) -> str:
    """Where the author composes the message (crm, outlook, outside), checked against who the author is."""
    party = sim.world.parties[author]
    sim.world.read_kind(author)  # who may send from where depends on the author's kind
    via = event.params.get("via", None if party.is_mailbox else "outside")
    if via not in ORIGINS:
        shown = repr(via)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        said = f"say how {author} sends {eid}" if via is None else f"{shown} is not a way {author} can send {eid}"
        raise event_error(event, "via", f"{said}: via crm, outlook or outside", "E402")
    if via == "outside" and party.is_mailbox:
        raise event_error(event, "via", f"{author} is a Dynamics {party.kind}: it sends via crm or outlook")
    if via != "crm" and party.is_mailbox and party.kind != "user":
        raise event_error(event, "via", "only a user sends from Outlook")
    if via != "outside" and not party.is_mailbox:
        raise event_error(event, "via", f"{author} is not a Dynamics user or queue: it can only send via outside")
    if _bool(event, "draft", False) and via != "crm":
        raise event_error(event, "draft", "only an email composed in Dynamics 365 (via: crm) is saved as a draft")
    return str(via)


def _send(sim: Simulator, event: Event) -> None:
    world, p = sim.world, event.params
    eid = p["id"]
    if not isinstance(eid, str) or not eid.replace("_", "").replace("-", "").isalnum():
        raise event_error(event, "id", "an email id is a word of letters, digits, - or _ (E1, reply-2)", "E402")
    if eid in world.messages or "." in eid:
        raise event_error(event, "id", f"email id '{eid}' is already used (or contains a dot)", "E404")
    author = _party(sim, event, "from")
    is_mailbox = world.parties[author].is_mailbox
    via = _origin(sim, event, author, eid)
    to, cc, bcc = _parties(sim, event, "to"), _parties(sim, event, "cc"), _parties(sim, event, "bcc")
    if not (to or cc or bcc):
        raise event_error(event, "id", f"{eid} has no recipient", "E404")
    parent = None
    if "reply_to" in p and "forward_of" in p:
        raise event_error(event, "forward_of", "an email replies to or forwards one email, not both")
    for key in ("reply_to", "forward_of"):
        if key in p:
            parent_msg = _message(sim, event, key)
            if not parent_msg.shared.get("delivered"):
                state = parent_msg.main.state
                raise event_error(event, key, f"{author} cannot answer {parent_msg.id}: it never left its sender "
                                  f"(it is {state})")
            if author not in (parent_msg.author, *world.recipients(parent_msg, observed=True), *parent_msg.bcc,
                              *_dl_members(sim, parent_msg)):
                raise event_error(event, key, f"{author} never received {parent_msg.id}")
            parent = parent_msg.id
    regarding = _party(sim, event, "regarding") if "regarding" in p else None
    flags = {name: _bool(event, name, False) for name in SEND_FLAGS}
    flags.update(is_reply="reply_to" in p, is_forward="forward_of" in p,
                 in_reply_to_kept=_bool(event, "in_reply_to_kept", True))
    if flags["headers_dropped"] and parent is None:
        raise event_error(event, "headers_dropped", "only a reply or a forward has In-Reply-To headers to drop")
    msg = Message(eid, via, author, world.resolve_sender(author), (to, cc, bcc), parent, flags, regarding,
                  len(world.messages), _subject(event, world.messages[parent] if parent else None, flags))
    world.messages[eid] = msg
    _token(sim, event, msg)
    sim.add_copy(msg, author, "sender")
    _on_behalf(sim, event, msg)
    for role, pids in (("to", to), ("cc", cc), ("bcc", bcc)):
        for pid in pids:
            for match in world.matches(pid):
                sim.add_copy(msg, match, role)
    for member in _dl_members(sim, msg):
        sim.add_copy(msg, member, "dl")
    if not is_mailbox:  # received mail: a record owned by the tracking mailbox's owner is preferred (R120)
        msg.sender = msg.received_from = world.resolve_sender(author, world.tracker(msg))
    outgoing = sim.new_side(msg, "outgoing") if is_mailbox else None
    if any(c.role != "sender" for c in msg.copies.values()) or outgoing is None:
        sim.new_side(msg, "incoming")
    params = {"regarding": regarding}
    if outgoing is not None:
        sim.fire(outgoing, "save_draft" if _bool(event, "draft", False) else "send", actor=author, params=params)
    if via != "crm":
        sim.deliver(msg)


def _on_behalf(sim: Simulator, event: Event, msg: Message) -> None:
    """Sent on behalf of (or as) another, shared mailbox: the recipients' From is that mailbox's; the sent copy is in
    the author's Sent Items only, unless Exchange also saves one in the shared mailbox's (`copy_in_shared`; R118)."""
    if "on_behalf_of" not in event.params:
        if "copy_in_shared" in event.params:
            raise event_error(event, "copy_in_shared", "copy_in_shared goes with on_behalf_of")
        return
    shared = _party(sim, event, "on_behalf_of")
    if msg.origin != "outlook" or not sim.world.parties[shared].is_mailbox or shared == msg.author:
        raise event_error(event, "on_behalf_of", "a user sends from Outlook on behalf of another user's or a "
                          "queue's mailbox (via: outlook)")
    msg.on_behalf_of = shared
    msg.received_from = sim.world.resolve_sender(shared)
    if _bool(event, "copy_in_shared", False):
        sim.add_copy(msg, shared, "sender")


def _token(sim: Simulator, event: Event, msg: Message) -> None:
    """Which tracking token the subject carries: its own for an email composed in Dynamics 365 (if the send rule gives
    it one); else the parent's, which a mail client copies unless the subject is rewritten without it (token_kept)."""
    world = sim.world
    if "token_kept" in event.params and (msg.origin == "crm" or msg.parent is None):
        raise event_error(event, "token_kept", "only a reply or forward from a mail client keeps its parent's token")
    if msg.origin == "crm":
        msg.shared["token_of"] = msg.id
    elif msg.parent is not None:
        if world.hooks is not None:
            world.hooks.read(msg.parent, "has_token")
        kept = _bool(event, "token_kept", not msg.subject_changed)
        parent = world.messages[msg.parent]
        msg.shared["has_token"] = bool(parent.shared.get("has_token")) and kept
        msg.shared["token_of"] = parent.shared.get("token_of")


def _subject(event: Event, parent: Message | None, flags: dict[str, bool]) -> str:
    """The subject line (without a tracking token): as given; else a reply's or forward's is its parent's behind
    RE: or FW:, unless the author rewrote it; else one no other email has."""
    given = event.params.get("subject")
    if given is not None:
        if not isinstance(given, str) or not given.strip():
            raise event_error(event, "subject", "a subject is a line of text", "E402")
        return given
    if parent is not None and not flags["subject_changed"]:
        return ("FW: " if flags["is_forward"] else "RE: ") + parent.subject
    return f"(subject of {event.params['id']})"


def _dl_members(sim: Simulator, msg: Message) -> list[str]:
    out: list[str] = []
    for pid in (*msg.to, *msg.cc, *msg.bcc):
        out.extend(sim.world.list_members(pid))
    return out


def _held_side(sim: Simulator, event: Event, msg: Message, actor: str) -> Side:
    copy = msg.copies.get(actor)
    if copy is None or copy.folder == "none":
        raise event_error(event, "by", f"{actor} holds no copy of {msg.id} in a mailbox")
    side = msg.sides.get("outgoing" if copy.role == "sender" else "incoming")
    if side is None:  # pragma: no cover - a copy always belongs to a side
        raise event_error(event, "by", f"{actor}'s copy of {msg.id} belongs to no activity")
    return side


def _manual(sim: Simulator, event: Event) -> None:
    msg = _message(sim, event)
    actor = _party(sim, event, "by")
    # a delegate acts on the manager's copy (R73): `mailbox` names whose
    owner = _party(sim, event, "mailbox") if "mailbox" in event.params else actor
    if owner != actor and event.kind not in ("track", "categorize", "uncategorize"):
        raise event_error(event, "mailbox", "a delegate tracks or categorizes in another mailbox, nothing else")
    side = _held_side(sim, event, msg, owner)
    copy = msg.copies[owner]
    params: dict[str, Any] = {}
    if event.kind == "track":
        via = event.params.get("via", "app_for_outlook")
        if via not in sim.model.vocabulary.enums["via"]:
            raise event_error(event, "via", f"'{via}' is not a tracking tool "
                              f"({', '.join(sim.model.vocabulary.enums['via'])})", "E402")
        params = {"via": via, "regarding": _party(sim, event, "regarding") if "regarding" in event.params else None,
                  "mailbox": owner if owner != actor else None}
    elif event.kind == "uncategorize":
        params = {"mailbox": owner if owner != actor else None}
    sim.world.touch(("msg", msg.id))
    if event.kind in ("track", "categorize") or (event.kind == "move" and event.params.get("to") == "tracked_folder"):
        msg.tracked_by_hand = True  # whatever the rules make of it: a person asked for it (universe claims read it)
    if event.kind == "categorize":
        copy.categorized = True
    elif event.kind == "uncategorize":
        copy.categorized = False
    elif event.kind == "move":
        folder = event.params["to"]
        if folder not in MOVE_FOLDERS:
            raise event_error(event, "to", f"'{folder}' is not a folder to move to ({', '.join(MOVE_FOLDERS)})",
                              "E402")
        if folder == "tracked_folder" and "regarding" not in event.params:
            raise event_error(event, "to", "a tracked folder is mapped to a record: give 'regarding'", "E404")
        copy.moved_back = folder == "inbox" and copy.folder != "inbox"
        copy.folder = folder
        copy.folder_record = _party(sim, event, "regarding") if folder == "tracked_folder" else None
    sim.fire(side, event.kind, actor=actor, params=params)


def _delete(sim: Simulator, event: Event) -> None:
    msg = _message(sim, event)
    where = event.params.get("in", "outlook")
    if where == "crm":
        for side in _sides(event, msg):
            sim.fire(side, "delete_crm")
        return
    if where != "outlook":
        raise event_error(event, "in", "delete 'in: outlook' (with 'by') or 'in: crm'", "E402")
    actor = _party(sim, event, "by")
    side = _held_side(sim, event, msg, actor)
    msg.copies[actor].folder = "deleted"
    sim.world.touch(("msg", msg.id))
    sim.fire(side, "delete_outlook", actor=actor)


def _set(sim: Simulator, event: Event) -> None:
    from ..spec.vocab import check_setting_value

    vocab = sim.model.vocabulary
    for key, value in event.params.items():
        owner, _, name = str(key).partition(".")
        loc = event.locs.get(key, event.loc)
        if owner == "org":
            attr = vocab.groups["org"].get(name)
            target = sim.world.org
        elif owner in sim.world.parties:
            party = sim.world.parties[owner]
            attr = vocab.groups["mailbox"].get(name) if party.is_mailbox else None
            attr = attr or (vocab.groups["party"].get(name) if name != "kind" else None)
            target = party.settings
        else:
            raise TrackproofError("E402", f"'{key}': write org.<setting> or <participant>.<setting>", loc)
        if attr is None:
            raise TrackproofError("E402", f"unknown setting '{name}' in '{key}'", loc)
        check_setting_value(attr, value, vocab.enums, loc)
        target[name] = value
        sim.world.touch("org" if owner == "org" else ("party", owner))
        sim.world.explicit.add((owner, name))
        sim.world.overwritten.add((owner, name))
    sim.check_constraints(event)


def _sync(sim: Simulator, event: Event) -> None:
    sim.broadcast("sync")
    # Which mailboxes the cycle processed is the model's to say (its definition `sss_incoming`).
    processed = {pid for pid, party in sim.world.parties.items()
                 if party.is_mailbox and sim.decide("sss_incoming", pid, (pid, "watermark"))}
    sim.world.advance_watermarks(processed)


def _outlook(sim: Simulator, event: Event) -> None:
    user = _party(sim, event, "user")
    party = sim.world.parties[user]
    sim.world.read_kind(user)
    if party.kind != "user":
        raise event_error(event, "user", f"{user} is not a user: only users run the legacy Outlook client")
    sim.world.overwritten.add((user, "outlook_running"))
    sim.world.touch(("party", user))
    if event.kind == "outlook_stop":
        party.settings["outlook_running"] = False
        return
    party.settings["outlook_running"] = True
    sim.broadcast("outlook_sync", actor=user)


def _resend(sim: Simulator, event: Event) -> None:
    msg = _message(sim, event)
    if "outgoing" not in msg.sides or msg.origin != "crm":
        raise event_error(event, "email", f"{msg.id} was not composed in Dynamics 365")
    sim.fire(msg.sides["outgoing"], "send", actor=msg.author, params={"regarding": msg.regarding})


def _mailbox(sim: Simulator, event: Event) -> str:
    pid = _party(sim, event, "mailbox")
    if not sim.world.parties[pid].is_mailbox:
        raise event_error(event, "mailbox", f"{pid} has no mailbox")
    return pid


def _reset(sim: Simulator, event: Event) -> None:
    """An administrator moves the processing date earlier (reset_processing_date) or to now (process_email_from)."""
    (sim.world.reset_processing if event.kind == "reset_processing_date" else sim.world.process_from_now)(
        _mailbox(sim, event))


def _inbox_rule(sim: Simulator, event: Event) -> None:
    record = _party(sim, event, "regarding") if "regarding" in event.params else None
    add_inbox_rule(sim.world, event, _mailbox(sim, event), _party(sim, event, "from") if "from" in event.params
                   else None, record)


def _auto_reply(sim: Simulator, event: Event) -> None:
    _send(sim, reply_event(sim.world, event, _message(sim, event, "to_email"), _party(sim, event, "from")))


def _sides(event: Event, msg: Message) -> list[Side]:
    """The activity sides an event in Dynamics 365 acts on: the one `side` names, else every one."""
    wanted = event.params.get("side")
    if wanted is not None and wanted not in msg.sides:
        raise event_error(event, "side", f"{msg.id} has no {wanted!r} side", "E402")
    return [msg.sides[name] for name in SIDES if name in msg.sides and wanted in (None, name)]


def _change_regarding(sim: Simulator, event: Event) -> None:
    record = _party(sim, event, "regarding") if event.params.get("regarding") is not None else None
    for side in _sides(event, _message(sim, event)):
        sim.fire(side, "change_regarding", params={"regarding": record})


HANDLERS = {"send": _send, "sync": _sync, "outlook_start": _outlook, "outlook_stop": _outlook, "track": _manual,
            "untrack": _manual, "categorize": _manual, "uncategorize": _manual, "move": _manual, "delete": _delete,
            "set": _set, "resend": _resend, "reset_processing_date": _reset, "process_email_from": _reset,
            "inbox_rule": _inbox_rule, "auto_reply": _auto_reply, "change_regarding": _change_regarding}


def play(sim: Simulator, event: Event) -> None:
    HANDLERS[event.kind](sim, event)
