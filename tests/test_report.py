"""`trackproof report`: the review pack. Its Markdown against the committed example (a golden file), the same bytes
from run to run, every claim answered in plain words, every counterexample replayable and drawn, every missed
scenario listed, and an HTML page that needs nothing from outside (the browser test opens it: test_browser.py)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from trackproof.render.dot import nodes_of
from trackproof.render.svg import available, dot_digest, stamp
from trackproof.spec.ir import Model

from .conftest import ROOT, cli

FORUM = "proofs/forum-claims.yaml"
EXAMPLE = ROOT / "docs" / "examples" / "forum-report"
RENDERER = "dot" if available("dot") else "wasm"
REGENERATE = f"trackproof report {FORUM} -o docs/examples/forum-report --format md"


def _report(out: Path, *extra: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    """`trackproof report` on the forum claims, run from the checkout's root (the pack names files as given)."""
    env = {**os.environ, "PYTHONHASHSEED": seed, "TRACKPROOF_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "trackproof", "report", FORUM, "-o", str(out), "--renderer", RENDERER,
                           *extra], cwd=ROOT, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def pack(forum_pack: Path) -> Path:
    return forum_pack


@pytest.fixture(scope="module")
def check_doc() -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "trackproof", "check", FORUM, "--format", "json", "--exit-zero"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def test_markdown_is_the_committed_example(pack: Path) -> None:
    """The golden file: docs/examples/forum-report/report.md, its scenario files byte for byte, its diagrams by
    the DOT they were drawn from (the renderer may differ between machines). Fix: run the REGENERATE command."""
    assert (pack / "report.md").read_text(encoding="utf-8") == (EXAMPLE / "report.md").read_text(encoding="utf-8"), \
        f"docs/examples/forum-report/report.md is stale: run `{REGENERATE}`"
    ours = sorted(p.relative_to(pack) for p in (pack / "scenarios").rglob("*.yaml"))
    assert ours == sorted(p.relative_to(EXAMPLE) for p in (EXAMPLE / "scenarios").rglob("*.yaml")), REGENERATE
    for name in ours:
        assert (pack / name).read_bytes() == (EXAMPLE / name).read_bytes(), f"{name} is stale: run `{REGENERATE}`"
    drawn = sorted(p.name for p in (pack / "diagrams").glob("*.svg"))
    assert drawn == sorted(p.name for p in (EXAMPLE / "diagrams").glob("*.svg")), REGENERATE
    for name in drawn:
        assert stamp((pack / "diagrams" / name).read_text(encoding="utf-8")) == \
            stamp((EXAMPLE / "diagrams" / name).read_text(encoding="utf-8")), f"{name} is stale: run `{REGENERATE}`"


