"""Scenario files: settings that differ from the defaults, participants, a sequence of events, expectations.

This module reads and validates a scenario into frozen data (`Scenario`); simulate/ plays it. Everything a
scenario names is checked here against the model's vocabulary, with the file, line and column of the mistake.
The format is documented in docs/scenarios.md.
"""

from __future__ import annotations

import keyword
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import Loc, TrackproofError
from .expr import BUILTINS
from .ir import Model
from .readings import parse_choices
from .vocab import check_setting_value
from .yamlsrc import (
    Mapping,
    Sequence,
    check_keys,
    expect_mapping,
    expect_sequence,
    expect_text,
    load_file,
    quoted,
    shape_of,
)

EXPECT_FIELDS = ("stored", "status", "direction", "regarding", "accepted_by", "tracked_by", "correlated_to",
                 "parent_activity", "from", "to", "cc", "queue_items", "categorized", "undeliverable")
#: Expected fields that are lists of participants (compared in any order); the other ones take one value.
EXPECT_LISTS = ("to", "cc", "queue_items", "categorized", "undeliverable")
_EMAIL_FIELDS = ("correlated_to", "parent_activity")
#: Each event kind with its allowed and required parameters (an event is a one-key mapping).
EVENTS: dict[str, tuple[set[str], set[str]]] = {
    "send": ({"id", "from", "to", "cc", "bcc", "via", "reply_to", "forward_of", "subject", "subject_changed",
              "token_kept", "in_reply_to_kept", "headers_dropped", "long_subject", "token_over_limit", "create_fails",
              "attachment_over_limit", "irm", "on_behalf_of", "copy_in_shared", "regarding", "draft"}, {"id", "from"}),
    "resend": ({"email"}, {"email"}),
    "sync": (set(), set()),
    "outlook_start": ({"user"}, {"user"}),
    "outlook_stop": ({"user"}, {"user"}),
    "track": ({"email", "by", "via", "regarding", "mailbox"}, {"email", "by"}),
    "untrack": ({"email", "by"}, {"email", "by"}),
    "categorize": ({"email", "by", "mailbox"}, {"email", "by"}),
    "uncategorize": ({"email", "by", "mailbox"}, {"email", "by"}),
    "move": ({"email", "by", "to", "regarding"}, {"email", "by", "to"}),
    "delete": ({"email", "by", "in", "side"}, {"email"}),
    "set": (set(), set()),
    "reset_processing_date": ({"mailbox"}, {"mailbox"}),
    "process_email_from": ({"mailbox"}, {"mailbox"}),
    "inbox_rule": ({"mailbox", "moves_to", "regarding", "from"}, {"mailbox", "moves_to"}),
    "auto_reply": ({"id", "from", "to_email", "headers_dropped"}, {"id", "from", "to_email"}),
    "change_regarding": ({"email", "regarding", "side"}, {"email", "regarding"}),
}
#: The event kinds that create an email, named by their `id` parameter.
CREATES_EMAIL = ("send", "auto_reply")
#: The parameter an event written as `- outlook_start: X` (a bare value) stands for.
SHORT_FORM = {"outlook_start": "user", "outlook_stop": "user", "resend": "email", "reset_processing_date": "mailbox",
              "process_email_from": "mailbox"}
#: The type of each event parameter: text (an id, a participant, a value), true or false, or one participant or a
#: list of them; checked on load, so that the simulator and the prover read parameters without testing them.
FLAGS = ("subject_changed", "in_reply_to_kept", "long_subject", "draft", "token_kept", "headers_dropped",
         "token_over_limit", "create_fails", "attachment_over_limit", "irm", "copy_in_shared")
RECIPIENTS = ("to", "cc", "bcc")


@dataclass(frozen=True)
class Participant:
    id: str
    kind: str
    address: str
    settings: dict[str, Any]
    members: tuple[str, ...]
    loc: Loc
    owner: str | None = None  # the user who owns the record (sender resolution prefers the tracker's own, R120)
    disabled: bool = False  # a disabled user: never matched by an address, and no mailbox (R74, R120)


