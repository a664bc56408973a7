"""The README's verdict tables are `trackproof check --format markdown` of their claim files, byte for byte: each
table sits between `<!-- verdicts: FILE -->` and `<!-- /verdicts -->`, and this test fails as soon as the table and
what `check` says differ (regenerate the block with the command)."""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT, cli

_BLOCK = re.compile(r"<!-- verdicts: (\S+) -->\n(.*?)<!-- /verdicts -->", re.S)


def tables(text: str) -> list[tuple[str, str]]:
    """(claim file, the table as written) for every verdict block of a Markdown text."""
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(text)]


def stale(capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    """The claim files whose table in `text` is not what `check --format markdown` gives now."""
    out = []
    for path, table in tables(text):
        status, now, _ = cli(capsys, "check", str(ROOT / path), "--format", "markdown", "--no-cache", "--jobs", "1",
                             "--exit-zero")
        assert status == 0
        if now != table:
            out.append(path)
    return out


def test_the_readme_tables_are_what_check_says(capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {path for path, _ in tables(text)} >= {"proofs/forum-claims.yaml", "proofs/behaviours.yaml"}
    assert stale(capsys, text) == []


def test_a_table_that_disagrees_with_check_is_caught(capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    wrong = text.replace("| SSS-3 | violated (M) | **no** |", "| SSS-3 | proved (M) | yes |", 1)
    assert wrong != text
    assert stale(capsys, wrong) == ["proofs/forum-claims.yaml"]
    # a condition changed by hand is caught too, not only a verdict
    wrong = text.replace("| SSS-6 | violated (M) | **no** | X.filter in {all, leads_contacts_accounts, email_enabled}",
                         "| SSS-6 | violated (M) | **no** | org.use_correlation and X.filter in {all}", 1)
    assert wrong != text and stale(capsys, wrong) == ["proofs/forum-claims.yaml"]
