"""The Python API: the documented examples run (docs/api.md), the records are the JSON contract's, bad input is a
TrackproofError with its code, and importing trackproof (or playing scenarios with it or with `trackproof run`)
never loads Z3."""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import trackproof
from trackproof.errors import TrackproofError

from .conftest import ROOT


def test_the_documented_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    failed, tried = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, verbose=False,
                                     optionflags=doctest.ELLIPSIS)
    assert tried > 10 and failed == 0


def _json(*argv: str) -> object:
    done = subprocess.run([sys.executable, "-m", "trackproof", *argv, "--format", "json"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return json.loads(done.stdout)


def test_records_are_the_json_contract() -> None:
    scenario = "examples/sss-queue-on-cc-accepts.yaml"
    assert trackproof.run(ROOT / scenario) == [_json("run", str(ROOT / scenario))]
    claims = str(ROOT / "tests" / "claims" / "small.yaml")
    assert trackproof.check(claims, cache=False) == _json("check", claims)
    one_setup = str(ROOT / "tests" / "claims" / "contradiction.yaml")
    assert trackproof.gaps(one_setup) == _json("gaps", one_setup)


def test_bad_input_raises_with_its_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("participants: {X: {kind: user, filtr: all}}\nevents: [sync]\n", encoding="utf-8")
    with pytest.raises(TrackproofError) as caught:
        trackproof.run(bad)
    assert caught.value.code == "E402" and caught.value.loc is not None and caught.value.loc.line == 1
    with pytest.raises(TrackproofError):
        trackproof.diagram("no_such_mode")


def test_a_drawing_shows_inline_and_saves(tmp_path: Path) -> None:
    picture = trackproof.diagram("none", renderer="wasm")
    svg = picture._repr_svg_()
    assert svg.startswith("<?xml") and "<svg" in svg and "composed" in svg
    picture.save(tmp_path / "none.dot")
    assert (tmp_path / "none.dot").read_text(encoding="utf-8") == picture.dot
    with pytest.raises(TrackproofError):
        picture.save(tmp_path / "none.png")


def _modules(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                          cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "TRACKPROOF_NO_CACHE": "1"})
    return set(done.stdout.split())


def test_import_trackproof_is_cheap_and_run_never_loads_z3() -> None:
    bare = _modules("import trackproof")
    assert not {"z3", "yaml", "transitions", "graphviz"} & bare
    assert {m for m in bare if m.startswith("trackproof")} == {"trackproof"}
    scenario = str(ROOT / "examples" / "sss-send-from-crm.yaml")
    assert "z3" not in _modules(f"import trackproof; trackproof.run({scenario!r})")
    assert "z3" not in _modules(f"from trackproof.cli import main; main(['run', {scenario!r}])")
    assert "z3" in _modules("import trackproof; trackproof.check('tests/claims/small.yaml', cache=False)")
