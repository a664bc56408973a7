"""Error codes, locations and compiler-style messages.

Every message trackproof prints about bad input lives here, with a stable code. A `TrackproofError` carries a source
location; `format_error` renders it as ``file:line:col: error[CODE]: message`` followed by the offending line and a
caret, the way compilers do, with the characters a terminal would act on escaped (`printable`, also used for every
report that echoes input). This module is not a logger and does no I/O beyond reading the offending line.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass

#: Stable error codes. Never renumber; add new ones at the end of their block. Documented in docs/errors.md.
CODES: dict[str, str] = {
    # E1xx: reading files
    "E101": "file cannot be read",
    "E102": "malformed YAML",
    "E103": "duplicate key",
    "E104": "wrong shape (expected a mapping, a list or a scalar here)",
    "E105": "missing required key",
    "E106": "unknown key",
    "E107": "not a regular file (a folder, a FIFO, a device)",
    "E108": "file too large",
    "E109": "YAML document too large once its aliases are expanded, or an alias that contains itself",
    "E110": "nested too deeply",
    "E111": "malformed JSON",
    # E2xx: expressions
    "E201": "expression syntax error",
    "E202": "forbidden construct in expression",
    "E203": "unknown name or field",
    "E204": "type error",
    "E205": "unknown function or definition",
    "E206": "wrong number of arguments",
    "E207": "unknown value for this type",
    "E208": "expression too long or too deeply nested",
    # E3xx: the model
    "E301": "rule without a source",
    "E302": "unknown rule number or source key",
    "E303": "unknown state or trigger",
    "E304": "machine structure (initial state, unreachable or trap state)",
    "E305": "overlapping guards with the same priority",
    "E306": "confidence higher than the documented rules allow",
    "E307": "duplicate id",
    "E308": "recursive definition",
    # E4xx: scenarios
    "E401": "unknown participant",
    "E402": "unknown setting or bad setting value",
    "E403": "settings that cannot occur together",
    "E404": "impossible event",
    "E405": "unknown email",
    "E406": "expectation names an unknown field",
    "E407": "expectation with a value its field cannot have",
    "E408": "universe too large to explore",
    # E5xx: command line
    "E501": "bad command-line usage",
    "E502": "SVG renderer not available or failed",
    "E503": "unreadable trace or settings file for a diagram",
    "E504": "cannot write an output file or folder",
}


@dataclass(frozen=True)
class Loc:
    """A position in a source file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


UNKNOWN_LOC = Loc("<unknown>", 0, 0)


class TrackproofError(Exception):
    """Bad input: carries a stable code, a message and where it was found."""

    def __init__(self, code: str, message: str, loc: Loc = UNKNOWN_LOC, hint: str = "") -> None:
        assert code in CODES, code
        super().__init__(message)
        self.code = code
        self.message = message
        self.loc = loc
        self.hint = hint


#: Characters a terminal may act on rather than show (C0 controls but tab and newline, DEL, C1 controls, and the
#: bidirectional overrides and isolates that reorder what is shown): input text is printed with them escaped.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""`text` with every character a terminal would act on written as `\uXXXX` (valid in a JSON string too, so
    that JSON output stays valid and means the same): a hostile file cannot retitle, clear or reorder the terminal
    through a message or a report that echoes it."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_LINE_LIMIT = 4 * 1024 * 1024  # the source line is looked up only in a file no larger than any input may be


def _source_line(loc: Loc) -> str | None:
    if loc.line <= 0:
        return None
    try:  # only a regular file, opened without blocking: the file may have been swapped since it was read
        if not stat.S_ISREG(os.stat(loc.file).st_mode):
            return None
        fd = os.open(loc.file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            lines = handle.read(_LINE_LIMIT).decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if loc.line == len(lines) + 1:  # the end of the file (an unclosed bracket, say)
        return ""
    if loc.line > len(lines):
        return None
    return lines[loc.line - 1]


def format_error(err: TrackproofError) -> str:
    """Render an error as `file:line:col: error[CODE]: message`, the source line and a caret, every character a
    terminal would act on escaped (`printable`)."""
    if err.loc.file == UNKNOWN_LOC.file:  # not about a file: a command-line or environment problem
        where = "trackproof"
    elif err.loc.line <= 0:  # about a whole file (it cannot be read, say): placed at its start, as linters do
        where = f"{err.loc.file}:1:1"
    else:
        where = str(err.loc)
    head = f"{where}: error[{err.code}]: {err.message}"
    parts = [printable(head)]
    line = _source_line(err.loc)
    if line is not None:
        shown = line.expandtabs(1)
        before = max(err.loc.col - 1, 0)
        parts.append("    " + printable(shown))
        parts.append("    " + " " * len(printable(shown[:before])) + "^")
    if err.hint:
        parts.append(printable(f"  hint: {err.hint}"))
    return "\n".join(parts)
