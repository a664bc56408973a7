"""JSON Schemas (draft-07, what YAML language servers read) of the files people write: scenarios, claim files and
settings files, generated from the vocabulary, so that an editor completes setting names and their values and
flags a misspelt one as it is typed (`# yaml-language-server: $schema=...` at the top of a file).

What they are not: the check. The loaders (scenario.py, claims.py, settings.py) stay the authority and give the
`file:line:col: error[CODE]` messages; a schema can say less than they do (an event's participants exist, an
expression parses), never more: every file the loaders accept is valid against its schema (tested on every
shipped file). Why generated: a setting added to model/vocabulary.yaml reaches the editor without a second list.
"""

from __future__ import annotations

from typing import Any

from .ir import Attribute, Model
from .scenario import EVENTS, EXPECT_FIELDS, EXPECT_LISTS, SHORT_FORM
from .universe import MAX_MESSAGES, PROPERTY_KINDS, TEMPLATES

DRAFT = "http://json-schema.org/draft-07/schema#"
KINDS = ("scenario", "claims", "settings")
NAMES = {"scenario": "scenario.schema.json", "claims": "claims.schema.json", "settings": "settings.schema.json"}
_ID_PATTERN = "^[A-Za-z0-9_-]+$"
_PEOPLE = {"type": "string", "description": "a participant id"}
_PEOPLE_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                "description": "a participant id, or a list of them"}
_EMAIL = {"type": "string", "description": "an email id (the `id` of a `send`)"}
_FLAG = {"type": "boolean"}


def _value(model: Model, attr: Attribute) -> dict[str, Any]:
    """The schema of a setting's value, described as Dynamics 365 names it and says where it is."""
    vocab = model.vocabulary
    if attr.type == "bool":
        out: dict[str, Any] = {"type": "boolean"}
    elif attr.type in vocab.enums:
        out = {"type": "string", "enum": list(vocab.enums[attr.type])}
    else:
        out = {"type": "string"}
    parts = [f"“{attr.label}”" if attr.label else attr.name]
    if attr.where:
        parts.append(f"Where: {attr.where}.")
    if attr.default is not None and attr.group != "party":
        default = str(attr.default).lower() if isinstance(attr.default, bool) else attr.default
        parts.append(f"Default: {default}" + (f" ({attr.default_confidence})" if attr.default_confidence != "H"
                                               else "") + ".")
    labels = vocab.value_labels.get(attr.type)
    if labels:
        parts.append("Values: " + "; ".join(f"{v} = {labels[v]}" for v in vocab.enums[attr.type] if v in labels)
                     + ".")
    out["description"] = " ".join(parts)
    if attr.rules:
        out["$comment"] = "RULES.md: " + ", ".join(attr.rules)
    return out


