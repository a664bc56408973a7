"""The mail state of a world, apart from its settings: to save after an event, restore under other settings, and
compare (the exploration of every event sequence, prove/reach.py, keeps one per reachable world).

A world is its settings (free for the prover: they come from Z3's proposals) and its mail: the messages with their
copies and activity sides, the mailboxes' watermarks, and the settings events changed. `capture` copies the mail;
`restore` puts it into a world built with other settings; `key` is the canonical key of a mail state: equal keys,
equal worlds for every future event (messages are named by creation order, E1, E2, ..., as the universe names them;
an exploration may leave out activity fields that nothing reads, prove/unread.py; `renamed` swaps participants,
for the exploration to merge a world with its twins, prove/symmetry.py). What a run only remembers to go
faster (which sides need not be tried again) is not part of it, nor the steps that explain an outcome (kept in the
copy, never compared).
"""

from __future__ import annotations

import copy as copying
import functools
from dataclasses import dataclass, field
from typing import Any

from .mail import Copy, Message, Side
from .world import World

#: Attributes of a message that are not plain facts of it (copied and compared on their own).
_OWN = ("copies", "sides")
#: What a message keeps so that the prover can build terms over its recipients as written (simulate/mail.py): part
#: of a world's key, not of what the world is (a concrete run need not keep them: `observable`).
_BOOKKEEPING = ("written", "removed", "by_kind")


@dataclass
class MailState:
    messages: dict[str, Message]
    watermark: dict[str, int]
    seen: dict[str, int]
    reprocessing: dict[str, list[tuple[str, str]]]  # per mailbox: (message id, mailbox) of copies to process again
    changed: dict[tuple[str, str], Any]  # settings events changed, with their values now ("org", name) or (pid, name)
    kinds: dict[str, str] = field(default_factory=dict)  # kinds events changed (an unknown address made a contact)
    # per mailbox: the Inbox rules set up so far, (sender or None, folder, record of a tracked folder)
    inbox_rules: dict[str, list[tuple[str | None, str, str | None]]] = field(default_factory=dict)


def _clone_message(msg: Message) -> Message:
    out = copying.copy(msg)
    for name, value in vars(msg).items():
        if name not in _OWN and isinstance(value, dict | set | list):
            setattr(out, name, copying.copy(value))
    out.copies = {}
    for pid, c in msg.copies.items():
        twin = Copy(c.role)
        for slot in Copy.__slots__:
            setattr(twin, slot, getattr(c, slot))
        out.copies[pid] = twin
    out.sides = {}
    for name, s in msg.sides.items():
        twin_side = Side(out, s.side, s.position)
        twin_side.state = s.state
        twin_side.was_stored = s.was_stored
        twin_side.fields = dict(s.fields)
        twin_side.steps = list(s.steps)
        out.sides[name] = twin_side
    return out


def capture(world: World, messages: bool = True) -> MailState:
    """A copy of the world's mail (independent of it: later events in the world do not change it); without
    `messages`, everything but the messages (for world_key)."""
    changed: dict[tuple[str, str], Any] = {}
    kinds: dict[str, str] = {}
    for owner, name in sorted(world.overwritten):
        if owner == "org":
            changed[(owner, name)] = world.org[name]
        elif name == "kind":
            kinds[owner] = world.parties[owner].kind
        else:
            changed[(owner, name)] = world.parties[owner].settings.get(name)
    reprocessing = {pid: [(m.id, pid) for m, _ in items] for pid, items in world._reprocessing.items()}
    copied = {mid: _clone_message(m) for mid, m in world.messages.items()} if messages else {}
    return MailState(copied, dict(world.watermark), dict(world._seen), reprocessing, changed, kinds,
                     {pid: list(rules) for pid, rules in world.inbox_rules.items()})


def restore(world: World, state: MailState) -> None:
    """Put a copy of `state`'s mail into `world` (a world just built, with the settings to play under)."""
    world.messages = {mid: _clone_message(m) for mid, m in state.messages.items()}
    world.watermark = dict(state.watermark)
    world._seen = dict(state.seen)
    world.sides = sorted((s for m in world.messages.values() for s in m.sides.values()), key=lambda s: s.position)
    world.mailbox_copies = {}
    for msg in world.messages.values():
        for pid, c in msg.copies.items():
            world.mailbox_copies.setdefault(pid, []).append((msg, c))
    world._reprocessing = {pid: [(world.messages[mid], world.messages[mid].copies[p]) for mid, p in items]
                           for pid, items in state.reprocessing.items()}
    for (owner, name), value in state.changed.items():
        if owner == "org":
            world.org[name] = value
        else:
            world.parties[owner].settings[name] = value
        world.overwritten.add((owner, name))
        world.explicit.add((owner, name))
    for pid, kind in state.kinds.items():
        world.parties[pid].kind = kind
        world.overwritten.add((pid, "kind"))
    world.inbox_rules = {pid: list(rules) for pid, rules in state.inbox_rules.items()}
    world.awake, world.watchers = {}, {}  # what a run remembers to go faster starts afresh
    world.stamps, world.clock = {}, 0


