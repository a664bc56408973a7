"""Load model/vocabulary.yaml into an `ir.Vocabulary`: the types, settings, facts and names of the model.

Only the shape and the defaults are checked here; the expressions that use the vocabulary are checked by expr.py.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ..errors import Loc, TrackproofError
from .ir import Attribute, Vocabulary
from .yamlsrc import Mapping, check_keys, expect_mapping, expect_sequence

BASE_TYPES = ("bool", "party", "email", "set[party]")
GROUPS = ("org", "mailbox", "party", "copy", "email", "event")
#: Which object type each group's attributes belong to.
OWNER = {"org": "org", "mailbox": "party", "party": "party", "copy": "party", "email": "email", "event": "event"}
_ATTR_KEYS = {"type", "default", "rules", "label", "default_confidence", "default_for_queue", "users_only", "field",
              "shared", "queue_default_confidence", "where"}


def _check_value(value: Any, typ: str, enums: dict[str, tuple[str, ...]], loc: Loc, what: str) -> None:
    if typ == "bool":
        ok = isinstance(value, bool)
    elif typ in enums:
        ok = isinstance(value, str) and value in enums[typ]
    else:
        ok = value is None or isinstance(value, str)
    if not ok:
        expected = "true or false" if typ == "bool" else "one of " + ", ".join(enums.get(typ, ()))
        raise TrackproofError("E402", f"{what}: {value!r} is not a valid {typ} ({expected})", loc)


def check_setting_value(attr: Attribute, value: Any, enums: dict[str, tuple[str, ...]], loc: Loc) -> None:
    """Refuse a setting value that is not of the setting's type (shared with scenario loading)."""
    _check_value(value, attr.type, enums, loc, f"setting '{attr.name}'")


def _where(spec: Mapping, name: str, sources: Collection[str] | None) -> tuple[str, tuple[str, ...]]:
    """Where a setting is found, and the documents that say so (each a known source key)."""
    if "where" not in spec:
        return "", ()
    where = expect_mapping(spec["where"], spec.locs["where"], f"where of '{name}'")
    check_keys(where, {"text", "sources"}, {"text", "sources"}, f"where of '{name}'")
    keys = expect_sequence(where["sources"], where.locs["sources"], f"the sources of where of '{name}'")
    if not keys:
        raise TrackproofError("E301", f"where of '{name}' has no source", where.locs["sources"])
    for key, at in zip(keys, keys.locs, strict=True):
        if sources is not None and key not in sources:
            raise TrackproofError("E302", f"unknown source key '{key}'", at, "keys are listed in model/sources.yaml")
    return str(where["text"]), tuple(str(k) for k in keys)


def _value_labels(doc: Mapping, enums: dict[str, tuple[str, ...]]) -> dict[str, dict[str, str]]:
    """value_labels: {type: {rules: [...], labels: {value: name}}}: how Dynamics 365's pages name the values."""
    if "value_labels" not in doc:
        return {}
    raw = expect_mapping(doc["value_labels"], doc.locs["value_labels"], "value_labels")
    out: dict[str, dict[str, str]] = {}
    for typ, spec in raw.items():
        if typ not in enums:
            raise TrackproofError("E203", f"value_labels of unknown type '{typ}'", raw.key_locs[typ],
                                  "types: " + ", ".join(enums))
        entry = expect_mapping(spec, raw.locs[typ], f"value_labels of '{typ}'")
        check_keys(entry, {"rules", "labels"}, {"rules", "labels"}, f"value_labels of '{typ}'")
        labels = expect_mapping(entry["labels"], entry.locs["labels"], f"the labels of '{typ}'")
        for value in labels:
            if value not in enums[typ]:
                raise TrackproofError("E207", f"'{value}' is not a value of {typ}", labels.key_locs[value])
        out[str(typ)] = {str(v): str(label) for v, label in labels.items()}
    return out


