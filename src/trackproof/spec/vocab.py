"""Load model/vocabulary.yaml into an `ir.Vocabulary`: the types, settings, facts and names of the model.

Only the shape and the defaults are checked here; the expressions that use the vocabulary are checked by expr.py.
"""

from __future__ import annotations

from typing import Any

from ..errors import Loc, TrackproofError
from .ir import Attribute, Vocabulary
from .yamlsrc import Mapping, check_keys, expect_mapping, expect_sequence

BASE_TYPES = ("bool", "party", "email", "set[party]")
GROUPS = ("org", "mailbox", "party", "copy", "email", "event")
#: Which object type each group's attributes belong to.
OWNER = {"org": "org", "mailbox": "party", "party": "party", "copy": "party", "email": "email", "event": "event"}
_ATTR_KEYS = {"type", "default", "rules", "label", "default_confidence", "default_for_queue", "users_only", "field",
              "shared", "queue_default_confidence"}


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


def _attribute(name: str, raw: Any, group: str, enums: dict[str, tuple[str, ...]], loc: Loc) -> Attribute:
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
    return Attribute(
        name=name, type=typ, group=group, loc=loc, default=default, label=str(spec.get("label", "")),
        rules=tuple(spec.get("rules", ())), default_confidence=conf, queue_default_confidence=queue_conf,
        default_for_queue=spec.get("default_for_queue"), users_only=bool(spec.get("users_only", False)),
        field=bool(spec.get("field", False)), shared=bool(spec.get("shared", False)),
    )


def load_vocabulary(doc: Mapping) -> Vocabulary:
    """Build the vocabulary from the parsed vocabulary.yaml (constraints are added by the loader)."""
    check_keys(doc, {"types", *GROUPS, "scope", "resolution", "constraints", "triggers", "actions", "kind_roles"},
               {"types", *GROUPS, "scope", "triggers", "actions", "kind_roles"}, "the vocabulary")
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
            attr = _attribute(name, spec, group, enums, raw.locs[name])
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