def renamed(state: MailState, names: dict[str, str]) -> MailState:
    """`state` with participants renamed (`names`: a permutation of some of their ids): every participant id in it,
    as a key or a value, is replaced, and nothing else, so that the renamed world is the one the same events, with
    the same participants swapped, would have made (prove/symmetry.py; the prover checks first that no other
    string of the world can equal a renamed id). The steps that explain an outcome are kept as they are: a renamed
    world is never shown, only replayed."""
    messages = {}
    for mid, msg in state.messages.items():
        twin = _clone_message(msg)
        for name, value in vars(msg).items():
            if name not in _OWN:  # `shared` is keyed by field names, the others' dicts by participants
                setattr(twin, name, renamed_value(value, names, keys=name != "shared"))
        twin.copies = {names.get(pid, pid): c for pid, c in twin.copies.items()}
        for c in twin.copies.values():
            c.folder_record = renamed_value(c.folder_record, names)
        for side in twin.sides.values():
            side.fields = renamed_value(side.fields, names, keys=False)
        messages[mid] = twin
    return MailState(messages, renamed_value(state.watermark, names), renamed_value(state.seen, names),
                     renamed_value(state.reprocessing, names), renamed_value(state.changed, names),
                     renamed_value(state.kinds, names), renamed_value(state.inbox_rules, names))


def renamed_value(value: Any, names: dict[str, str], keys: bool = True) -> Any:
    """`value` with every string that is a key of `names` replaced, in its containers (and, with `keys`, the keys of
    a dict at its top: one keyed by participants; a dict keyed by field names keeps them)."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {(renamed_value(k, names) if keys else k): renamed_value(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(renamed_value(v, names) for v in value)
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return tuple(sorted(value))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _fields(fields: dict[str, Any], omit: frozenset[str]) -> Any:
    return _freeze({n: v for n, v in fields.items() if n not in omit} if omit else fields)


def key(state: MailState, omit: frozenset[str] = frozenset()) -> tuple[Any, ...]:
    """The canonical key of a mail state: every fact a future event or a property may read, and what the prover
    builds terms from: a message's recipients as written and which were removed by their kind (two worlds that
    differ only there were once merged, and the terms of the one kept did not fit the settings of the other).
    `omit`: activity fields left out, that nothing reads (prove/unread.py)."""
    return _key(state.messages, state.watermark, state.seen, state.reprocessing, state.changed, state.kinds,
                state.inbox_rules, omit=omit)


def renamed_key(state: MailState, names: dict[str, str], omit: frozenset[str] = frozenset()) -> tuple[Any, ...]:
    """key(renamed(state, names), omit), without copying the world (the exploration asks it of every world a step
    makes, for every renaming: prove/symmetry.py)."""
    return _key(state.messages, state.watermark, state.seen, state.reprocessing, state.changed, state.kinds,
                state.inbox_rules, omit=omit, names=names)


def observable(state: MailState, omit: frozenset[str] = frozenset()) -> tuple[Any, ...]:
    """key(state, omit) without the prover's bookkeeping: what the world is, the same whether the prover or a
    concrete run reached it (brute force compares these)."""
    return _key(state.messages, state.watermark, state.seen, state.reprocessing, state.changed, state.kinds,
                state.inbox_rules, skip=_OWN + _BOOKKEEPING, omit=omit)


def view(world: World) -> MailState:
    """The world's mail with its messages the world's own, not copies: to read keys from, not to keep while the
    world plays on."""
    found = capture(world, messages=False)
    found.messages = world.messages
    return found


def world_key(world: World, omit: frozenset[str] = frozenset()) -> tuple[Any, ...]:
    """key(capture(world), omit), without copying the world."""
    return key(view(world), omit)


def _key(messages_: dict[str, Message], watermark: dict[str, int], seen: dict[str, int],
         reprocessing: dict[str, list[tuple[str, str]]], changed: dict[tuple[str, str], Any],
         kinds: dict[str, str], inbox_rules: dict[str, list[tuple[str | None, str, str | None]]],
         skip: tuple[str, ...] = _OWN, omit: frozenset[str] = frozenset(),
         names: dict[str, str] | None = None) -> tuple[Any, ...]:
    """The key; with `names`, the key of the world `renamed(state, names)` would make (renamed_key)."""
    rn = _same if names is None else functools.partial(renamed_value, names=names)
    messages = []
    for msg in messages_.values():
        facts = tuple(sorted((n, _freeze(rn(v, keys=n != "shared"))) for n, v in vars(msg).items() if n not in skip))
        copies = tuple(sorted((rn(pid), tuple(rn(getattr(c, s)) for s in Copy.__slots__))
                              for pid, c in msg.copies.items()))
        sides = tuple(sorted((n, s.state, s.was_stored, _fields(rn(s.fields, keys=False), omit))
                             for n, s in msg.sides.items()))
        messages.append((facts, copies, sides))
    return (tuple(messages), _freeze(rn(watermark)), _freeze(rn(seen)), _freeze(rn(reprocessing)),
            _freeze({f"{rn(o)}.{n}": rn(v) for (o, n), v in changed.items()}), _freeze(rn(kinds)),
            _freeze(rn(inbox_rules)))


def _same(value: Any, keys: bool = True) -> Any:
    return value