def _attribute(name: str, raw: Any, group: str, enums: dict[str, tuple[str, ...]], loc: Loc,
               sources: Collection[str] | None = None) -> Attribute:
    spec = expect_mapping(raw, loc, f"the {group} attribute '{name}'")
    check_keys(spec, _ATTR_KEYS, {"type"}, f"the {group} attribute '{name}'")
    typ = spec["type"]
    if typ not in enums and typ not in BASE_TYPES:
        raise TrackproofError("E203", f"unknown type '{typ}'", spec.locs["type"],
                              "types: " + ", ".join([*BASE_TYPES, *enums]))
    default = spec.get("default")
    if group in ("org", "mailbox", "party"):
        if "default" not in spec and group != "party":
            raise TrackproofError("E105", f"setting '{name}' needs its documented default", spec.loc)
        if "default" in spec:
            _check_value(default, typ, enums, spec.locs["default"], f"default of '{name}'")
    if "default_for_queue" in spec:
        _check_value(spec["default_for_queue"], typ, enums, spec.locs["default_for_queue"],
                     f"queue default of '{name}'")
    conf = spec.get("default_confidence", "H")
    queue_conf = spec.get("queue_default_confidence", conf)
    for key, level in (("default_confidence", conf), ("queue_default_confidence", queue_conf)):
        if level not in ("H", "M", "L"):
            raise TrackproofError("E402", f"{key} is H, M or L", spec.locs[key])
    where, where_sources = _where(spec, name, sources)
    return Attribute(
        name=name, type=typ, group=group, loc=loc, default=default, label=str(spec.get("label", "")),
        rules=tuple(spec.get("rules", ())), default_confidence=conf, queue_default_confidence=queue_conf,
        default_for_queue=spec.get("default_for_queue"), users_only=bool(spec.get("users_only", False)),
        field=bool(spec.get("field", False)), shared=bool(spec.get("shared", False)), where=where,
        where_sources=where_sources,
    )


def load_vocabulary(doc: Mapping, sources: Collection[str] | None = None) -> Vocabulary:
    """Build the vocabulary from the parsed vocabulary.yaml (constraints are added by the loader). `sources`: the
    known document keys, which a setting's `where` must cite."""
    check_keys(doc, {"types", *GROUPS, "scope", "resolution", "constraints", "triggers", "actions", "kind_roles",
                     "value_labels"}, {"types", *GROUPS, "scope", "triggers", "actions", "kind_roles"},
               "the vocabulary")
    raw_types = expect_mapping(doc["types"], doc.locs["types"], "types")
    enums: dict[str, tuple[str, ...]] = {}
    for name, values in raw_types.items():
        seq = expect_sequence(values, raw_types.locs[name], f"type '{name}'")
        enums[name] = tuple(str(v) for v in seq)
    groups: dict[str, dict[str, Attribute]] = {}
    attributes: dict[str, dict[str, Attribute]] = {"org": {}, "email": {}, "party": {}, "event": {}}
    for group in GROUPS:
        raw = expect_mapping(doc[group], doc.locs[group], group)
        groups[group] = {}
        for name, spec in raw.items():
            attr = _attribute(name, spec, group, enums, raw.locs[name], sources)
            owner = attributes[OWNER[group]]
            if name in owner:
                raise TrackproofError("E307", f"'{name}' is declared twice for {OWNER[group]}", raw.key_locs[name])
            owner[name] = attr
            groups[group][name] = attr
    scope_raw = expect_mapping(doc["scope"], doc.locs["scope"], "scope")
    scope = {str(k): str(v) for k, v in scope_raw.items()}
    for name, typ in scope.items():
        if typ not in attributes:
            raise TrackproofError("E203", f"scope name '{name}' has unknown type '{typ}'", scope_raw.locs[name])
    resolution = expect_mapping(doc.get("resolution", Mapping()), doc.locs.get("resolution", doc.loc), "resolution")
    order = tuple(str(k) for k in resolution.get("sender_order", ()))
    for kind in order:
        if kind not in enums.get("kind", ()):
            raise TrackproofError("E207", f"'{kind}' is not a value of kind", resolution.locs["sender_order"])
    roles = _kind_roles(doc, enums.get("kind", ()))
    triggers = expect_mapping(doc["triggers"], doc.locs["triggers"], "triggers")
    actions = expect_mapping(doc["actions"], doc.locs["actions"], "actions")
    return Vocabulary(
        enums=enums, attributes=attributes, groups=groups, scope=scope,
        triggers={str(k): str(v) for k, v in triggers.items()},
        actions={str(k): str(v) for k, v in actions.items()},
        sender_order=order, resolution_rules=tuple(resolution.get("rules", ())), kind_roles=roles,
        value_labels=_value_labels(doc, enums),
    )


#: The roles the mail mechanics give kinds of participant (vocabulary.yaml, `kind_roles`).
KIND_ROLES = ("mailbox", "unresolved", "expands")


def _kind_roles(doc: Mapping, kinds: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    raw = expect_mapping(doc["kind_roles"], doc.locs["kind_roles"], "kind_roles")
    check_keys(raw, set(KIND_ROLES), set(KIND_ROLES), "kind_roles")
    out: dict[str, tuple[str, ...]] = {}
    for role in KIND_ROLES:
        values = expect_sequence(raw[role], raw.locs[role], f"kind_roles.{role}")
        for value, loc in zip(values, values.locs, strict=True):
            if value not in kinds:
                raise TrackproofError("E207", f"'{value}' is not a value of kind", loc)
        out[role] = tuple(str(v) for v in values)
    return out