def test_the_same_inputs_give_the_same_bytes(pack: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert _report(again, seed="7").returncode == 0
    for name in ("report.html", "report.md"):
        assert (again / name).read_bytes() == (pack / name).read_bytes(), name
    files = sorted(p.relative_to(pack) for p in pack.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((again / f).read_bytes() == (pack / f).read_bytes() for f in files)


def _answer_rows(markdown: str) -> dict[str, list[str]]:
    section = markdown.split("## 1. The answer", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| <a id="):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[re.search(r"\*\*\[?([A-Za-z0-9-]+)", cells[0]).group(1)] = cells  # type: ignore[union-attr]
    return rows


def test_every_claim_is_answered_in_words(pack: Path, check_doc: dict[str, object], model: Model) -> None:
    rows = _answer_rows((pack / "report.md").read_text(encoding="utf-8"))
    claims = check_doc["claims"]
    assert isinstance(claims, list) and list(rows) == [c["id"] for c in claims]
    for c in claims:
        verdict, defaults, when = rows[c["id"]][1:4]
        expected = {"proved": "✔ right", "vacuous": "∅ never happens"}.get(c["verdict"])
        if c["verdict"] == "violated":
            expected = "◐ right only when …" if c["holds_when_cubes"] else "✘ wrong"
        assert expected is not None and verdict.startswith(expected), (c["id"], verdict)
        assert defaults == {True: "yes", False: "no"}[c["holds_under_defaults"]]
        names = {n for cube in c["holds_when_cubes"] for n in cube}
        for name in names:  # the settings page's name, never trackproof's
            owner, _, field = name.partition(".")
            group = "org" if owner == "org" else ("mailbox" if field in model.vocabulary.groups["mailbox"] else "party")
            label = model.vocabulary.groups[group][field].label.split(" (")[0]
            assert f"“{label}”" in when and name not in when, (c["id"], name, when)
        if c["holds_when_cubes"] == [{}]:
            assert when == "always"


def test_counterexamples_replay_and_are_drawn_on_their_mode(pack: Path, check_doc: dict[str, object],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    markdown = (pack / "report.md").read_text(encoding="utf-8")
    violated = [c for c in check_doc["claims"] if c["counterexample"]]  # type: ignore[union-attr]
    assert violated
    for c in violated:
        scenario = pack / "scenarios" / f"{c['id']}.yaml"
        assert scenario.read_text(encoding="utf-8") == c["counterexample"]["scenario"]
        status, out, _ = cli(capsys, "run", str(scenario))
        assert status == 0 and "Expectations: all" in out, c["id"]  # replays to the same outcome
        assert f"<a id=\"counterexample-{c['id'].lower()}\"></a>{c['id']}:" in markdown
        assert all(s in markdown for s in c["counterexample"]["sentences"])
        svg = html.unescape((pack / "diagrams" / f"{c['id']}-counterexample-simple.svg").read_text(encoding="utf-8"))
        for i, step in enumerate(c["counterexample"]["trace"], 1):  # every step numbered on the picture
            assert f"({i}" in svg and step["rule"] in svg, (c["id"], step)


def test_every_missed_scenario_is_listed(pack: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "trackproof", "gaps", FORUM, "--format", "json"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    gaps = json.loads(done.stdout)
    markdown = (pack / "report.md").read_text(encoding="utf-8")
    section = markdown.split("## 3. ", 1)[1].split("\n## ", 1)[0]
    for i, m in enumerate(gaps["missed"], 1):
        name = m["id"].replace("@", "-setup")
        assert f"{i}. {m['sentence']}" in section and f"(scenarios/missed/{name}.yaml)" in section
        assert (pack / "scenarios" / "missed" / f"{name}.yaml").read_text(encoding="utf-8") == m["scenario"]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.loads: list[str] = []  # anything the page would fetch
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for key in ("src", "srcset", "data", "poster"):
            if values.get(key):
                self.loads.append(f"{tag} {key}={values[key]}")
        if tag == "link":
            self.loads.append(f"link {values}")


def test_the_page_is_self_contained(pack: Path, model: Model) -> None:
    text = (pack / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    assert "script" not in page.tags and not page.loads and "@import" not in text and "url(" not in text
    local = [link for link in page.links if not link.startswith(("http://", "https://"))]
    missing = [link for link in local if not link.startswith("#") or link[1:] not in page.ids]
    assert not missing, f"links that go nowhere: {missing}"
    svgs = len(re.findall(r"<svg\b", text))
    assert svgs == 2 * (len(model.machines) + text.count('<article id="counterexample-'))
    assert len(re.findall(r'\bid="([^"]+)"', text)) == len(set(re.findall(r'\bid="([^"]+)"', text))), "ids repeat"
    assert "@media print" in text


def test_diagrams_in_the_pack_hold_the_modes_states(pack: Path, model: Model) -> None:
    from trackproof.render.dot import to_dot
    from trackproof.render.model import machine_diagram

    for name, machine in model.machines.items():
        for suffix, guards in (("-simple", False), ("", True)):
            svg = (pack / "diagrams" / f"{name}{suffix}.svg").read_text(encoding="utf-8")
            dot = to_dot(machine_diagram(model, machine, guards))
            assert stamp(svg) == dot_digest(dot)
            assert all(f"<title>{state}</title>" in svg for state in nodes_of(dot) - {"__start"})


def test_every_setting_says_where_to_find_it(model: Model) -> None:
    for group in ("org", "mailbox", "party"):
        labels = [a.label.split(" (")[0] for a in model.vocabulary.groups[group].values()]
        assert len(labels) == len(set(labels)), f"{group}: two settings would read the same"
        for a in model.vocabulary.groups[group].values():
            assert a.label and a.where and a.where_sources, f"{group}.{a.name}: label, where and its sources"
            assert all(k in model.sources for k in a.where_sources)


def test_a_claims_text_is_shown_as_text_in_the_markdown(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """report.md is for pasting where Markdown is rendered, and most renderers render inline HTML and links: a
    claim's text went in as written, so a claim file could put a script or a javascript: link on the page."""
    claims = tmp_path / "hostile.yaml"
    claims.write_text("""claims:
  - id: H1
    text: "<script>alert(1)</script> [click](javascript:alert(2)) & more"
    participants: {X: {kind: user}, C: {kind: contact}}
    events: [{send: {id: E1, from: C, to: [X]}}, sync]
    conclusion: "E1.stored"
""", encoding="utf-8")
    status, _, err = cli(capsys, "report", str(claims), "-o", str(tmp_path / "out"), "--format", "md")
    assert status == 0, err
    text, fenced = [], False
    for line in (tmp_path / "out" / "report.md").read_text(encoding="utf-8").splitlines():
        fenced = fenced != line.startswith("```")
        if not fenced and not line.startswith("```"):
            text.append(line)
    shown = "\n".join(text)
    assert "&lt;script&gt;" in shown and "\\[click\\](javascript" in shown and "&amp; more" in shown
    assert "<script" not in shown and "[click](" not in shown


def test_bad_input_to_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli(capsys, "report", FORUM, "--format", "pdf", "-o", str(tmp_path))[0] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("claims: [{id: A}]\n", encoding="utf-8")
    status, _, err = cli(capsys, "report", str(bad), "-o", str(tmp_path / "out"))
    assert status == 2 and f"{bad}:" in err and "error[" in err
    assert not (tmp_path / "out").exists()
    status, _, err = cli(capsys, "report", FORUM, "-o", str(bad))
    assert status == 2 and "error[E504]" in err and "not a folder" in err
