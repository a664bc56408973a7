"""Golden tests: the whole text of `check`, `gaps`, `diff` and `run` on the shipped files, compared byte for byte
with tests/golden/. After an intended change, regenerate them with `pytest tests/test_golden.py --update-golden`
and read the diff before committing it.

The README's samples are excerpts of these outputs: each sample block follows a `<!-- golden: FILE -->` comment,
and every line of it must appear in FILE, in order (a `...` in a sample stands for text left out).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import EXAMPLES, ROOT, cli

GOLDEN = ROOT / "tests" / "golden"

#: name -> the command whose standard output it holds
COMMANDS: dict[str, tuple[str, ...]] = {
    "check.txt": ("check", "--no-cache", "--exit-zero", "--jobs", "1"),
    "check-forum.txt": ("check", "--no-cache", "--exit-zero", "--jobs", "1", "proofs/forum-claims.yaml"),
    "gaps-forum.txt": ("gaps", "--jobs", "1", "proofs/forum-claims.yaml"),
    "diff-auto-track-sent-items.txt": ("diff", "examples/settings/defaults.yaml",
                                       "examples/settings/auto-track-sent-items.yaml"),
    "diff-modes.txt": ("diff", "server_side_sync", "outlook_client"),
    **{f"run-{p.stem}.txt": ("run", f"examples/{p.name}") for p in sorted(EXAMPLES.glob("*.yaml"))},
}


def _compare(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.relative_to(ROOT)}: run pytest {__file__} --update-golden"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        import difflib

        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), f"golden/{name}",
                                            "now", n=2))
        pytest.fail(f"output differs from tests/golden/{name} (--update-golden if intended):\n{diff[:6000]}")


#: Outputs whose content depends on everything the process asked Z3 before (deterministic for a command, which is
#: a fresh process, but not canonical): the model check's witnesses (check.txt), and the order of equally near
#: differences and gaps (diff-*.txt, gaps-forum.txt; noted, to be made canonical). Taken from a fresh process, as a
#: user gets them.
FRESH = {"check.txt", "diff-auto-track-sent-items.txt", "diff-modes.txt", "gaps-forum.txt"}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_output_is_the_golden_one(name: str, capsys: pytest.CaptureFixture[str], update_golden: bool,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in the output are as the command line gives them
    if name in FRESH:
        import subprocess
        import sys

        out = subprocess.run([sys.executable, "-m", "trackproof", *COMMANDS[name]], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout
    else:
        _, out, _ = cli(capsys, *COMMANDS[name])
    # a path the command makes absolute (the shipped claim files, when none is given) names where trackproof is
    # installed, which differs from machine to machine (a checkout, or site-packages): written as <shipped>
    from trackproof.spec.shipped import default_model_dir

    _compare(name, out.replace(os.path.dirname(default_model_dir()), "<shipped>"), update_golden)


def test_every_golden_file_has_its_command() -> None:
    assert {p.name for p in GOLDEN.glob("*.txt")} == set(COMMANDS)


_MARK = re.compile(r"<!-- golden: (\S+) -->\n```[a-z]*\n(.*?)\n```", re.S)


def samples(text: str) -> list[tuple[str, list[str]]]:
    """(golden file, the sample's lines) for every marked sample block of a Markdown text."""
    return [(m.group(1), [line for line in m.group(2).splitlines() if not line.startswith("$ ")])
            for m in _MARK.finditer(text)]


def missing(sample: list[str], golden: str) -> list[str]:
    """The sample lines not found in `golden` in order: each line's parts around `...` in order, on one line of the
    output (a sample may wrap a long output line: its next line may go on where the last one stopped)."""
    lines = golden.splitlines()
    at, column = 0, 0
    out = []
    for line in sample:
        parts = [p.strip() for p in line.split("...") if p.strip()]
        if not parts:
            continue
        found = None
        for i in range(at, len(lines)):
            pos = column if i == at else 0
            for part in parts:
                pos = lines[i].find(part, pos)
                if pos < 0:
                    break
                pos += len(part)
            else:
                found = (i, pos)
                break
        if found is None:
            out.append(line)
        else:
            at, column = found
    return out


def test_readme_samples_are_real_output() -> None:
    found = samples((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(found) >= 4  # check, gaps, diff, run
    for name, sample in found:
        golden = (ROOT / "tests" / "golden" / name).read_text(encoding="utf-8")
        assert missing(sample, golden) == [], f"README sample from {name} is not its output"


def test_a_sample_that_is_not_the_output_is_caught() -> None:
    golden = "SSS-3: VIOLATED (confidence M)\n  Holds when: org.use_correlation and X.filter in {all}\n"
    assert missing(["SSS-3: VIOLATED (confidence M)", "  Holds when: org.use_correlation ... {all}"], golden) == []
    assert missing(["SSS-3: PROVED (confidence M)"], golden) == ["SSS-3: PROVED (confidence M)"]
    assert missing(["  Holds when: ...", "SSS-3: VIOLATED"], golden) == ["SSS-3: VIOLATED"]  # out of order


def test_every_claim_under_proofs_has_the_verdict_it_records(proofs_json: bytes) -> None:
    """Like the TLA+ examples' recorded results: each claim file under proofs/ says, per claim, the verdict the model
    gives it (`# expect: violated` after the claim's id); CI fails when the model's answer moves. (The verdicts are
    those of `check` of everything under proofs/, which tests/test_determinism.py compares across processes.)"""
    import json

    doc = json.loads(proofs_json)
    for path in sorted((ROOT / "proofs").glob("*.yaml")):
        recorded = dict(re.findall(r"- id: (\S+)\s+# expect: (\w+)", path.read_text(encoding="utf-8")))
        # by the file's name: an installed trackproof checks the copy of proofs/ inside its package
        given = {c["id"]: c["verdict"] for c in doc["claims"]
                 if Path(c["location"].rsplit(":", 2)[0]).name == path.name}
        assert set(recorded) == set(given), f"{path.name}: every claim records its expected verdict"
        assert recorded == given, path.name
