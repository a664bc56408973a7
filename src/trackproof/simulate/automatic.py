"""What mail does without anyone acting on it: an Inbox rule that moves arriving email (R126), and an automatic
reply from a recipient outside the organisation (R51, R129).

What this is not: how server-side sync treats the moved or the answering email; that is the model's (a moved copy
is in another folder, an automatic reply is an ordinary reply). events.py validates who and which email, then
calls these.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import TrackproofError
from ..spec.scenario import Event
from .mail import Message
from .world import World

#: Where an Inbox rule moves arriving email (the folders a `move` event names, the Inbox itself left out).
RULE_FOLDERS = ("subfolder", "tracked_folder", "junk", "deleted")


def _error(event: Event, key: str, message: str, code: str) -> TrackproofError:
    return TrackproofError(code, message, event.locs.get(key, event.loc))


def add_inbox_rule(world: World, event: Event, mailbox: str, sender: str | None, record: str | None) -> None:
    """From now on, email arriving in `mailbox` (from `sender`, or from anyone) goes to the event's `moves_to`
    folder (a tracked folder mapped to `record`); engine.deliver applies it."""
    folder = event.params["moves_to"]
    if folder not in RULE_FOLDERS:
        raise _error(event, "moves_to", f"'{folder}' is not a folder an Inbox rule moves to "
                     f"({', '.join(RULE_FOLDERS)})", "E402")
    if folder == "tracked_folder" and record is None:
        raise _error(event, "moves_to", "a tracked folder is mapped to a record: give 'regarding'", "E404")
    world.inbox_rules.setdefault(mailbox, []).append((sender, folder, record if folder == "tracked_folder" else None))


def reply_event(world: World, event: Event, original: Message, author: str) -> Event:
    """The `send` an automatic reply is: an ordinary reply to the email's author, its subject behind 'Automatic
    reply:'; which headers it carries is undocumented (`headers_dropped`)."""
    if world.parties[author].is_mailbox:  # whether Exchange keeps one in Sent Items is not documented
        raise _error(event, "from", f"{author} is a Dynamics mailbox: its automatic replies are not modelled", "E404")
    params: dict[str, Any] = {"id": event.params["id"], "from": author, "to": [original.author],
                              "reply_to": original.id, "subject": "Automatic reply: " + original.subject,
                              "headers_dropped": event.params.get("headers_dropped", False)}
    locs = {**{k: event.locs.get(k, event.loc) for k in params}, "reply_to": event.locs.get("to_email", event.loc)}
    return replace(event, kind="send", params=params, locs=locs)
