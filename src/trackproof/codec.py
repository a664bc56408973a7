"""Values as JSON text that cannot run code when read back: the format of the caches (cache.py).

A cache entry may come from anywhere the cache folder does (a shared folder, a CI cache restored from elsewhere), so
reading one must never do more than build data: pickle, which calls whatever an entry names, is not used. An entry
is two lines: a table of the classes it uses (module, name, field names), then the value, where
- None, booleans, whole numbers, numbers and text are themselves, lists JSON arrays;
- tuples, dicts (keys of any type here), sets and frozensets are one-key objects {"t": [...]}, {"d": [[key, value],
  ...]}, {"s": [...]}, {"f": [...]};
- records are {"r": [class, field values...]}: NamedTuples, dataclasses and classes with __slots__ of trackproof's
  own modules, found by introspection and rebuilt from their fields by name; enums {"e": [class, member name]};
  trackproof's subclasses of list and dict (yamlsrc's, which keep where each item was read) {"x": [class, items,
  attributes]}; `class` is a place in the table;
- a value that is one object in several places (a transition in several machines, a counterexample that is also one
  of a verdict's runs) is written once with a slot number (its tag in capitals, the slot first: {"T": [3, ...]}) and
  then as {"@": 3}, and read back as one object again, as pickle would.
Reading accepts a class only if its module is already imported (nothing is imported on an entry's say), is
trackproof's, defines it, and the class is one of those kinds with the fields recorded. Anything else raises, on
writing, `Unencodable`, and on reading, `Malformed`; the cache treats both as no entry, never as an error.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from collections.abc import Callable
from typing import Any

FORMAT = "trackproof-cache 1"
_PACKAGE = "trackproof"


class Unencodable(TypeError):
    """A value outside what the format holds (a Z3 object, a function, a class of another package)."""


class Malformed(ValueError):
    """An entry that is not one this module wrote for the classes loaded now."""


def _ours(cls: type) -> bool:
    return cls.__module__ == _PACKAGE or cls.__module__.startswith(_PACKAGE + ".")


def _fields(cls: type) -> tuple[str, ...] | None:
    """The field names of a record class of trackproof (a NamedTuple, a dataclass, or a class with __slots__), or
    None if it is none."""
    if not _ours(cls) or issubclass(cls, (list, dict, enum.Enum)):
        return None
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return tuple(cls._fields)
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    slots = cls.__dict__.get("__slots__")
    if isinstance(slots, tuple) and all(isinstance(n, str) and not n.startswith("_") for n in slots):
        return slots
    return None


def _attributes(v: Any) -> list[tuple[str, Any]]:
    """The attributes of a list or dict of a trackproof subclass (yamlsrc's, which keep where each item is)."""
    return sorted(vars(v).items())


_TAGS: dict[type, str] = {tuple: "t", dict: "d", set: "s", frozenset: "f", list: "l"}


def _children(v: Any) -> list[Any]:
    kind = type(v)
    if kind is dict:
        return [*v.keys(), *v.values()]
    if kind in (list, tuple, set, frozenset):
        return list(v)
    if isinstance(v, (list, dict)) and _ours(kind):
        return [*(v.items() if isinstance(v, dict) else v), *(x for _, x in _attributes(v))]
    names = _fields(kind) if not isinstance(v, enum.Enum) else None
    return [getattr(v, n) for n in names] if names else []


class _Writer:
    """Writes a value's tree; a value met more than once (the same object: a transition in several machines, a
    counterexample that is also one of a verdict's runs) is written once, with a slot number, then referred to as
    {"@": slot}, so that what was one object is read back as one object, as it was."""

    def __init__(self, root: Any) -> None:
        self.classes: dict[type, int] = {}
        self.slots: dict[int, int] = {}
        self.uses: dict[int, int] = {}
        stack = [root]
        while stack:  # count the uses of every container (scalars are not shared)
            v = stack.pop()
            if v is None or type(v) in (bool, int, float, str):
                continue
            seen = self.uses.get(id(v), 0)
            self.uses[id(v)] = seen + 1
            if not seen:
                stack.extend(_children(v))

    def _class(self, cls: type) -> int:
        if cls not in self.classes:
            self.classes[cls] = len(self.classes)
        return self.classes[cls]

    def value(self, v: Any) -> Any:
        if v is None or type(v) in (bool, int, float, str):
            return v
        slot = self.slots.get(id(v))
        if slot is not None:
            return {"@": slot}
        kind = type(v)
        items: list[Any]
        if kind is dict:
            tag, items = "d", [[self.value(k), self.value(x)] for k, x in v.items()]
        elif kind in _TAGS:
            tag, items = _TAGS[kind], [self.value(x) for x in v]
        elif isinstance(v, enum.Enum) and _ours(kind):
            return {"e": [self._class(kind), v.name]}
        elif isinstance(v, dict) and _ours(kind):
            content = [[self.value(k), self.value(x)] for k, x in v.items()]
            tag, items = "x", [self._class(kind), content, [[n, self.value(x)] for n, x in _attributes(v)]]
        elif isinstance(v, list) and _ours(kind):
            content = [self.value(x) for x in v]
            tag, items = "x", [self._class(kind), content, [[n, self.value(x)] for n, x in _attributes(v)]]
        else:
            names = _fields(kind)
            if names is None:
                raise Unencodable(f"cannot store a {kind.__module__}.{kind.__qualname__}")
            tag, items = "r", [self._class(kind), *(self.value(getattr(v, n)) for n in names)]
        if self.uses.get(id(v), 0) > 1:
            self.slots[id(v)] = len(self.slots)
            return {tag.upper(): [self.slots[id(v)], *items]}
        return items if tag == "l" else {tag: items}


def encode(value: Any) -> str:
    """`value` as text (see the module docstring); Unencodable if it holds anything else."""
    writer = _Writer(value)
    body = json.dumps(writer.value(value), separators=(",", ":"), allow_nan=True)
    table = [[cls.__module__, cls.__qualname__, list(_fields(cls) or ())] for cls in writer.classes]
    return json.dumps({"format": FORMAT, "classes": table}, separators=(",", ":")) + "\n" + body


def _resolve(entry: Any) -> tuple[type, tuple[str, ...]]:
    """The class an entry of the table names, if it is one the format may build (see the module docstring)."""
    if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(x, str) for x in entry[:2])
            and isinstance(entry[2], list)):
        raise Malformed("bad class table")
    module_name, qualname, names = entry
    if not (module_name == _PACKAGE or module_name.startswith(_PACKAGE + ".")) or "." in qualname:
        raise Malformed(f"class {module_name}.{qualname} is not trackproof's")
    module = sys.modules.get(module_name)  # never imported here
    cls = getattr(module, qualname, None) if module is not None else None
    if not isinstance(cls, type) or cls.__module__ != module_name:
        raise Malformed(f"no class {module_name}.{qualname} loaded")
    if issubclass(cls, (enum.Enum, list, dict)):
        return cls, ()
    fields = _fields(cls)
    if fields is None or list(fields) != names:
        raise Malformed(f"{module_name}.{qualname} is not a record with the fields stored")
    return cls, fields


