"""YAML reading that keeps every value's file, line and column.

PyYAML's composer (through libyaml when available) gives nodes with marks; this module turns them into plain dicts,
lists and scalars, with the locations kept beside them in `Mapping.locs` / `Sequence.locs`. It refuses duplicate
keys (which YAML parsers silently accept) and never constructs arbitrary Python objects.

A document is bounded, whatever it holds (the file itself is read through inputs.py: a regular file, of bounded
size): it may hold at most MAX_VALUES values, counting each use of an alias as a copy of what it names (a "billion
laughs" file is refused, E109, after that many, not expanded for minutes), no alias may name a collection that
contains it (E109), and collections nest at most MAX_DEPTH deep (E110).
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from ..errors import Loc, TrackproofError
from ..inputs import read_text

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

_BOOL_TRUE = {"true", "yes", "on"}
MAX_VALUES = 100_000  # the largest shipped file (the rulebook) has about 2,000
MAX_DEPTH = 64  # the shipped files nest at most 7 deep


class Origin:
    """Where each character of a string scalar came from, so that an expression's error points into the file.

    `segments` are the (line, column) starts of the scalar's content lines; folded text joins them with one
    character, which is how YAML folds plain and `>` scalars.
    """

    __slots__ = ("file", "lengths", "segments")

    def __init__(self, file: str, segments: list[tuple[int, int]], lengths: list[int]) -> None:
        self.file = file
        self.segments = segments
        self.lengths = lengths

    def loc_at(self, offset: int) -> Loc:
        for (line, col), length in zip(self.segments, self.lengths, strict=True):
            if offset <= length:
                return Loc(self.file, line, col + offset)
            offset -= length + 1
        line, col = self.segments[-1]
        return Loc(self.file, line, col + self.lengths[-1])


class Mapping(dict[str, Any]):
    """A YAML mapping; `loc` is where it starts, `locs[key]` where each value starts, `key_locs[key]` each key.

    `origins[key]` maps the characters of a string value back to the file."""

    loc: Loc
    locs: dict[str, Loc]
    key_locs: dict[str, Loc]
    origins: dict[str, Origin]


class Sequence(list[Any]):
    """A YAML sequence; `loc` is where it starts, `locs[i]` where item i starts."""

    loc: Loc
    locs: list[Loc]


def _loc(path: str, mark: Any) -> Loc:
    return Loc(path, mark.line + 1, mark.column + 1)


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return value.lower() in _BOOL_TRUE
    if tag.endswith(":int"):
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if tag.endswith(":float"):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _origin(path: str, lines: list[str], node: yaml.ScalarNode) -> Origin:
    start, end = node.start_mark, node.end_mark
    style = node.style
    following = []  # the content lines after the first: (line, column, length) of each non-blank one
    for idx in range(start.line + 1, min(end.line + 1, len(lines))):
        text = lines[idx]
        if text.strip():
            following.append((idx + 1, len(text) - len(text.lstrip()) + 1, len(text.strip())))
    if style in ("|", ">") and following:
        return Origin(path, [(a, b) for a, b, _ in following], [c for _, _, c in following])
    quote = 1 if style in ("'", '"') else 0
    if start.line == end.line or start.line >= len(lines):
        return Origin(path, [(start.line + 1, start.column + 1 + quote)], [max(end.column - start.column, 1)])
    segs = [(start.line + 1, start.column + 1 + quote), *((a, b) for a, b, _ in following)]
    lens = [len(lines[start.line]) - start.column - quote, *(c for _, _, c in following)]
    return Origin(path, segs, lens)


class _Budget:
    """What converting one document may still cost: values left, and the collections being converted (an alias to
    one of them would contain itself)."""

    def __init__(self, path: str, lines: list[str]) -> None:
        self.path, self.lines = path, lines
        self.left = MAX_VALUES
        self.open: set[int] = set()

    def enter(self, node: yaml.Node) -> None:
        self.left -= 1
        if self.left < 0:
            raise TrackproofError("E109", f"more than {MAX_VALUES:,} values once aliases are expanded",
                                  _loc(self.path, node.start_mark),
                                  "an alias (*name) counts as a copy of everything its anchor (&name) holds")
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            if id(node) in self.open:
                raise TrackproofError("E109", "an alias that contains itself", _loc(self.path, node.start_mark))
            if len(self.open) >= MAX_DEPTH:
                raise TrackproofError("E110", f"lists and mappings nested more than {MAX_DEPTH} deep",
                                      _loc(self.path, node.start_mark))
            self.open.add(id(node))


#: The tags a value may carry: those YAML's core schema resolves plain values to. Any other (`!!python/object`,
#: `!!binary`, `!custom`) is written on purpose and means something this tool does not do: refused, never ignored.
_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str", "seq", "map", "timestamp"))


def _convert(node: yaml.Node, budget: _Budget) -> Any:
    budget.enter(node)
    path = budget.path
    if node.tag not in _TAGS:
        raise TrackproofError("E102", f"unsupported YAML tag '{node.tag}'", _loc(path, node.start_mark),
                              "remove the tag: values are plain text, numbers, true/false, lists and mappings")
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        seq = Sequence(_convert(item, budget) for item in node.value)
        seq.loc = _loc(path, node.start_mark)
        seq.locs = [_loc(path, item.start_mark) for item in node.value]
        budget.open.discard(id(node))
        return seq
    if isinstance(node, yaml.MappingNode):
        mapping = Mapping()
        mapping.loc = _loc(path, node.start_mark)
        mapping.locs = {}
        mapping.key_locs = {}
        mapping.origins = {}
        for key_node, value_node in node.value:
            key_loc = _loc(path, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                raise TrackproofError("E104", "a mapping key must be a plain word", key_loc)
            key = str(key_node.value)
            if key in mapping:
                raise TrackproofError("E103", f"duplicate key '{key}'", key_loc,
                                      f"'{key}' is already given at line {mapping.key_locs[key].line}")
            mapping[key] = _convert(value_node, budget)
            if isinstance(value_node, yaml.ScalarNode) and isinstance(mapping[key], str):
                mapping.origins[key] = _origin(path, budget.lines, value_node)
            mapping.locs[key] = _loc(path, value_node.start_mark)
            mapping.key_locs[key] = key_loc
        budget.open.discard(id(node))
        return mapping
    raise TrackproofError("E102", "unsupported YAML node", _loc(path, node.start_mark))  # pragma: no cover


def load_text(text: str, path: str) -> Any:
    """Parse YAML text; errors carry `path` and the position libyaml reports."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(path, mark) if mark is not None else Loc(path, 1, 1)
        problem = str(exc.problem or exc.context)
        if "maximum nesting depth" in problem:  # libyaml's own bound (1000), far beyond MAX_DEPTH
            raise TrackproofError("E110", f"lists and mappings nested more than {MAX_DEPTH} deep", loc) from None
        raise TrackproofError("E102", f"malformed YAML: {problem}", loc) from None
    except RecursionError:  # pragma: no cover - the pure-Python composer, without libyaml
        raise TrackproofError("E110", f"lists and mappings nested more than {MAX_DEPTH} deep",
                              Loc(path, 1, 1)) from None
    except yaml.YAMLError as exc:
        raise TrackproofError("E102", f"malformed YAML: {exc}", Loc(path, 1, 1)) from None
    if node is None:
        empty = Mapping()
        empty.loc, empty.locs, empty.key_locs, empty.origins = Loc(path, 1, 1), {}, {}, {}
        return empty
    return _convert(node, _Budget(path, text.splitlines()))


