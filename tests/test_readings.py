"""Readings of disputed points (model/readings.yaml): docs/readings.md lists each point and reading as the model has
them; scenarios and claims choose readings, bad choices are refused with a code; the run and check say which
reading an answer rests on; the prover's verdict under each reading agrees with brute force, for fixed-premise
claims and for universe claims (one exploration with the readings free, split by reading)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trackproof.errors import TrackproofError
from trackproof.prove.brute import brute_force, scope_points, universe_run, universe_verdict, verdict_of
from trackproof.prove.setup import prepare
from trackproof.prove.verdict import prove_claim
from trackproof.simulate.engine import simulate
from trackproof.spec.claims import load_claims, with_readings
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

UNIVERSES = ROOT / "tests" / "claims" / "universe-readings.yaml"

DOC = ROOT / "docs" / "readings.md"
BEHAVIOURS = ROOT / "proofs" / "behaviours.yaml"


def tables(model: Model) -> str:
    """The tables docs/readings.md must hold between `<!-- readings -->` and `<!-- /readings -->`."""
    out = []
    for point, r in model.readings.items():
        out += [f"### {point}: {r.question}", "", f"Rules: {', '.join(r.rules)}. Default: `{r.default}`.", "",
                "| Reading | Confidence | Sources | What it says |", "|---|---|---|---|"]
        out += [f"| `{c.name}`{' (default)' if c.name == r.default else ''} | {c.confidence} | "
                f"{', '.join(c.sources)} | {c.says} |" for c in r.choices.values()]
        out.append("")
    return "\n".join(out)


def test_the_doc_lists_every_reading_as_the_model_has_it(model: Model) -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- readings -->\n", 1)[1].split("<!-- /readings -->", 1)[0]
    assert block == tables(model) + "\n", "docs/readings.md is stale; its block should be:\n" + tables(model)


def _scenario(tmp_path: Path, readings: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"readings: {readings}\nparticipants:\n  X: {{kind: user, approved: true, enabled: true, "
                    "filter: all}\n  C: {kind: contact}\nsettings:\n  org: {use_correlation: false}\n"
                    "events:\n  - send: {id: E1, from: C, to: [X]}\n  - sync\n", encoding="utf-8")
    return path


def test_a_scenario_plays_under_the_reading_it_chooses_and_says_so(model: Model, tmp_path: Path) -> None:
    default = simulate(model, load_scenario(_scenario(tmp_path, "{}"), model))[0]
    gated = simulate(model, load_scenario(_scenario(tmp_path, "{R91: gates_filters}"), model))[0]
    assert default.stored and default.readings == (("R91", "header_only"),)
    assert not gated.stored and gated.readings == (("R91", "gates_filters"),) and gated.confidence == "L"


@pytest.mark.parametrize(("readings", "code"), [("{R0: x}", "E402"), ("{R91: maybe}", "E207"), ("[R91]", "E104")])
def test_a_bad_choice_is_refused_with_its_code(model: Model, tmp_path: Path, readings: str, code: str) -> None:
    with pytest.raises(TrackproofError) as err:
        load_scenario(_scenario(tmp_path, readings), model)
    assert err.value.code == code


def test_a_verdict_says_which_reading_it_depends_on_and_agrees_with_brute_force(model: Model) -> None:
    claim = next(c for c in load_claims(BEHAVIOURS, model) if c.id == "BEH-correlation-off-stops-tracking")
    verdict = prove_claim(model, claim).verdict
    assert verdict.verdict == "violated"
    (r91,) = [r for r in verdict.readings if r.point == "R91"]
    assert r91.depends and {c: v for c, v, _ in r91.verdicts} == {
        "header_only": "violated", "gates_filters": "proved", "all_correlation": "violated"}
    # brute force over the settings that matter, under each reading chosen as the claim's own
    settings = [s for s in verdict.scope.settings if s[0] != "reading" and s[1] in ("filter",)]
    for choice, expected, _ in r91.verdicts:
        (fixed,) = with_readings(model, [claim], [f"R91={choice}"])
        assert verdict_of(brute_force(model, fixed, settings)) == expected, choice
        assert prove_claim(model, fixed).verdict.verdict == expected


def test_check_decides_under_a_reading_given_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = cli(capsys, "check", str(BEHAVIOURS), "--no-cache", "--jobs", "1", "--exit-zero")
    assert "BEH-correlation-off-stops-tracking: VIOLATED" in text
    assert "Depends on R91 (What does turning off 'Use correlation to track email conversations' block?): with " \
           "header_only (the default) violated; with gates_filters proved; with all_correlation violated." in text
    _, text, _ = cli(capsys, "check", str(BEHAVIOURS), "--no-cache", "--jobs", "1", "--exit-zero",
                     "--reading", "R91=gates_filters")
    assert "BEH-correlation-off-stops-tracking: PROVED" in text
    assert "Under the reading R91 = gates_filters (chosen; the default is header_only)" in text
    status, _, err = cli(capsys, "check", str(BEHAVIOURS), "--reading", "R91=nope")
    assert status == 2 and "error[E207]" in err


def test_assumes_names_the_uncertain_defaults_an_answer_rests_on(capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = cli(capsys, "check", str(ROOT / "proofs" / "forum-claims.yaml"), "--no-cache", "--jobs", "1",
                     "--exit-zero")
    block = text.split("OUT-2a: VIOLATED", 1)[1].split("\n\n", 1)[0]
    assert "Assumes: X.check_incoming = false (documented default of confidence M; with true it does NOT hold); " \
           "X.send_with_outlook = true (documented default of confidence L; with false the premise cannot happen)" \
           in block


def test_assumes_names_the_uncertain_defaults_an_effect_rests_on(capsys: pytest.CaptureFixture[str]) -> None:
    """Which mailboxes get a queue item is an effect of acceptance, not a guard: the uncertain default it reads
    (CreateQueueItemForSynchronizingMailbox, M) is named as what the answer rests on, as its condition says."""
    _, text, _ = cli(capsys, "check", str(ROOT / "proofs" / "fields.yaml"), "--no-cache", "--jobs", "1",
                     "--exit-zero")
    block = text.split("FLD-bcc-queue-item: VIOLATED", 1)[1].split("\n\n", 1)[0]
    assert "Assumes: org.queue_item_for_synchronizing_mailbox = true (documented default of confidence M; with " \
           "false it does NOT hold)" in block


#: the verdict under each reading of R91 the exploration gives (checked against brute force below, not trusted)
UNIVERSE_DEPENDENCE = {
    "uni-read-nothing-stored-without-correlation": {"header_only": "violated", "gates_filters": "proved",
                                                    "all_correlation": "violated"},
    "uni-read-stored-reachable": {"header_only": "proved", "gates_filters": "violated", "all_correlation": "proved"},
    "uni-read-stored-as-incoming": {"header_only": "proved", "gates_filters": "vacuous", "all_correlation": "proved"},
}


@pytest.mark.parametrize("claim_id", list(UNIVERSE_DEPENDENCE))
def test_a_universe_verdict_says_which_reading_it_depends_on_and_agrees_with_brute_force(model: Model,
                                                                                        claim_id: str) -> None:
    """The verdict under each reading, and the answer under Dynamics 365's defaults, from one exploration with the
    readings free: the same as brute force (every setting x every event sequence) with that reading chosen, and as
    the exploration with it chosen (`--reading`)."""
    claim = next(c for c in load_claims(UNIVERSES, model) if c.id == claim_id)
    verdict = prove_claim(model, claim).verdict
    (r91,) = verdict.readings
    assert r91.point == "R91" and r91.depends
    assert {c: v for c, v, _ in r91.verdicts} == UNIVERSE_DEPENDENCE[claim_id]
    assert verdict.verdict == UNIVERSE_DEPENDENCE[claim_id]["header_only"]  # the default reading's
    for choice, expected, at_defaults in r91.verdicts:
        (fixed,) = with_readings(model, [claim], [f"R91={choice}"])
        setup = prepare(model, fixed)
        points = scope_points(model, fixed, setup.space, setup.base)
        runs = [universe_run(model, fixed, settings) for settings in points]
        assert universe_verdict(runs) == expected, choice
        if expected != "vacuous":
            defaults = {s: v for s, v in setup.space.defaults.items() if s[1] != "kind"}
            at = [r.holds for s, r in zip(points, runs, strict=True) if all(s[k] == v for k, v in defaults.items())]
            assert at_defaults == all(at), choice
        chosen = prove_claim(model, fixed).verdict
        assert chosen.verdict == expected and chosen.readings == (), choice


def test_check_shows_a_universe_claims_dependence_and_decides_under_the_reading_given(
        capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = cli(capsys, "check", str(UNIVERSES), "--no-cache", "--jobs", "1", "--exit-zero")
    block = text.split("uni-read-nothing-stored-without-correlation: VIOLATED", 1)[1].split("\n\n", 1)[0]
    assert "Depends on R91 (What does turning off 'Use correlation to track email conversations' block?): with " \
           "header_only (the default) violated; with gates_filters proved; with all_correlation violated." in block
    _, text, _ = cli(capsys, "check", str(UNIVERSES), "--no-cache", "--jobs", "1", "--exit-zero",
                     "--reading", "R91=gates_filters")
    block = text.split("uni-read-nothing-stored-without-correlation: PROVED", 1)[1].split("\n\n", 1)[0]
    assert "Under the reading R91 = gates_filters (chosen; the default is header_only)" in block
    assert "Depends on" not in block
    assert "uni-read-stored-reachable: VIOLATED" in text and "uni-read-stored-as-incoming: VACUOUS" in text
    _, out, _ = cli(capsys, "check", str(UNIVERSES), "--no-cache", "--jobs", "1", "--exit-zero", "--format", "json")
    doc = {c["id"]: c for c in json.loads(out)["claims"]}
    (entry,) = doc["uni-read-stored-reachable"]["readings"]
    assert entry["point"] == "R91" and entry["default"] == "header_only" and entry["depends"]
    assert [(v["reading"], v["verdict"], v["holds_under_defaults"]) for v in entry["verdicts"]] == [
        ("header_only", "proved", True), ("gates_filters", "violated", False), ("all_correlation", "proved", True)]