def _builder(cls: type, names: tuple[str, ...]) -> Callable[[list[Any]], Any]:
    """How a record of `cls` is rebuilt from [class, field values...] (made once per class of an entry)."""
    count = len(names) + 1

    def check(items: list[Any]) -> list[Any]:
        if len(items) != count:
            raise Malformed(f"{cls.__qualname__} needs {count - 1} fields")
        return items[1:]

    if issubclass(cls, tuple):
        return lambda items: tuple.__new__(cls, check(items))
    if not dataclasses.is_dataclass(cls):  # a class with __slots__: its slots set, no __init__ run

        def slotted(items: list[Any]) -> Any:
            record = object.__new__(cls)
            for n, v in zip(names, check(items), strict=True):
                object.__setattr__(record, n, v)
            return record

        return slotted
    if not hasattr(cls, "__post_init__") and cls.__dictoffset__:  # its instances keep their attributes in a dict
        # A record's stored fields are all of its fields (_resolve checks it) and nothing runs after __init__:
        # its attributes are set as __init__ would set them, without running it (a frozen dataclass's __init__ sets
        # each field through object.__setattr__, which was most of loading the model from the cache, and so of
        # `run`).
        def plain(items: list[Any]) -> Any:
            record = object.__new__(cls)
            record.__dict__.update(zip(names, check(items), strict=True))
            return record

        return plain
    init = {f.name for f in dataclasses.fields(cls) if f.init}

    def dataclass(items: list[Any]) -> Any:
        values = dict(zip(names, check(items), strict=True))
        record = cls(**{n: v for n, v in values.items() if n in init})
        for n, v in values.items():
            if n not in init:
                object.__setattr__(record, n, v)
        return record

    return dataclass


