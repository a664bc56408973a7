"""Universes and alphabets: claims about every event sequence, not one (DESIGN.md, "Behaviours").

A universe claim names, instead of a fixed list of events, a **universe** (its participants, at most N messages, an
optional fixed prefix of events) and an **alphabet** (the kinds of event that may happen next, each a template whose
parameters may list alternatives), and a **property**:
- `always: P` / `never: P`: in every reachable world (with `when: W`, in every reachable world where W holds; the
  claim is vacuous when no reachable world has W);
- `reachable: P`: some reachable world has P (a witness);
- `conclusion: P`: in every world at the end of a sequence (one no event of the alphabet changes any more).
P is an expression over the messages that exist (`emails`, `any(... for e in emails)`) and their outcomes and facts.

This module reads them into frozen data; simulate/alphabet.py instantiates templates in a world, prove/reach.py
explores. The format is documented in docs/claims.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Loc, TrackproofError
from .ir import Model
from .scenario import EVENTS, Event, check_parameter, parse_event
from .yamlsrc import Mapping, Sequence, check_keys, expect_mapping, expect_sequence, quoted

PROPERTY_KINDS = ("always", "never", "reachable", "conclusion")
#: A message-creating template names a new email (its id is given when it happens: E1, E2, ... in order).
CREATES = ("send", "reply", "forward")
#: Each template kind with the parameters it takes (each may list alternatives; `email` filters the messages acted on).
TEMPLATES: dict[str, set[str]] = {
    "send": {"from", "to", "cc", "bcc", "via", "regarding", "draft", "subject_changed", "long_subject"},
    "reply": {"by", "all", "via", "email", "subject_changed", "in_reply_to_kept", "regarding"},
    "forward": {"by", "to", "cc", "via", "email", "subject_changed", "in_reply_to_kept"},
    "sync": set(),
    "outlook_start": {"user"},
    "outlook_stop": {"user"},
    "track": {"by", "via", "email", "regarding"},
    "untrack": {"by", "email"},
    "categorize": {"by", "email"},
    "uncategorize": {"by", "email"},
    "move": {"by", "to", "email", "regarding"},
    "delete": {"by", "in", "email"},
    "resend": {"email"},
    "reset_processing_date": {"mailbox"},
}
#: Parameters whose value is a list of participants (a list of lists gives alternatives).
LIST_PARAMS = ("to", "cc", "bcc")
#: Parameters that name participants.
PARTY_PARAMS = ("from", "by", "user", "mailbox", "regarding")
MAX_MESSAGES = 6


@dataclass(frozen=True)
class Template:
    """An alphabet entry: an event kind and, per parameter, its alternatives (in the order written)."""

    kind: str
    choices: dict[str, tuple[Any, ...]]
    emails: tuple[str, ...] | None  # the messages it may act on (None: any); reply/forward/track/... only
    excluded: tuple[str, ...]  # messages it may not act on
    loc: Loc


@dataclass(frozen=True)
class Universe:
    messages: int  # at most this many messages exist (the prefix's included)
    prefix: tuple[Event, ...]
    alphabet: tuple[Template, ...]
    loc: Loc


@dataclass(frozen=True)
class Property:
    kind: str  # always | never | reachable | conclusion
    when: Any  # an Expr (BOOL) or None
    loc: Loc


def _alternatives(value: Any, loc: Loc, key: str, participants: dict[str, Any], kind: str) -> tuple[Any, ...]:
    """A parameter's alternatives: a list of values (of lists, for recipient lists), or one value."""
    if key in LIST_PARAMS and kind in ("send", "forward"):
        if isinstance(value, Sequence) and value and all(isinstance(v, Sequence) for v in value):
            lists = list(value)
        else:
            lists = [value if isinstance(value, Sequence) else [value]]
        if any(not isinstance(p, str) for v in lists for p in v):
            raise TrackproofError("E104", f"'{key}' lists participant ids (words), not lists or mappings", loc)
        options = [tuple(v) for v in lists]
        for option in options:
            for pid in option:
                if pid not in participants:
                    raise TrackproofError("E401", f"unknown participant '{pid}' in '{key}'", loc)
        return tuple(options)
    values = list(value) if isinstance(value, Sequence) else [value]
    if not values:
        raise TrackproofError("E104", f"'{key}' needs at least one value", loc)
    event = "send" if kind in CREATES else kind
    for v in values:  # each alternative has the type the event's parameter takes (`all`: true or false)
        if key in EVENTS[event][0]:
            check_parameter(event, key, v, loc, kind)
        elif key == "all" and not isinstance(v, bool):
            raise TrackproofError("E104", f"'all' of the '{kind}' entry must be true or false", loc)
    if key in PARTY_PARAMS:
        for pid in values:
            if not isinstance(pid, str) or pid not in participants:
                raise TrackproofError("E401", f"unknown participant {quoted(pid)} in '{key}'", loc)
    return tuple(values)


