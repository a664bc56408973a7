"""Diagrams: exactly the IR's states and edges, fresh on disk, deterministic, traces drawn where the simulator goes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from trackproof.render.diagrams import EXTENSIONS, default_diagrams, highlighted, settings_example
from trackproof.render.dot import edges_of, nodes_of, to_dot
from trackproof.render.mermaid import to_mermaid
from trackproof.render.model import Diagram, edge_key, kept_as_is, machine_diagram
from trackproof.render.svg import available, dot_digest, stamp, to_svg
from trackproof.spec.ir import Model
from trackproof.spec.loader import load_model

from .conftest import EXAMPLES, ROOT, cli

DIAGRAMS = ROOT / "diagrams"


@pytest.mark.parametrize("machine", ["none", "server_side_sync", "outlook_client", "forward_mailbox"])
def test_machine_diagram_has_exactly_the_ir_states_and_edges(model: Model, machine: str) -> None:
    m = model.machines[machine]
    dot = to_dot(machine_diagram(model, m))
    assert nodes_of(dot) == {*m.states, "__start"}
    drawn = edges_of(dot) - {("__start", model.initial, "")}
    expected = {(t.source, t.dest or t.source, t.id) for t in m.transitions}
    found = {(a, b, rule.split(" (")[0]) for a, b, label in drawn for rule in label.split("\n")[-1].split(", ")}
    assert found == expected
    uncertain = {t.id for t in m.transitions if t.provenance.confidence != "H"}
    tagged = {rule.split(" (")[0] for _, _, label in drawn for rule in label.split("\n")[-1].split(", ")
              if rule.endswith((" (M)", " (L)"))}
    assert tagged == uncertain  # not by colour alone
    simple = to_dot(machine_diagram(model, m, guards=False))
    assert nodes_of(simple) == nodes_of(dot) and "[" not in "".join(label for _, _, label in edges_of(simple))
    loops = {(t.source, t.source) for t in kept_as_is(m)}
    assert {(a, b, label.split("\n")[-1]) for a, b, label in edges_of(simple)} == {
        (a, b, label.split("\n")[-1]) for a, b, label in drawn | {("__start", model.initial, "")}
        if (a, b) not in loops or "[" in label}


def committed(model: Model) -> list[Diagram]:
    """Every diagram kept in diagrams/: the default ones and the settings comparison example."""
    example = settings_example(model)
    return [*default_diagrams(model), *([example] if example else [])]


NAMES = [d.name for d in committed(load_model())]


@pytest.mark.parametrize("name", NAMES)
def test_committed_diagrams_are_fresh(model: Model, name: str) -> None:
    """Regenerate every diagram and compare with diagrams/: DOT and Mermaid byte for byte, SVG by the DOT it was
    drawn from (its renderer may differ from machine to machine). Fix: run `trackproof diagrams`."""
    diagram = next(d for d in committed(model) if d.name == name)
    dot = to_dot(diagram)
    for fmt, text in (("dot", dot), ("mermaid", to_mermaid(diagram))):
        path = DIAGRAMS / f"{name}{EXTENSIONS[fmt]}"
        assert path.is_file() and path.read_text(encoding="utf-8") == text, f"{path} is stale: run trackproof diagrams"
    svg_path = DIAGRAMS / f"{name}.svg"
    svg = svg_path.read_text(encoding="utf-8")
    assert stamp(svg) == dot_digest(dot), f"{svg_path} is stale: run trackproof diagrams"
    tree = ET.fromstring(svg.encode("utf-8"))  # well-formed
    titles = {t.text for t in tree.iter("{http://www.w3.org/2000/svg}title")}
    assert nodes_of(dot) <= titles, f"{svg_path} does not draw {sorted(nodes_of(dot) - titles)}"


def test_same_ir_gives_identical_bytes(model: Model) -> None:
    first = [(to_dot(d), to_mermaid(d)) for d in default_diagrams(model)]
    second = [(to_dot(d), to_mermaid(d)) for d in default_diagrams(model)]
    assert first == second
    dot = first[0][0]
    assert to_svg(dot, "wasm") == to_svg(dot, "wasm")


def test_highlighted_trace_is_the_simulator_path(model: Model, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "run.json"
    status, _, _ = cli(capsys, "run", str(ROOT / "examples" / "sss-reply-to-crm-email.yaml"), "--format", "json",
                       "-o", str(trace))
    assert status == 0
    doc = json.loads(trace.read_text())
    steps = sorted(((s["event"], key, s["rule"], s["from"], s["to"]) for key, e in doc["emails"].items()
                    for s in e["steps"] if s["rule"]))
    diagram = highlighted(model, str(trace), None)
    lit = {}
    for e in diagram.edges:
        if "highlight" in e.classes and e.label.startswith("("):
            for n in e.label[1:e.label.index(")")].split(", "):
                lit[int(n)] = e.key.split("|")
    assert sorted(lit) == list(range(1, len(steps) + 1))
    for i, (_, _, rule, source, dest) in enumerate(steps, 1):
        assert f"{rule}:{source}:{dest}" in lit[i]
    assert {n.id for n in diagram.nodes if "violated" in n.classes} == {"end_E1", "end_E2"}


def test_check_counterexample_can_be_highlighted(model: Model, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "check.json"
    cli(capsys, "check", str(ROOT / "proofs" / "forum-claims.yaml"), "--format", "json", "-o", str(out))
    status, _, err = cli(capsys, "diagrams", "--highlight", str(out), "--claim", "SSS-4b", "--out",
                               str(tmp_path / "d"), "--format", "dot,svg")
    assert status == 0 and "renderer" in err
    dot = (tmp_path / "d" / "server_side_sync-highlight.dot").read_text()
    assert "S-track-sent-items" in dot and "(4) sync" in dot


def test_wasm_renderer_needs_no_system_graphviz(model: Model, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    from trackproof.render.svg import choose

    assert choose("auto") == "wasm"
    svg = to_svg(to_dot(default_diagrams(model)[0]), "wasm")
    ET.fromstring(svg.encode("utf-8"))
    assert "by the wasm renderer" in svg


def test_forcing_a_missing_renderer_fails_with_a_hint(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    status, _, err = cli(capsys, "diagrams", "--renderer", "dot", "--out", str(tmp_path))
    assert status == 2 and "error[E502]" in err and "apt-get install graphviz" in err


NEEDS_DOT = pytest.mark.skipif(
    not available("dot") and not os.environ.get("TRACKPROOF_REQUIRE_DOT"),
    reason="Graphviz's dot is not installed here (CI installs it and sets TRACKPROOF_REQUIRE_DOT)")


@NEEDS_DOT
def test_dot_renderer(model: Model) -> None:
    svg = to_svg(to_dot(default_diagrams(model)[1]), "dot")
    ET.fromstring(svg.encode("utf-8"))
    assert "by the dot renderer" in svg and "pending_send" in svg


@NEEDS_DOT
def test_diagrams_with_dot_are_the_same_bytes_over_ten_runs(tmp_path: Path) -> None:
    """One `dot` process per diagram: a process drawing several graphs in a row carried state from one to the next
    and changed an SVG about one run in three (issue 11). Each run in its own process, with its own hash seed."""
    runs = []
    for i in range(10):
        out = tmp_path / f"run{i}"
        done = subprocess.run([sys.executable, "-m", "trackproof", "diagrams", "--renderer", "dot", "--out", str(out)],
                              env={**os.environ, "PYTHONHASHSEED": str(i)}, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr
        runs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert len(runs[0]) == 3 * len(default_diagrams(load_model()))
    for i, run in enumerate(runs[1:], 2):
        differ = sorted(name for name in run if run[name] != runs[0][name])
        assert run.keys() == runs[0].keys() and not differ, f"run {i} differs from run 1 in {differ}"


def test_settings_comparison_colours_what_differs(model: Model) -> None:
    diagram = settings_example(model)
    assert diagram is not None
    only_after = {e.key for e in diagram.edges if "only_b" in e.classes}
    assert only_after == {edge_key(t) for t in model.machines["server_side_sync"].transitions
                          if t.id in ("S-track-sent-items", "S-track-sent-items-fails", "S-reprocess-sent-items")}


def test_svgs_drawn_from_the_same_dot_are_kept(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick start's `trackproof diagrams` leaves the committed SVGs untouched, whichever renderer is
    installed; a stale SVG is redrawn; naming a renderer redraws them all."""
    out = tmp_path / "d"
    shutil.copytree(ROOT / "diagrams", out)
    before = {p.name: p.read_bytes() for p in out.glob("*.svg")}
    stale = out / "none.svg"
    stale.write_text(stale.read_text(encoding="utf-8").replace("drawn from DOT sha256 ", "drawn from DOT sha256 0"),
                     encoding="utf-8")
    from trackproof.render import svg as render

    drawn: list[int] = []
    real = render.to_svgs

    def counting(dots: list[str], renderer: str) -> list[str]:
        drawn.append(len(dots))
        return real(dots, renderer)

    monkeypatch.setattr(render, "to_svgs", counting)
    status, _, err = cli(capsys, "diagrams", "--out", str(out), "--renderer", "auto")
    assert status == 0 and drawn == [1] and "already drawn from the same DOT" in err
    after = {p.name: p.read_bytes() for p in out.glob("*.svg")}
    assert {n for n in after if after[n] != before[n]} <= {"none.svg"}
    assert stamp(after["none.svg"].decode("utf-8")) == stamp(before["none.svg"].decode("utf-8"))
    assert cli(capsys, "diagrams", "--out", str(out), "--renderer", "wasm")[0] == 0
    assert len(drawn) == 2 and drawn[1] > 1  # every default diagram, up to date or not