def _container(cls: type, content: list[Any], attributes: list[Any]) -> Any:
    """A list or dict of a trackproof subclass, with its attributes (no __init__ run; no name with '_' set)."""
    if issubclass(cls, dict):
        made: Any = dict.__new__(cls)
        dict.update(made, {k: v for k, v in content})
    elif issubclass(cls, list):
        made = list.__new__(cls)
        list.extend(made, content)
    else:
        raise Malformed(f"{cls.__qualname__} is not a list or a dict")
    for name, value in attributes:
        if not isinstance(name, str) or name.startswith("_"):
            raise Malformed("bad attribute")
        object.__setattr__(made, name, value)
    return made


def decode(text: str) -> Any:
    """The value `encode` wrote as `text`; Malformed for anything else (nothing but data is ever built)."""
    try:
        head, _, body = text.partition("\n")
        header = json.loads(head)
        if not isinstance(header, dict) or header.get("format") != FORMAT or not isinstance(header.get("classes"),
                                                                                             list):
            raise Malformed("not a trackproof cache entry of this format")
        classes = [_resolve(entry) for entry in header["classes"]]
        records = [_builder(cls, names) if not issubclass(cls, (enum.Enum, list, dict)) else None
                   for cls, names in classes]
        shared: dict[int, Any] = {}

        def record(items: list[Any]) -> Any:
            make = records[items[0]] if items and type(items[0]) is int and items[0] >= 0 else None
            if make is None:
                raise Malformed("not a record class")
            return make(items)

        def member(items: list[Any]) -> Any:
            cls = classes[items[0]][0] if len(items) == 2 and type(items[0]) is int and items[0] >= 0 else None
            if cls is None or not issubclass(cls, enum.Enum):
                raise Malformed("not an enum")
            return cls[items[1]]

        def container(items: list[Any]) -> Any:
            if len(items) != 3 or type(items[0]) is not int or items[0] < 0:
                raise Malformed("bad container")
            return _container(classes[items[0]][0], items[1], items[2])

        builds: dict[str, Callable[[list[Any]], Any]] = {
            "t": tuple, "d": lambda items: {k: v for k, v in items}, "s": set, "f": frozenset, "r": record,
            "e": member, "x": container}
        shares = {"L": list, **{tag.upper(): build for tag, build in builds.items() if tag != "e"}}

        def hook(obj: dict[str, Any]) -> Any:
            if len(obj) != 1:
                raise Malformed("unknown object")
            (tag, payload), = obj.items()
            build = builds.get(tag)
            if build is not None and type(payload) is list:
                return build(payload)
            if tag == "@":
                return shared[payload]
            build = shares.get(tag)
            if build is None or type(payload) is not list or not payload or type(payload[0]) is not int \
                    or payload[0] in shared:
                raise Malformed(f"unknown object {tag!r}")
            value = shared[payload[0]] = build(payload[1:])
            return value

        return json.loads(body, object_hook=hook)
    except Malformed:
        raise
    except (ValueError, TypeError, KeyError, RecursionError, AttributeError) as exc:
        raise Malformed(f"{type(exc).__name__}: {exc}") from None
