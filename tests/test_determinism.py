"""The same input gives byte-identical output, across processes too (different hash seeds, different memory)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import ROOT

SMALL = str(ROOT / "tests" / "claims" / "small.yaml")
ONE_SETUP = str(ROOT / "tests" / "claims" / "contradiction.yaml")
SETTINGS = ROOT / "examples" / "settings"


def _output(args: list[str], seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed, "TRACKPROOF_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "trackproof", *args], env=env, capture_output=True,
                          check=False).stdout


@pytest.mark.parametrize("args", [
    ["check", SMALL, "--format", "json"],
    ["gaps", ONE_SETUP, "--format", "json"],
    ["diff", str(SETTINGS / "defaults.yaml"), str(SETTINGS / "auto-track-sent-items.yaml"), "--format", "json",
     "--universe", str(ROOT / "tests" / "universes" / "diff-small.yaml")],
    ["run", str(ROOT / "examples" / "sss-queue-on-cc-accepts.yaml"), "--format", "json"],
], ids=["check", "gaps", "diff", "run"])
def test_output_is_the_same_in_every_process(args: list[str]) -> None:
    first = _output(args, "1")
    assert first.strip(), "no output"
    assert _output(args, "2") == first
    assert _output(args, "3") == first


def test_check_output_does_not_depend_on_the_number_of_processes(proofs_json: bytes) -> None:
    """Every claim under proofs/ and the model: proved in this process, or spread over worker processes."""
    alone = proofs_json
    assert _output(["check", "--format", "json", "--jobs", "2"], "2") == alone
    assert _output(["check", "--format", "json", "--jobs", "3"], "3") == alone


def test_gaps_output_does_not_depend_on_the_number_of_processes() -> None:
    forum = str(ROOT / "proofs" / "forum-claims.yaml")
    alone = _output(["gaps", forum, "--format", "json", "--jobs", "1"], "1")
    assert b'"missed"' in alone
    assert _output(["gaps", forum, "--format", "json", "--jobs", "2"], "2") == alone