def _template(raw: Any, loc: Loc, participants: dict[str, Any]) -> Template:
    if isinstance(raw, str):
        raw = Mapping({raw: None})
        raw.locs, raw.key_locs = {str(next(iter(raw))): loc}, {str(next(iter(raw))): loc}
    spec = expect_mapping(raw, loc, "an alphabet entry")
    if len(spec) != 1:
        raise TrackproofError("E104", "an alphabet entry is one key, such as '- sync' or '- send: {...}'", loc)
    kind = str(next(iter(spec)))
    if kind not in TEMPLATES:
        raise TrackproofError("E106", f"unknown alphabet entry '{kind}'", spec.key_locs[kind],
                              "entries: " + ", ".join(TEMPLATES))
    body = spec[kind]
    body_loc = spec.locs[kind]
    if body is None:
        body = Mapping()
        body.locs, body.key_locs = {}, {}
    if kind in ("outlook_start", "outlook_stop", "reset_processing_date") and not isinstance(body, Mapping):
        body = Mapping({"user" if kind != "reset_processing_date" else "mailbox": body})
        body.locs = {k: body_loc for k in body}
        body.key_locs = dict(body.locs)
    body = expect_mapping(body, body_loc, f"the '{kind}' entry")
    check_keys(body, TEMPLATES[kind], set(), f"the '{kind}' entry")
    choices: dict[str, tuple[Any, ...]] = {}
    emails: tuple[str, ...] | None = None
    excluded: tuple[str, ...] = ()
    for key, value in body.items():
        where = body.locs.get(key, body_loc)
        if key == "email":
            emails, excluded = _email_filter(value, where)
            continue
        choices[str(key)] = _alternatives(value, where, str(key), participants, kind)
    if kind == "send" and "from" not in choices:
        raise TrackproofError("E105", "a 'send' entry needs 'from' (who sends)", body_loc)
    if kind in ("send", "forward") and "to" not in choices and "cc" not in choices and "bcc" not in choices:
        raise TrackproofError("E105", f"a '{kind}' entry needs recipients ('to', 'cc' or 'bcc')", body_loc)
    if kind in ("send", "forward") and all(() in choices.get(k, ((),)) for k in LIST_PARAMS):
        raise TrackproofError("E104", f"a '{kind}' entry with no recipient: some choice of its recipient lists is "
                              "empty in every one of them ('to', 'cc' and 'bcc')", body_loc)
    if kind in ("outlook_start", "outlook_stop") and "user" not in choices:
        raise TrackproofError("E105", f"'{kind}' needs the user whose Outlook starts or stops", body_loc)
    if kind == "reset_processing_date" and "mailbox" not in choices:
        raise TrackproofError("E105", "'reset_processing_date' needs the mailbox", body_loc)
    return Template(kind, choices, emails, excluded, spec.key_locs[kind])


def _email_filter(value: Any, loc: Loc) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """`email: any`, a list of email ids, or `{except: [...]}`."""
    if value == "any":
        return None, ()
    if isinstance(value, Mapping):
        check_keys(value, {"except"}, {"except"}, "an email filter")
        items = value["except"]
        return None, tuple(str(e) for e in (items if isinstance(items, Sequence) else [items]))
    items = value if isinstance(value, Sequence) else [value]
    return tuple(str(e) for e in items), ()


def load_universe(model: Model, spec: Mapping, participants: dict[str, Any]) -> Universe:
    """The `universe:` and `alphabet:` of a claim (its participants already read)."""
    raw = expect_mapping(spec["universe"], spec.locs["universe"], "universe")
    check_keys(raw, {"participants", "messages", "prefix"}, {"participants", "messages"}, "the universe")
    messages = raw["messages"]
    if not isinstance(messages, int) or isinstance(messages, bool) or not 1 <= messages <= MAX_MESSAGES:
        raise TrackproofError("E104", f"'messages' is a whole number from 1 to {MAX_MESSAGES} (how many messages "
                              "may exist)", raw.locs["messages"])
    prefix: tuple[Event, ...] = ()
    if "prefix" in raw:
        items = expect_sequence(raw["prefix"], raw.locs["prefix"], "prefix")
        prefix = tuple(parse_event(e, loc, i + 1) for i, (e, loc) in enumerate(zip(items, items.locs, strict=True)))
    if sum(1 for e in prefix if e.kind == "send") > messages:
        raise TrackproofError("E104", "the prefix sends more messages than the universe allows", raw.locs["messages"])
    if "alphabet" not in spec:
        raise TrackproofError("E105", "a universe claim needs an 'alphabet' (the events that may happen)",
                              spec.locs["universe"])
    items = expect_sequence(spec["alphabet"], spec.locs["alphabet"], "alphabet")
    if not items:
        raise TrackproofError("E104", "the alphabet needs at least one entry", spec.locs["alphabet"])
    alphabet = tuple(_template(raw_t, loc, participants) for raw_t, loc in zip(items, items.locs, strict=True))
    universe = Universe(messages, prefix, alphabet, spec.locs["universe"])
    ids = universe_emails(universe)
    for template in alphabet:
        for name in (*(template.emails or ()), *template.excluded):
            if name not in ids:
                raise TrackproofError("E405", f"unknown email '{name}' in the '{template.kind}' entry: this universe's "
                                      f"messages are {', '.join(ids)}", template.loc)
    return universe


def universe_emails(universe: Universe) -> list[str]:
    """The ids the messages of a universe may have: the prefix's, then E1, E2, ... as they are made."""
    out = [str(e.params["id"]) for e in universe.prefix if e.kind == "send" and "id" in e.params]
    n = 0
    while len(out) < universe.messages:
        n += 1
        if f"E{n}" not in out:
            out.append(f"E{n}")
    return out


def property_key(spec: Mapping) -> str:
    """Which property a universe claim states (exactly one of PROPERTY_KINDS)."""
    given = [k for k in PROPERTY_KINDS if k in spec]
    if len(given) != 1:
        raise TrackproofError("E105", "a universe claim states exactly one of: " + ", ".join(PROPERTY_KINDS),
                              spec.locs.get(given[1], spec.loc) if len(given) > 1 else spec.loc)
    return given[0]