@dataclass(frozen=True)
class Event:
    number: int  # 1-based position in the scenario
    kind: str
    params: dict[str, Any]
    locs: dict[str, Loc]
    loc: Loc


@dataclass(frozen=True)
class Scenario:
    path: str
    name: str
    description: str
    org: dict[str, Any]
    participants: dict[str, Participant]
    events: tuple[Event, ...]
    expect: dict[str, dict[str, tuple[Any, Loc]]]
    expect_locs: dict[str, Loc]
    readings: dict[str, str] = field(default_factory=dict)  # disputed point -> chosen reading (readings.yaml)


def parse_settings(model: Model, raw: Mapping, groups: tuple[str, ...], what: str) -> dict[str, Any]:
    vocab = model.vocabulary
    out: dict[str, Any] = {}
    for key, value in raw.items():
        attr = next((vocab.groups[g][key] for g in groups if key in vocab.groups[g]), None)
        if attr is None:
            known = sorted(k for g in groups for k in vocab.groups[g])
            raise TrackproofError("E402", f"unknown setting '{key}' for {what}", raw.key_locs[key],
                                  "settings: " + ", ".join(known))
        check_setting_value(attr, value, vocab.enums, raw.locs[key])
        out[key] = value
    return out


#: Names a participant may not take: the other owners of settings, what claims name (emails) and the expression
#: language's own words.
RESERVED = frozenset({"org", "reading", "emails", "None", "True", "False", *BUILTINS})


def parse_participants(model: Model, raw: Mapping) -> dict[str, Participant]:
    out: dict[str, Participant] = {}
    kinds = model.vocabulary.enums["kind"]
    for pid, spec in raw.items():
        if not str(pid).replace("_", "").replace("-", "").isalnum():
            raise TrackproofError("E402", f"participant id '{pid}' must be letters, digits, - or _", raw.key_locs[pid])
        spec = spec if spec is not None else _empty(raw.locs[pid])
        spec = expect_mapping(spec, raw.locs[pid], f"participant '{pid}'")
        if str(pid) in RESERVED or keyword.iskeyword(str(pid)):
            raise TrackproofError("E402", f"'{pid}' is a reserved name: claims and settings could not refer to this "
                                  "participant", raw.key_locs[pid], "reserved: " + ", ".join(sorted(RESERVED)) +
                                  ", and Python's keywords")
        kind = spec.get("kind", "unknown")
        if not isinstance(kind, str) or kind not in kinds:
            raise TrackproofError("E207", f"{quoted(kind)} is not a kind of participant",
                                  spec.locs.get("kind", spec.loc), "kinds: " + ", ".join(kinds))
        rest = Mapping({k: v for k, v in spec.items() if k not in ("kind", "address", "members", "owner", "disabled")})
        rest.locs, rest.key_locs = spec.locs, spec.key_locs
        groups = ("mailbox", "party") if kind in model.vocabulary.mailbox_kinds else ("party",)
        settings = parse_settings(model, rest, groups, f"a {kind} participant")
        members: tuple[str, ...] = ()
        if "members" in spec:
            if kind not in model.vocabulary.kind_roles["expands"]:
                lists = " or ".join(model.vocabulary.kind_roles["expands"])
                raise TrackproofError("E402", f"only a {lists} has members", spec.key_locs["members"])
            listed = expect_sequence(spec["members"], spec.locs["members"], "members")
            if not all(isinstance(m, str) for m in listed):
                raise TrackproofError("E104", "members are participant ids (words), not lists or mappings",
                                      spec.locs["members"])
            members = tuple(listed)
        disabled = spec.get("disabled", False)
        if not isinstance(disabled, bool):
            raise TrackproofError("E402", "'disabled' is true or false", spec.locs["disabled"])
        if disabled and kind != "user":
            raise TrackproofError("E402", "only a user is disabled", spec.key_locs["disabled"])
        owner = expect_text(spec, "owner", f"participant '{pid}'")
        address = expect_text(spec, "address", f"participant '{pid}'")
        address = address if address is not None else f"{str(pid).lower()}@example.com"
        out[str(pid)] = Participant(str(pid), str(kind), address,
                                    settings, members, raw.key_locs[pid], owner, disabled)
    for p in out.values():
        for m in p.members:
            if m not in out:
                raise TrackproofError("E401", f"unknown participant '{m}' in members of '{p.id}'", p.loc)
        if p.owner is not None and (p.owner not in out or out[p.owner].kind != "user"):
            raise TrackproofError("E401", f"the owner of '{p.id}' must be a user participant, not '{p.owner}'", p.loc)
    return out