def _settings(model: Model, groups: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    return {name: _value(model, attr) for g in groups for name, attr in model.vocabulary.groups[g].items()}


def _participant(model: Model, kind_list: bool) -> dict[str, Any]:
    kinds = list(model.vocabulary.enums["kind"])
    kind: dict[str, Any] = {"type": "string", "enum": kinds, "description": "what the address resolves to"}
    if kind_list:
        kind = {"oneOf": [kind, {"type": "array", "items": kind, "minItems": 1}],
                "description": "what the address resolves to, or a list of kinds for it to range over"}
    party = _settings(model, ("party",))
    party.pop("kind", None)
    mailbox = _settings(model, ("mailbox",))
    common = {"kind": kind, "address": {"type": "string", "description": "its email address"},
              "members": {"type": "array", "items": {"type": "string"},
                          "description": "a distribution list's members (participant ids)"},
              "owner": {"type": "string", "description": "the user participant who owns the record (R120)"},
              "disabled": {"type": "boolean", "description": "a disabled user: no address matches it (R74)"}}
    mailbox_kinds = list(model.vocabulary.mailbox_kinds)
    not_mailbox = {"not": {"required": ["kind"], "properties": {"kind": {"enum": mailbox_kinds}}}}
    if kind_list:
        not_mailbox = {"not": {"required": ["kind"], "properties": {"kind": {"anyOf": [
            {"enum": mailbox_kinds}, {"type": "array", "contains": {"enum": mailbox_kinds}}]}}}}
    return {"oneOf": [{"type": "null"}, {
        "type": "object", "properties": {**common, **mailbox, **party}, "additionalProperties": False,
        "if": not_mailbox, "then": {"propertyNames": {"enum": [*common, *party]}},
        "description": "a participant: its kind, and the settings it has (a user or queue: its mailbox's too)"}]}


def _event_body(model: Model, kind: str) -> dict[str, Any]:
    enums = model.vocabulary.enums
    known: dict[str, dict[str, Any]] = {
        "id": {"type": "string", "description": "the new email's id (E1, E2, ...)"}, "from": _PEOPLE,
        "to": _PEOPLE_LIST, "cc": _PEOPLE_LIST, "bcc": _PEOPLE_LIST, "by": _PEOPLE, "user": _PEOPLE,
        "mailbox": _PEOPLE, "regarding": {"type": "string", "description": "a participant (the record to link)"},
        "reply_to": _EMAIL, "forward_of": _EMAIL, "email": _EMAIL, "subject_changed": _FLAG,
        "in_reply_to_kept": _FLAG, "long_subject": _FLAG, "draft": _FLAG, "token_kept": _FLAG,
        "headers_dropped": _FLAG, "token_over_limit": _FLAG, "create_fails": _FLAG, "attachment_over_limit": _FLAG,
        "irm": _FLAG, "copy_in_shared": _FLAG, "on_behalf_of": _PEOPLE, "to_email": _EMAIL,
        "subject": {"type": "string", "description": "the email's subject (smart matching compares subjects)"},
        "side": {"type": "string", "enum": list(enums["side"])},
        "in": {"type": "string", "enum": ["outlook", "crm"]},
        "to_folder": {"type": "string", "enum": list(enums["folder"])},
    }
    allowed, required = EVENTS[kind]
    via = list(enums["origin"]) if kind == "send" else list(enums["via"])
    props = {p: ({"type": "string", "enum": via} if p == "via" else
                 known["to_folder"] if (kind, p) in (("move", "to"), ("inbox_rule", "moves_to")) else known[p])
             for p in sorted(allowed)}
    body: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        body["required"] = sorted(required)
    if kind == "set":
        body = {"type": "object", "description": "settings that change now: org.<setting> or <participant>.<setting>",
                "propertyNames": {"pattern": r"^[A-Za-z0-9_-]+\.[a-z_]+$"}}
    if kind in SHORT_FORM:
        body = {"oneOf": [{"type": "string", "description": f"the {SHORT_FORM[kind]}"}, body]}
    if not required:
        body = {"oneOf": [{"type": "null"}, body]}
    return body


def _events(model: Model) -> dict[str, Any]:
    bare = sorted(k for k, (_, required) in EVENTS.items() if not required)
    return {"type": "array", "description": "what happens, in order; each event is one key", "items": {"oneOf": [
        {"type": "string", "enum": bare},
        {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
         "properties": {k: _event_body(model, k) for k in EVENTS}}]}}


def _expect() -> dict[str, Any]:
    nullable = {"type": ["string", "null"]}
    listed = {"type": "array", "items": {"type": "string"}}
    fields = {f: ({"type": "boolean"} if f == "stored" else listed if f in EXPECT_LISTS else nullable)
              for f in EXPECT_FIELDS}
    return {"type": "object", "description": "the outcome expected for each email (E1, E1.incoming, ...)",
            "additionalProperties": {"type": "object", "properties": fields, "additionalProperties": False}}


def _readings(model: Model) -> dict[str, Any]:
    """The disputed points (model/readings.yaml) and, for each, the readings one can choose."""
    props = {point: {"type": "string", "enum": list(r.choices), "description": f"{r.question} Default: {r.default}."}
             for point, r in model.readings.items()}
    return {"type": "object", "properties": props, "additionalProperties": False,
            "description": "the reading chosen for a point the documentation leaves open (docs/readings.md)"}


def _org(model: Model) -> dict[str, Any]:
    return {"oneOf": [{"type": "null"}, {"type": "object", "properties": _settings(model, ("org",)),
                                         "additionalProperties": False}]}


def _scenario(model: Model) -> dict[str, Any]:
    return {"type": "object", "required": ["participants", "events"], "additionalProperties": False, "properties": {
        "name": {"type": "string"}, "description": {"type": "string"},
        "settings": {"type": "object", "properties": {"org": _org(model)}, "additionalProperties": False},
        "readings": _readings(model),
        "participants": {"type": "object", "propertyNames": {"pattern": _ID_PATTERN},
                         "additionalProperties": _participant(model, False)},
        "events": _events(model), "expect": _expect()}}


def _scope(model: Model) -> dict[str, Any]:
    vocab = model.vocabulary
    fixed = {f"^org\\.{n}$": _value(model, a) for n, a in vocab.groups["org"].items()}
    for g in ("mailbox", "party"):
        fixed.update({f"^[A-Za-z0-9_-]+\\.{n}$": _value(model, a) for n, a in vocab.groups[g].items() if n != "kind"})
    names = "|".join(sorted({n for g in ("mailbox", "party") for n in vocab.groups[g]}))
    free = {"type": "string", "pattern": f"^(org\\.({'|'.join(vocab.groups['org'])})|[A-Za-z0-9_-]+\\.({names}))$"}
    return {"type": "object", "additionalProperties": False, "properties": {
        "fixed": {"oneOf": [{"type": "null"}, {"type": "object", "patternProperties": fixed,
                                               "additionalProperties": False}],
                  "description": "settings held at one value: org.<setting> or <participant>.<setting>"},
        "free": {"type": "array", "items": free, "description": "the only settings that range (default: all)"},
        "readings": _readings(model)}}


def _alphabet() -> dict[str, Any]:
    """A universe's alphabet: event templates, each parameter one value or a list of alternatives (the loader
    checks each alternative's type)."""
    one = {"type": ["string", "boolean", "array", "object"]}
    short = ("outlook_start", "outlook_stop", "reset_processing_date")  # `- outlook_start: X`
    bare = sorted(k for k in TEMPLATES if k not in ("send", "forward", *short))
    return {"type": "array", "minItems": 1, "description": "the events that may happen next, in any order",
            "items": {"oneOf": [
                {"type": "string", "enum": bare},
                {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
                 "properties": {k: {"oneOf": [{"type": "null"}, {"type": "string"} if k in short else {"not": {}}, {
                     "type": "object", "additionalProperties": False,
                     "properties": {p: one for p in sorted(params)}}]} for k, params in TEMPLATES.items()}}]}}


def _claims(model: Model) -> dict[str, Any]:
    participants = {"type": "object", "propertyNames": {"pattern": _ID_PATTERN},
                    "additionalProperties": _participant(model, True)}
    common = {"id": {"type": "string"}, "text": {"type": "string", "description": "the belief, verbatim"},
              "reading": {"type": "string"}, "scope": _scope(model),
              "assume": {"type": "string", "description": "an expression over settings restricting the scope"}}
    claim = {"type": "object", "required": ["id", "text", "participants", "events", "conclusion"],
             "additionalProperties": False, "properties": {
                 **common, "participants": participants, "events": _events(model),
                 "conclusion": {"type": "string", "description": "an expression over the emails' outcomes"}}}
    properties = {k: {"type": "string", "description": f"the property ({k}), over the messages that exist"}
                  for k in PROPERTY_KINDS}
    universe = {"type": "object", "required": ["id", "text", "universe", "alphabet"],
                "additionalProperties": False,
                "oneOf": [{"required": [k]} for k in PROPERTY_KINDS],
                "properties": {
                    **common, **properties,
                    "universe": {"type": "object", "required": ["participants", "messages"],
                                 "additionalProperties": False, "properties": {
                                     "participants": participants,
                                     "messages": {"type": "integer", "minimum": 1, "maximum": MAX_MESSAGES},
                                     "prefix": _events(model)}},
                    "alphabet": _alphabet(),
                    "when": {"type": "string", "description": "a guard: always/never are checked where it holds"}}}
    return {"type": "object", "required": ["claims"], "additionalProperties": False, "properties": {
        "title": {"type": "string"}, "description": {"type": "string"},
        "claims": {"type": "array", "minItems": 1, "items": {"oneOf": [claim, universe]}}}}


def _settings_file(model: Model) -> dict[str, Any]:
    scenario = _scenario(model)
    return {"type": "object", "required": ["settings"], "additionalProperties": False,
            "properties": {**scenario["properties"],
                           "settings": {"type": "object", "properties": {"org": _org(model)},
                                        "additionalProperties": False}}}


def schema(model: Model, kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of file: scenario, claims or settings."""
    body = {"scenario": _scenario, "claims": _claims, "settings": _settings_file}[kind](model)
    titles = {"scenario": "trackproof scenario file (trackproof run)", "claims": "trackproof claim file (trackproof "
              "check)", "settings": "trackproof settings file (trackproof diff, diagrams --compare)"}
    return {"$schema": DRAFT, "$id": NAMES[kind], "title": titles[kind],
            "description": "Generated from model/vocabulary.yaml by `trackproof schema`; the loader is the "
                           "authority (docs/scenarios.md, docs/claims.md).", **body}
