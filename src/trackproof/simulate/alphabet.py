"""The events an alphabet allows next in a world: its templates (spec/universe.py) made concrete.

Every combination of a template's alternatives becomes one event, for every message it may act on that exists (a
reply to each message its replier received, a track of each copy a mailbox holds), in the order the templates,
their alternatives and the messages come. A new message takes the next free id (E1, E2, ...) while the universe
has room for it. What mail itself rules out is left out here (replying to a message one never received, acting
on a copy one does not hold); whether Dynamics 365's rules let the event happen is the simulator's to say.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from ..spec.scenario import Event
from ..spec.universe import CREATES, Template, Universe
from .mail import Message
from .world import World

_MESSAGE_ACTIONS = ("track", "untrack", "categorize", "uncategorize", "move", "delete", "resend")


def next_id(world: World, universe: Universe) -> str | None:
    """The id of the next message, or None when the universe has no room for one."""
    if len(world.messages) >= universe.messages:
        return None
    n = 1
    while f"E{n}" in world.messages:
        n += 1
    return f"E{n}"


def _combinations(choices: dict[str, tuple[Any, ...]], skip: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    keys = [k for k in choices if k not in skip]
    for values in itertools.product(*(choices[k] for k in keys)):
        yield {k: (list(v) if isinstance(v, tuple) else v) for k, v in zip(keys, values, strict=True)}


def _received(world: World, msg: Message, pid: str) -> bool:
    """Whether `pid` received `msg` (a recipient, on Bcc, or through a list it belongs to)."""
    if pid in (*msg.to, *msg.cc, *msg.bcc) or pid in world.recipients(msg):
        return True
    return any(pid in world.parties[q].members for q in (*msg.to, *msg.cc, *msg.bcc))


def _targets(template: Template, world: World) -> list[Message]:
    found = [m for m in world.messages.values() if m.id not in template.excluded]
    return [m for m in found if template.emails is None or m.id in template.emails]


def _default_via(world: World, pid: str) -> list[str]:
    party = world.parties[pid]
    if not party.is_mailbox:
        return ["outside"]
    return ["crm", "outlook"] if party.kind == "user" else ["crm"]


def _sends(template: Template, world: World, new_id: str) -> Iterator[dict[str, Any]]:
    for author in template.choices["from"]:
        choices = {k: v for k, v in template.choices.items() if k != "from"}
        if "via" not in choices:
            choices["via"] = tuple(_default_via(world, author))
        for params in _combinations(choices):
            yield {"id": new_id, "from": author, **params}


def _answers(template: Template, world: World, universe: Universe, new_id: str) -> Iterator[dict[str, Any]]:
    """Replies and forwards: to each message a participant received (and that left its sender)."""
    everyone = tuple(world.parties)
    for msg in _targets(template, world):
        if not msg.shared.get("delivered"):
            continue
        for by in template.choices.get("by", everyone):
            if not _received(world, msg, by):
                continue
            choices = dict(template.choices)
            choices.pop("by", None)
            if "via" not in choices:
                choices["via"] = tuple(_default_via(world, by))
            for params in _combinations(choices, skip=("all",) if template.kind == "reply" else ()):
                if template.kind == "reply":
                    for everyone_too in template.choices.get("all", (False,)):
                        to = [msg.author] if msg.author != by else []
                        if everyone_too:
                            to += [p for p in (*msg.to, *msg.cc) if p not in to and p != by]
                        if to:
                            yield {"id": new_id, "from": by, **params, "to": to, "reply_to": msg.id}
                else:
                    yield {"id": new_id, "from": by, **params, "forward_of": msg.id}


def _acts(template: Template, world: World) -> Iterator[dict[str, Any]]:
    """Manual actions: on each message, by each mailbox that holds a copy of it in a folder."""
    for msg in _targets(template, world):
        if template.kind == "resend":
            yield {"email": msg.id}
            continue
        if template.kind == "delete" and "crm" in template.choices.get("in", ("outlook",)):
            yield {"email": msg.id, "in": "crm"}
        if template.kind == "delete" and "outlook" not in template.choices.get("in", ("outlook",)):
            continue
        holders = [p for p, c in msg.copies.items() if c.folder != "none"]
        for by in template.choices.get("by", tuple(holders)):
            if by not in holders:
                continue
            choices = {k: v for k, v in template.choices.items() if k not in ("by", "in")}
            for params in _combinations(choices):
                yield {"email": msg.id, "by": by, **params, **({"in": "outlook"} if template.kind == "delete" else {})}


def instances(universe: Universe, world: World, number: int) -> list[Event]:
    """The events the alphabet allows next in `world`, as event `number` of the sequence."""
    out: list[Event] = []
    new_id = next_id(world, universe)
    for template in universe.alphabet:
        kind = "send" if template.kind in CREATES else template.kind
        if template.kind in CREATES and new_id is None:
            continue
        if template.kind == "send":
            found: Iterator[dict[str, Any]] = _sends(template, world, str(new_id))
        elif template.kind in ("reply", "forward"):
            assert new_id is not None
            found = _answers(template, world, universe, new_id)
        elif template.kind in _MESSAGE_ACTIONS:
            found = _acts(template, world)
        else:
            found = _combinations(template.choices)
        for params in found:
            out.append(Event(number, kind, params, {}, template.loc))
    return out

