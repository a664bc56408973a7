"""Shared fixtures: the shipped model (loaded once) and helpers to run scenarios and the CLI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from trackproof.cli import main
from trackproof.simulate.engine import simulate
from trackproof.simulate.outcomes import Outcome
from trackproof.spec.ir import Model
from trackproof.spec.loader import load_model
from trackproof.spec.scenario import load_scenario
from trackproof.spec.shipped import default_model_dir

ROOT = Path(__file__).resolve().parent.parent
os.environ["TRACKPROOF_SELF_CHECK"] = "1"  # the prover checks every run's path condition against its settings
# Tests monkeypatch the engine, which a cache keyed on the files on disk cannot see: caches stay off, except in
# tests/test_cache.py, which turns them on in a temporary folder.
os.environ["TRACKPROOF_NO_CACHE"] = "1"
EXAMPLES = ROOT / "examples"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files of tests/golden/ from the current output instead of comparing")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def model() -> Model:
    return load_model()


@pytest.fixture
def play(model: Model, tmp_path: Path) -> Callable[[str], dict[str, Outcome]]:
    """Run scenario text through the simulator; outcomes by email key."""

    def run(text: str) -> dict[str, Outcome]:
        path = tmp_path / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        return {o.key: o for o in simulate(model, load_scenario(path, model))}

    return run


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped model, for tests that break it on purpose."""
    target = tmp_path / "model"
    shutil.copytree(default_model_dir(), target)
    return target


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def proofs_json() -> bytes:
    """`trackproof check --format json --jobs 1` of every claim under proofs/ and the model, in a process of its own
    (hash seed 1, no cache), once per test run: the longest check the tests make, shared by tests/test_golden.py
    (the verdicts each file records) and tests/test_determinism.py (the same bytes on more processes)."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": "1", "TRACKPROOF_NO_CACHE": "1"}
    done = subprocess.run([sys.executable, "-m", "trackproof", "check", "--format", "json", "--jobs", "1"], env=env,
                          capture_output=True, check=False)
    assert b'"claims"' in done.stdout, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def forum_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`trackproof report proofs/forum-claims.yaml` once per test run, in a process of its own, from the checkout's
    root (the pack names files as given); shared by tests/test_report.py and tests/test_browser.py."""
    import subprocess
    import sys

    from trackproof.render.svg import available

    out = tmp_path_factory.mktemp("pack")
    done = subprocess.run([sys.executable, "-m", "trackproof", "report", "proofs/forum-claims.yaml", "-o", str(out),
                           "--renderer", "dot" if available("dot") else "wasm"], cwd=ROOT,
                          env={**os.environ, "PYTHONHASHSEED": "0", "TRACKPROOF_NO_CACHE": "1"},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out / "report.html"), str(out / "report.md")]
    return out
