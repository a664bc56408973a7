"""docs/scenarios.md stays true to the model: every setting and event kind is documented, and every settings table
row gives the vocabulary's type, values, default, confidence of the default, label and rules.

A settings table is a Markdown table whose header starts with `| Setting |`; its rows start with "| `name` |".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from trackproof.spec.ir import Attribute
from trackproof.spec.loader import load_model
from trackproof.spec.scenario import EVENTS

DOC = Path(__file__).resolve().parent.parent / "docs" / "scenarios.md"
SETTING_GROUPS = ("org", "mailbox", "party")
VOCABULARY = load_model().vocabulary
SETTINGS: list[Attribute] = [a for g in SETTING_GROUPS for a in VOCABULARY.groups[g].values()]

_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")
_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
#: The default as the Default column writes it: "`value`", optionally followed by "(M)" or "(L)".
_DEFAULT = re.compile(r"^`([^`]+)`(?:\s*\(([HML])\))?")
#: A queue's own default in the same cell: "**`value` for a queue**", optionally followed by "(M)" or "(L)".
_QUEUE_DEFAULT = re.compile(r"\*\*`([^`]+)` for a queue\*\*(?:\s*\(([HML])\))?")


class Row(NamedTuple):
    line: int  # 1-based line number in the doc
    cells: dict[str, str]  # header -> cell text


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _setting_rows(text: str) -> dict[str, list[Row]]:
    """Every row of every settings table, by setting name."""
    rows: dict[str, list[Row]] = {}
    lines = text.splitlines()
    header: list[str] | None = None
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            header = None
            continue
        if i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]):
            header = _cells(line)
            continue
        match = _ROW.match(line)
        if header is None or header[0] != "Setting" or match is None:
            continue
        cells = _cells(line)
        assert len(cells) == len(header), f"docs/scenarios.md:{i + 1}: row has {len(cells)} cells, header {len(header)}"
        rows.setdefault(match.group(1), []).append(Row(i + 1, dict(zip(header, cells, strict=True))))
    return rows


TEXT = DOC.read_text(encoding="utf-8")
ROWS = _setting_rows(TEXT)


def _parse_value(attr: Attribute, written: str) -> object:
    if attr.type == "bool":
        assert written in ("true", "false"), f"setting '{attr.name}': bool default written as `{written}`"
        return written == "true"
    return written


def _rows_of(attr: Attribute) -> list[Row]:
    rows = ROWS.get(attr.name, [])
    assert rows, (f"setting '{attr.name}' ({attr.group}) has no row \"| `{attr.name}` |\" in a settings table of "
                  "docs/scenarios.md")
    return rows


def _is_bool_or_enum(attr: Attribute) -> bool:
    return attr.type == "bool" or attr.type in VOCABULARY.enums


def _id(attr: Attribute) -> str:
    return f"{attr.group}.{attr.name}"


@pytest.mark.parametrize("attr", SETTINGS, ids=_id)
def test_setting_is_named(attr: Attribute) -> None:
    assert f"`{attr.name}`" in TEXT, f"setting '{attr.name}' ({attr.group}) is not named in docs/scenarios.md"


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_event_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in TEXT, f"event kind '{kind}' is not named in docs/scenarios.md"
    events = TEXT.split("\n## Events\n", 1)[-1].split("\n## ", 1)[0]
    headings = [line for line in events.splitlines() if line.startswith("### ")]
    assert any(f"`{kind}`" in h for h in headings), f"event kind '{kind}' has no '### ' heading under '## Events'"


@pytest.mark.parametrize("attr", [a for a in SETTINGS if _is_bool_or_enum(a)], ids=_id)
def test_documented_default_matches_vocabulary(attr: Attribute) -> None:
    for row in _rows_of(attr):
        where = f"docs/scenarios.md:{row.line}: setting '{attr.name}' ({attr.group})"
        cell = row.cells.get("Default")
        assert cell is not None, f"{where}: its table has no Default column"
        match = _DEFAULT.match(cell)
        assert match is not None, f"{where}: the Default cell {cell!r} does not start with a `value`"
        documented = _parse_value(attr, match.group(1))
        assert documented == attr.default, (
            f"{where}: documented default {documented!r}, vocabulary default {attr.default!r}")
        mark = match.group(2) or "H"
        assert mark == attr.default_confidence, (
            f"{where}: default marked ({mark}), vocabulary default_confidence {attr.default_confidence}")
        queue = _QUEUE_DEFAULT.search(cell)
        if attr.default_for_queue is None:
            assert queue is None, f"{where}: documents a queue default, but the vocabulary has none"
            continue
        assert queue is not None, (
            f"{where}: the vocabulary's queue default {attr.default_for_queue!r} is missing (write "
            f"**`{attr.default_for_queue}` for a queue**)")
        queue_value = _parse_value(attr, queue.group(1))
        assert queue_value == attr.default_for_queue, (
            f"{where}: documented queue default {queue_value!r}, vocabulary {attr.default_for_queue!r}")
        queue_mark = queue.group(2) or "H"
        assert queue_mark == attr.queue_default_confidence, (
            f"{where}: queue default marked ({queue_mark}), vocabulary queue_default_confidence "
            f"{attr.queue_default_confidence}")


@pytest.mark.parametrize("attr", SETTINGS, ids=_id)
def test_documented_type_values_label_and_rules_match_vocabulary(attr: Attribute) -> None:
    for row in _rows_of(attr):
        where = f"docs/scenarios.md:{row.line}: setting '{attr.name}' ({attr.group})"
        assert row.cells.get("Type") == attr.type, (
            f"{where}: documented type {row.cells.get('Type')!r}, vocabulary type {attr.type!r}")
        values = row.cells.get("Values", "")
        if "`" in values:  # `kind` refers to the Kinds table instead
            expected = ("true", "false") if attr.type == "bool" else VOCABULARY.enums.get(attr.type, ())
            documented = tuple(re.findall(r"`([^`]+)`", values))
            assert documented == expected, f"{where}: documented values {documented}, vocabulary values {expected}"
        label = row.cells.get("Label", "")
        users_only = label.endswith(" *Users only.*")
        assert users_only == attr.users_only, (
            f"{where}: '*Users only.*' {'present' if users_only else 'missing'}, vocabulary users_only "
            f"{attr.users_only}")
        documented_label = label.removesuffix(" *Users only.*").removesuffix(".") if users_only else label
        assert documented_label == attr.label, f"{where}: documented label {label!r}, vocabulary label {attr.label!r}"
        rules = row.cells.get("Rules", "")
        documented_rules = tuple(r.strip() for r in rules.split(",")) if rules not in ("", "none") else ()
        assert documented_rules == attr.rules, (
            f"{where}: documented rules {documented_rules}, vocabulary rules {attr.rules}")


def test_every_error_code_is_documented() -> None:
    from trackproof.errors import CODES

    text = (DOC.parent / "errors.md").read_text(encoding="utf-8")
    assert [code for code in CODES if f"| {code} |" not in text] == []