def _empty(loc: Loc) -> Mapping:
    m = Mapping()
    m.loc, m.locs, m.key_locs, m.origins = loc, {}, {}, {}
    return m


def parse_event(raw: Any, loc: Loc, index: int) -> Event:
    if isinstance(raw, str):
        raw_map = _empty(loc)
        raw_map[raw] = None
        raw_map.locs[raw] = loc
        raw_map.key_locs[raw] = loc
        raw = raw_map
    spec = expect_mapping(raw, loc, "an event")
    if len(spec) != 1:
        raise TrackproofError("E104", "an event is one key, such as '- sync' or '- send: {...}'", loc)
    kind = next(iter(spec))
    if kind not in EVENTS:
        raise TrackproofError("E106", f"unknown event '{kind}'", spec.key_locs[kind], "events: " + ", ".join(EVENTS))
    body = spec[kind]
    body_loc = spec.locs[kind]
    if kind in SHORT_FORM and isinstance(body, str):
        return Event(index, kind, {SHORT_FORM[kind]: body}, {SHORT_FORM[kind]: body_loc}, spec.key_locs[kind])
    body = expect_mapping(body if body is not None else _empty(body_loc), body_loc, f"the '{kind}' event")
    allowed, required = EVENTS[kind]
    if kind != "set":
        check_keys(body, allowed, required, f"the '{kind}' event")
    for key, value in body.items():
        check_parameter(kind, key, value, body.locs[key])
    return Event(index, kind, dict(body), dict(body.locs), spec.key_locs[kind])


def check_parameter(kind: str, key: str, value: Any, loc: Loc, shown: str = "") -> None:
    """Refuse a parameter whose value is not of its type (FLAGS, RECIPIENTS, text for the others; a `set` event's
    values are settings: text, true or false, or empty). `shown`: the entry's name in the message, when it is not
    the event's (a universe's `reply` entry makes `send` events)."""
    if kind == "set":
        ok, expected = value is None or isinstance(value, (str, bool)), "a setting's value"
    elif key in FLAGS:
        ok, expected = isinstance(value, bool), "true or false"
    elif (kind, key) == ("change_regarding", "regarding"):  # null clears Regarding
        ok, expected = value is None or isinstance(value, str), "a participant or empty"
    elif key in RECIPIENTS and kind == "send":
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        expected = "a participant or a list of participants"
    else:
        ok, expected = isinstance(value, str), "text"
    if not ok:
        raise TrackproofError("E104", f"'{key}' of the '{shown or kind}' event must be {expected}, not "
                              f"{shape_of(value)}", loc)


