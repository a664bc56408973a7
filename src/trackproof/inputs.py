"""Reading input files safely: every file trackproof reads (model, scenario, claim and settings files in YAML, traces
in JSON) comes through `read_text`, so that no input can make a command hang, exhaust memory or crash.

- Only regular files are read. A folder, a FIFO, a device (/dev/zero, /dev/urandom, a terminal) or a socket is
  refused (E107) before it is opened for reading, and the file is opened without blocking (O_NONBLOCK), so a FIFO
  swapped in between is refused too instead of waiting for a writer.
- A file is read up to a limit (E108): MAX_YAML_BYTES for YAML, whose parser composes about 0.6 million values a
  second here, so a worst-case file of that size is parsed well within a second; MAX_JSON_BYTES for JSON, which
  Python's decoder reads far faster. A file that grows while read, or that reports no size (procfs), is still cut.
- Text must be UTF-8 (E101, at the line and column of the first bad byte).
- JSON nested deeper than MAX_JSON_DEPTH is refused (E110) where the nesting goes too deep; malformed JSON is E111.

What this module is not: the YAML reader (spec/yamlsrc.py bounds what a YAML document expands to) or the writer of
output files (files.py).
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any

from .errors import Loc, TrackproofError

MAX_YAML_BYTES = 512 * 1024
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 64

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def _refuse_special(name: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise TrackproofError("E107", f"cannot read {_kind(mode)}: trackproof reads only regular files",
                              Loc(name, 0, 0))


def read_bytes(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them (E101, E107, E108)."""
    name = os.fspath(path)
    try:
        _refuse_special(name, os.stat(name).st_mode)
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise TrackproofError("E101", f"cannot read file: {exc.strerror or exc}", Loc(name, 0, 0)) from None
    try:
        info = os.fstat(fd)
        _refuse_special(name, info.st_mode)  # replaced by something else since the first look
        if info.st_size > limit:
            raise _too_large(name, limit)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise TrackproofError("E101", f"cannot read file: {exc.strerror or exc}", Loc(name, 0, 0)) from None
    finally:
        os.close(fd)
    if total > limit:
        raise _too_large(name, limit)
    return b"".join(chunks)


def _too_large(name: str, limit: int) -> TrackproofError:
    return TrackproofError("E108", f"file larger than the {_size(limit)} an input file may have", Loc(name, 0, 0))


def read_text(path: str | os.PathLike[str], limit: int = MAX_YAML_BYTES) -> str:
    """The UTF-8 text of the regular file `path` (see the module docstring)."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise TrackproofError("E101", f"cannot read file: not UTF-8 text (byte 0x{data[exc.start]:02x})",
                              Loc(os.fspath(path), line, col)) from None


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")


def _depth(text: str) -> int:
    """How deeply the lists and objects of the valid JSON `text` nest: its strings removed, then its brackets
    counted, in C-speed passes (a walk over the decoded document costs about ten times as much)."""
    from array import array  # only for JSON, which `trackproof run` never reads
    from itertools import accumulate

    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    return max(accumulate(array("b", brackets.translate(_STEP))), default=0)


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


#: A UTF-16 surrogate escape that is not half of a pair (a backslash before it escapes the backslash, not the u).
_LONE_SURROGATE = re.compile(r"(?<!\\)(?:\\\\)*(\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|"
                             r"(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})")


def _too_deep_at(text: str, path: str, limit: int) -> Loc:
    """Where the nesting of JSON `text` first goes deeper than `limit`."""
    level = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            level += 1
            if level > limit:
                offset = match.start()
                line = text.count("\n", 0, offset) + 1
                return Loc(path, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)
        elif token in "]}":
            level -= 1
    return Loc(path, 1, 1)  # pragma: no cover - only called on text that nests too deeply


def load_json(path: str) -> Any:
    """The JSON document in the regular file `path` (E101, E107, E108, E110, E111)."""
    text = read_text(path, MAX_JSON_BYTES)
    try:
        doc = json.loads(text)
    except RecursionError:  # deeper than Python's decoder goes: far deeper than the limit
        doc, depth = None, MAX_JSON_DEPTH + 1
    except ValueError as exc:
        line, col = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (1, 1)
        # the other ValueError: an integer with more digits than Python converts (4,300), said in JSON's terms
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number too long to read"
        raise TrackproofError("E111", f"malformed JSON: {reason}", Loc(path, line, col)) from None
    else:
        depth = _depth(text)  # on valid JSON only: every quote there opens or closes a string
        lone = _LONE_SURROGATE.search(text)
        if lone is not None:  # JSON allows the escape; the text it makes is no text (it cannot be written out)
            offset = lone.start(1)
            line = text.count("\n", 0, offset) + 1
            raise TrackproofError("E111", f"malformed JSON: a lone surrogate escape ({lone.group(1)}) is not text",
                                  Loc(path, line, offset - (text.rfind("\n", 0, offset) + 1) + 1))
    if depth > MAX_JSON_DEPTH:
        raise TrackproofError("E110", f"JSON nested more than {MAX_JSON_DEPTH} levels deep",
                              _too_deep_at(text, path, MAX_JSON_DEPTH))
    return doc