def load_file(path: str | os.PathLike[str]) -> Any:
    """Read (inputs.read_text: a regular file of bounded size) and parse a YAML file."""
    name = os.fspath(path)
    return load_text(read_text(name), name)


def expect_mapping(value: Any, loc: Loc, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise TrackproofError("E104", f"{what} must be a mapping", loc)
    return value


def shape_of(value: Any) -> str:
    """What a value read from a file is, in words (messages never show a value as Python would print it)."""
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "empty"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    return "a list" if isinstance(value, list) else "text"


def quoted(value: Any) -> str:
    """A name read from a file, as a message shows it: in quotes if it is text, else what it is instead."""
    return f"'{value}'" if isinstance(value, str) else f"({shape_of(value)})"


def expect_text(mapping: Mapping, key: str, what: str) -> str | None:
    """The text under `key` (None if absent): a string, never a list, a mapping, a number or true/false shown as
    Python would print it."""
    if key not in mapping:
        return None
    value = mapping[key]
    if not isinstance(value, str):
        raise TrackproofError("E104", f"'{key}' of {what} must be text (a string), not {shape_of(value)}",
                              mapping.locs[key],
                              "quote it to give it as text")
    return value


def expect_sequence(value: Any, loc: Loc, what: str) -> Sequence:
    if not isinstance(value, Sequence):
        raise TrackproofError("E104", f"{what} must be a list", loc)
    return value


def as_list(value: Any, loc: Loc) -> tuple[list[Any], list[Loc]]:
    """A scalar or a list, as a list with its item locations."""
    if isinstance(value, Sequence):
        return list(value), list(value.locs)
    return [value], [loc]


def check_keys(mapping: Mapping, allowed: set[str], required: set[str], what: str) -> None:
    """Refuse unknown keys and report missing ones, each at its own location."""
    for key in mapping:
        if key not in allowed:
            near = sorted(allowed)
            raise TrackproofError("E106", f"unknown key '{key}' in {what}", mapping.key_locs[key],
                                  "allowed keys: " + ", ".join(near))
    for key in sorted(required):
        if key not in mapping:
            raise TrackproofError("E105", f"{what} needs the key '{key}'", mapping.loc)