@pytest.mark.parametrize("args", [
    ["--claim", "SSS-2"],
    ["--machine", "outlook_client"],
    ["--compare", "server_side_sync", "outlook_client", "--machine", "outlook_client"],
    ["--highlight", "x.json", "--compare", "a.yaml", "b.yaml"],
], ids=["claim-without-highlight", "machine-without-compare", "machine-with-modes", "highlight-and-compare"])
def test_options_that_do_not_apply_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               args: list[str]) -> None:
    status, _, err = cli(capsys, "diagrams", "--out", str(tmp_path), *args)
    assert status == 2 and "error[E501]" in err
    assert not list(tmp_path.iterdir())


REPLY_NOT_TRACKED = """\
name: "A reply the filter drops"
participants:
  X: {kind: user, incoming: sss, outgoing: sss, approved: true, enabled: true, filter: no_email}
  C: {kind: lead}
events:
  - send: {id: E1, from: X, to: [C], via: crm}
  - sync
  - send: {id: E2, from: C, to: [X], reply_to: E1}
  - sync
"""


def test_swimlanes_show_each_event_and_what_changed_in_dynamics(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    scenario = tmp_path / "reply.yaml"
    scenario.write_text(REPLY_NOT_TRACKED, encoding="utf-8")
    status, out, _ = cli(capsys, "diagrams", "--swimlanes", str(scenario), "--out", str(tmp_path / "d"),
                         "--format", "mermaid,dot,svg", "--renderer", "wasm")
    assert status == 0 and sorted(out.split()) == [str(tmp_path / "d" / f"swimlanes-reply{x}")
                                                   for x in (".dot", ".mmd", ".svg")]
    mermaid = (tmp_path / "d" / "swimlanes-reply.mmd").read_text(encoding="utf-8").splitlines()
    assert "sequenceDiagram" in mermaid
    assert [line.strip() for line in mermaid if line.strip().startswith("participant")] == [
        "participant p_0 as X (user)", "participant p_1 as C (lead)", "participant p_2 as Dynamics 365"]
    rows = [line.split(": ", 1)[1] for line in mermaid if line.strip().startswith("Note over p_0,p_2")]
    assert rows[0].startswith("1. X sends E1 from Dynamics 365") and rows[-1] == "Outcome" and len(rows) == 5
    body = "\n".join(mermaid)
    # E1 goes to Dynamics 365 when X clicks Send, and to C only when a sync submits it (event 2)
    assert body.index("p_0->>p_2: Send E1") < body.index("2. A server-side") < body.index("p_2->>p_1: E1")
    assert "E1#58; pending_send → sent (S-submit)" in body
    assert "E2#58; no rule fired (S-folder-track, S-accept" in body
    assert "E1#58; stored (sent#59; From X#59; To C)<br/>E2#58; not stored" in body
    dot = (tmp_path / "d" / "swimlanes-reply.dot").read_text(encoding="utf-8")
    assert dot.count("rank=same") == 1 + 5  # the lanes' heads, then a row per event and the outcome
    ET.fromstring((tmp_path / "d" / "swimlanes-reply.svg").read_bytes())


def test_swimlanes_of_a_bad_scenario_is_an_input_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(REPLY_NOT_TRACKED.replace("from: C", "from: Z"), encoding="utf-8")
    status, _, err = cli(capsys, "diagrams", "--swimlanes", str(scenario), "--out", str(tmp_path / "d"))
    assert status == 2 and "error[E401]" in err and f"{scenario}:" in err
    assert cli(capsys, "diagrams", "--swimlanes", str(scenario), "--highlight", "x.json")[0] == 2


def test_the_swimlanes_example_in_the_docs_is_what_the_tool_draws(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    cli(capsys, "check", str(ROOT / "proofs" / "forum-claims.yaml"), "--counterexamples", str(tmp_path / "cex"))
    cli(capsys, "diagrams", "--swimlanes", str(tmp_path / "cex" / "SSS-2.yaml"), "--out", str(tmp_path / "d"),
        "--format", "mermaid")
    drawn = (tmp_path / "d" / "swimlanes-SSS-2.mmd").read_text(encoding="utf-8")
    body = drawn[drawn.index("sequenceDiagram"):]
    assert body in (ROOT / "docs" / "diagrams.md").read_text(encoding="utf-8")


def test_swimlanes_draw_who_really_sends(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An email sent from Outlook and tracked later is never drawn as sent again by Dynamics 365; a distribution
    list passes the email on to its members (found in review)."""
    for name in ("legacy-outlook-send-tracked", "app-track-outlook-sent", "sss-distribution-list"):
        assert cli(capsys, "diagrams", "--swimlanes", str(EXAMPLES / f"{name}.yaml"), "--out", str(tmp_path),
                   "--format", "mermaid")[0] == 0
    for name in ("legacy-outlook-send-tracked", "app-track-outlook-sent"):
        lines = (tmp_path / f"swimlanes-{name}.mmd").read_text(encoding="utf-8").splitlines()
        crm = next(line.split()[1] for line in lines if line.strip().endswith("as Dynamics 365"))
        assert not [line for line in lines if line.strip().startswith(f"{crm}->>")], name
    lists = (tmp_path / "swimlanes-sss-distribution-list.mmd").read_text(encoding="utf-8")
    assert "p_3->>p_0: E2" in lists and "p_3->>p_1: E2" in lists  # ALL -> X and Y
