"""The shape of every model file, checked before the loader reads any of its values.

model_schema.yaml (beside this module) says, in JSON Schema, what each kind of model file holds: the type of every
value, the keys a mapping needs and the only keys it may have. `load_document` reads a file (yamlsrc) and checks
it with the `jsonschema` package, so that the loader, which then reads values without testing their types, never
meets a list where it expects text (`trigger: []`), a number where it expects a mapping (`states: 7`) or an empty
file: each such file gets one error, the first in the file, at the line and column of the value:
E104 (a value of the wrong type, or empty where something is needed), E105 (a missing key), E106 (an unknown key).

What this module is not: the meaning of values (a known state, a source key, a well-typed guard) is checked by the
loader, which has the vocabulary. It is used on a fresh load only: a model from the cache (cache.py) was checked
when it was stored, so `jsonschema` is imported only then.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from ..errors import Loc, TrackproofError
from ..inputs import read_text
from .yamlsrc import Mapping, Sequence, load_text

KINDS = ("vocabulary", "lifecycle", "definitions", "machine", "sources", "rulebook", "readings")
_TYPES = {"object": "a mapping", "array": "a list", "string": "text", "boolean": "true or false",
          "integer": "a whole number", "number": "a number", "null": "empty"}


@functools.cache
def _schema() -> dict[str, Any]:
    import yaml

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_schema.yaml"), encoding="utf-8") as f:
        loaded: dict[str, Any] = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


@functools.cache
def _validator(kind: str) -> Any:
    import jsonschema

    root = _schema()
    return jsonschema.Draft202012Validator({"$schema": root["$schema"], "$defs": root["$defs"],
                                            "$ref": f"#/$defs/{kind}"})


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "empty"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else "text"


def _expected(types: Any) -> str:
    names = [_TYPES.get(str(t), str(t)) for t in (types if isinstance(types, list) else [types])]
    return " or ".join(names)


def _where(doc: Any, steps: list[Any], path: str) -> tuple[str, Loc]:
    """The name of the value at `steps` inside `doc` (for messages) and where it starts."""
    parent, loc, name = doc, getattr(doc, "loc", Loc(path, 1, 1)), "the file"
    for step in steps:
        if isinstance(parent, Mapping) and isinstance(step, str):
            loc, name = parent.locs.get(step, loc), f"'{step}'"
        elif isinstance(parent, Sequence) and isinstance(step, int):
            loc, name = parent.locs[step], f"item {step + 1} of {name}"
        parent = parent[step]
    return name, loc


def _title(error: Any, name: str) -> str:
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    return str(title) if title else name


def _describe(error: Any, doc: Any, path: str) -> TrackproofError:
    """One jsonschema error as trackproof's error, at the value it is about."""
    name, loc = _where(doc, list(error.absolute_path), path)
    instance = error.instance
    if error.validator == "type":
        return TrackproofError("E104", f"{name} must be {_expected(error.validator_value)}, not "
                               f"{_type_name(instance)}", loc)
    if error.validator == "required" and isinstance(instance, Mapping):
        missing = next(k for k in error.validator_value if k not in instance)
        return TrackproofError("E105", f"{_title(error, name)} needs the key '{missing}'", instance.loc)
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = error.schema.get("properties", {})
        extra = min((k for k in instance if k not in allowed),
                    key=lambda k: (instance.key_locs[k].line, instance.key_locs[k].col))
        return TrackproofError("E106", f"unknown key '{extra}' in {_title(error, name)}", instance.key_locs[extra],
                               "allowed keys: " + ", ".join(sorted(allowed)))
    if error.validator == "pattern":
        return TrackproofError("E104", f"{name} must be a word of letters, digits, '.', '-' or '_'", loc)
    if error.validator in ("minItems", "minProperties"):
        return TrackproofError("E104", f"{name} must not be empty", loc)
    return TrackproofError("E104", f"{name}: {error.message}", loc)  # pragma: no cover - the schema uses no other


def check(doc: Any, kind: str, path: str) -> None:
    """Refuse `doc` (the parsed model file `path` of `kind`, one of KINDS) unless it has the shape
    model_schema.yaml gives: the first error in the file is raised."""
    found = list(_validator(kind).iter_errors(doc))
    unknown = {id(e.instance) for e in found if e.validator == "additionalProperties"}
    # a mapping with an unknown key and a missing one: the unknown key is the news (a misspelt key, most likely)
    errors = [_describe(e, doc, path) for e in found if not (e.validator == "required" and id(e.instance) in unknown)]
    if errors:
        raise min(errors, key=lambda err: (err.loc.line, err.loc.col, err.code))


def load_document(path: str | os.PathLike[str], kind: str) -> Mapping:
    """A model file of `kind`, read and checked (`check`)."""
    name = os.fspath(path)
    doc = load_text(read_text(name), name)
    check(doc, kind, name)
    assert isinstance(doc, Mapping)  # every kind of model file is a mapping (the schema says so)
    return doc