def _expectations(model: Model, raw_expect: Mapping, participants: dict[str, Participant],
                  events: tuple[Event, ...]) -> tuple[dict[str, dict[str, tuple[Any, Loc]]], dict[str, Loc]]:
    """The `expect:` of a scenario: each email's expected outcome fields, each value of its field's type (E407)."""
    statuses = sorted({s.status for s in model.states.values() if s.status})
    directions = sorted({s.direction for s in model.states.values() if s.direction})
    emails = set(email_ids(events))
    expect: dict[str, dict[str, tuple[Any, Loc]]] = {}
    expect_locs: dict[str, Loc] = {}
    for eid, fields in raw_expect.items():
        if eid.split(".", 1)[0] not in emails:
            raise TrackproofError("E405", f"unknown email '{eid}' in expect: no event creates an email with that id",
                                  raw_expect.key_locs[eid], "emails: " + ", ".join(sorted(emails)))
        fields = expect_mapping(fields, raw_expect.locs[eid], f"the expectation for '{eid}'")
        for key, value in fields.items():
            if key not in EXPECT_FIELDS:
                raise TrackproofError("E406", f"'{key}' is not an outcome field", fields.key_locs[key],
                                      "fields: " + ", ".join(EXPECT_FIELDS))
            allowed = {"stored": "true or false", "status": "empty or one of " + ", ".join(statuses),
                       "direction": "empty or one of " + ", ".join(directions)}.get(
                key, "empty or an email id" if key in _EMAIL_FIELDS else
                "a list of participants" if key in EXPECT_LISTS else "empty or a participant")
            ok = {"stored": isinstance(value, bool), "status": value is None or value in statuses,
                  "direction": value is None or value in directions}.get(
                      key, (value is None or isinstance(value, str)) if key in _EMAIL_FIELDS else
                      (isinstance(value, list) and all(isinstance(v, str) and v in participants for v in value))
                      if key in EXPECT_LISTS else value is None or (isinstance(value, str) and value in participants))
            if not ok:
                raise TrackproofError("E407", f"'{key}' cannot be {value!r}: it is {allowed}", fields.locs[key])
        expect[str(eid)] = {k: (tuple(sorted(v)) if k in EXPECT_LISTS else v, fields.locs[k])
                            for k, v in fields.items()}
        expect_locs[str(eid)] = raw_expect.key_locs[eid]
    return expect, expect_locs


def load_scenario(path: str | os.PathLike[str], model: Model) -> Scenario:
    """Read and validate a scenario file."""
    name = os.fspath(path)
    doc = expect_mapping(load_file(path), Loc(name, 1, 1), "a scenario")
    check_keys(doc, {"name", "description", "settings", "readings", "participants", "events", "expect"},
               {"participants", "events"}, "a scenario")
    org: dict[str, Any] = {}
    if "settings" in doc:
        settings = expect_mapping(doc["settings"], doc.locs["settings"], "settings")
        check_keys(settings, {"org"}, set(), "settings")
        if "org" in settings:
            raw_org = expect_mapping(settings["org"], settings.locs["org"], "org settings")
            org = parse_settings(model, raw_org, ("org",), "the organisation")
    raw_participants = expect_mapping(doc["participants"], doc.locs["participants"], "participants")
    participants = parse_participants(model, raw_participants)
    seq: Sequence = expect_sequence(doc["events"], doc.locs["events"], "events")
    events = tuple(parse_event(raw, loc, i + 1) for i, (raw, loc) in enumerate(zip(seq, seq.locs, strict=True)))
    expect: dict[str, dict[str, tuple[Any, Loc]]] = {}
    expect_locs: dict[str, Loc] = {}
    if "expect" in doc and doc["expect"] is not None:
        raw_expect = expect_mapping(doc["expect"], doc.locs["expect"], "expect")
        expect, expect_locs = _expectations(model, raw_expect, participants, events)
    readings = parse_choices(model.readings, doc["readings"], doc.locs["readings"], "readings") \
        if "readings" in doc else {}
    title = expect_text(doc, "name", "a scenario") or os.path.splitext(os.path.basename(name))[0]
    return Scenario(name, title, " ".join((expect_text(doc, "description", "a scenario") or "").split()),
                    org, participants, events, expect, expect_locs, readings)


def email_ids(events: tuple[Event, ...]) -> list[str]:
    """The emails a sequence of events creates, in order (claims' conclusions and watched expressions name them)."""
    return [str(e.params["id"]) for e in events if e.kind in CREATES_EMAIL and "id" in e.params]
