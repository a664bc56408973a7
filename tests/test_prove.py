"""The prover: verdicts in pairs, agreement with brute force, counterexamples that replay, exactness of the bound."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import z3

from trackproof.prove import regions, rulepaths
from trackproof.prove import verdict as verdict_module
from trackproof.prove.brute import brute_force, domain, verdict_of
from trackproof.prove.records import Proof, Verdict
from trackproof.prove.verdict import prove_claim
from trackproof.report.check import scenario_yaml
from trackproof.report.run import compare
from trackproof.simulate.engine import simulate
from trackproof.spec.claims import Claim, load_claims
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

SMALL = ROOT / "tests" / "claims" / "small.yaml"
FORUM = ROOT / "proofs" / "forum-claims.yaml"


@pytest.fixture(scope="module")
def small(model: Model) -> dict[str, tuple[Claim, Verdict]]:
    return {c.id: (c, prove_claim(model, c).verdict) for c in load_claims(SMALL, model)}


@pytest.fixture(scope="module")
def forum_proofs(model: Model) -> dict[str, Proof]:
    return {c.id: prove_claim(model, c) for c in load_claims(FORUM, model)}


@pytest.fixture(scope="module")
def forum(forum_proofs: dict[str, Proof]) -> dict[str, tuple[Claim, Verdict]]:
    return {cid: (p.verdict.claim, p.verdict) for cid, p in forum_proofs.items()}


def check(verdict: Verdict, expected: str) -> None:
    """One helper checks a verdict: its kind, and that a violated one carries a counterexample."""
    assert verdict.verdict == expected, (verdict.claim.id, verdict.verdict, verdict.reason)
    assert (verdict.counterexample is not None) == (expected == "violated")
    if expected in ("proved", "violated"):
        assert verdict.rules


def _in_cube(cube: dict[str, list[Any]], point: dict[str, Any]) -> bool:
    return all(point[name] in values for name, values in cube.items())


@pytest.mark.parametrize("claim_id", ["small-contact-emails-x", "small-outlook-reply", "small-queue-cc",
                                      "small-send-from-crm", "small-always", "small-record-kinds",
                                      "small-shared-address"])
def test_brute_force_agrees_with_the_prover(model: Model, small: dict[str, tuple[Claim, Verdict]],
                                            claim_id: str) -> None:
    claim, verdict = small[claim_id]
    settings = list(verdict.scope.settings)
    results = brute_force(model, claim, settings)
    assert verdict.verdict == verdict_of(results)
    labels = [verdict.scope.label(s) for s in settings]
    assert verdict.holds_when is not None
    for values, holds in results.items():
        point = dict(zip(labels, values, strict=True))
        covered = any(_in_cube(cube, point) for cube in verdict.holds_when)
        if holds is True:
            assert covered, f"{claim_id}: holds at {point} but holds_when does not say so"
        elif holds is False:
            assert not covered, f"{claim_id}: fails at {point} but holds_when includes it"
    defaults = tuple(verdict.scope.defaults[s] for s in settings)
    assert verdict.holds_under_defaults == (results[defaults] is not False)


@pytest.mark.parametrize("claim_id", ["small-contact-emails-x", "small-outlook-reply", "small-queue-cc",
                                      "small-send-from-crm", "small-record-kinds", "small-shared-address"])
def test_counterexample_is_the_canonical_one_brute_force_finds(model: Model, small: dict[str, tuple[Claim, Verdict]],
                                                               claim_id: str) -> None:
    """Fewest settings changed from the defaults, then, setting by setting in the scope's order, the earliest value
    (the default, then the domain's order): computed here by enumeration, by the prover with Z3."""
    claim, verdict = small[claim_id]
    if verdict.verdict != "violated":
        pytest.skip("proved: no counterexample")
    assert verdict.counterexample is not None
    space = verdict.scope
    settings = list(space.settings)
    results = brute_force(model, claim, settings)

    def rank(values: tuple[Any, ...]) -> tuple[Any, ...]:
        changed = sum(v != space.defaults[s] for s, v in zip(settings, values, strict=True))
        order = []
        for s, v in zip(settings, values, strict=True):
            preference = [space.defaults[s], *(d for d in domain(model, claim, s) if d != space.defaults[s])]
            order.append(preference.index(v))
        return (changed, *order)

    expected = min((values for values, holds in results.items() if holds is False), key=rank)
    chosen = tuple(verdict.counterexample.settings[s] for s in settings)
    assert chosen == expected


@pytest.mark.parametrize("claim_id", ["SSS-2", "SSS-4b", "OUT-2a", "OUT-3a", "OUT-4a"])
def test_verdicts_do_not_depend_on_z3_search_order(model: Model, forum: dict[str, tuple[Claim, Verdict]],
                                                   claim_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Z3's default solver (preprocessing tactics, another search) and another random seed find other models
    along the way; the counterexample and holds_when shown stay the same (both are chosen canonically from the
    regions, not taken from Z3's models)."""
    claim, verdict = forum[claim_id]
    for module in (rulepaths, regions, verdict_module):
        monkeypatch.setattr(module, "new_solver", z3.Solver)
    z3.set_param("smt.random_seed", 12345)
    z3.set_param("sat.random_seed", 12345)
    try:
        again = prove_claim(model, claim).verdict
    finally:
        z3.set_param("smt.random_seed", 0)
        z3.set_param("sat.random_seed", 0)
    assert again.holds_when == verdict.holds_when
    assert (again.counterexample is None) == (verdict.counterexample is None)
    if verdict.counterexample is not None and again.counterexample is not None:
        assert again.counterexample.settings == verdict.counterexample.settings


CONCLUSIONS = ROOT / "tests" / "claims" / "conclusions.yaml"
HELD = ROOT / "tests" / "claims" / "held.yaml"


def _ids(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("id: ")[1].split("#")[0].strip() for line in lines if "  - id: " in line]


@pytest.mark.parametrize(("path", "claim_id"), [*((CONCLUSIONS, i) for i in _ids(CONCLUSIONS)),
                                                *((HELD, i) for i in _ids(HELD))])
def test_conclusions_reading_settings_agree_with_brute_force(model: Model, path: Path, claim_id: str) -> None:
    """Conclusions reading settings (conclusions.yaml) and decisions held back until read (held.yaml): the verdict
    and holds_when agree with brute force over the whole scope."""
    claim = next(c for c in load_claims(path, model) if c.id == claim_id)
    verdict = prove_claim(model, claim).verdict
    assert verdict.holds_when is not None
    settings = list(verdict.scope.settings)
    results = brute_force(model, claim, settings)
    assert verdict.verdict == verdict_of(results)
    labels = [verdict.scope.label(s) for s in settings]
    for values, holds in results.items():
        point = dict(zip(labels, values, strict=True))
        assert any(_in_cube(cube, point) for cube in verdict.holds_when) == bool(holds), (claim_id, point)


def test_proved_and_violated_pair(forum: dict[str, tuple[Claim, Verdict]]) -> None:
    check(forum["SSS-1"][1], "proved")
    assert forum["SSS-1"][1].holds_when == [{}]  # always
    violated = forum["SSS-3"][1]
    check(violated, "violated")
    assert violated.holds_under_defaults is False
    cex = violated.counterexample
    assert cex is not None and not cex.outcomes["E1"].stored
    assert cex.settings[("X", "filter")] == "in_response"  # the documented default is the counterexample
    # Under the default reading of R91, 'Use correlation' does not gate the filters: it is not in the condition.
    assert violated.holds_when == [{"X.filter": ["all", "leads_contacts_accounts", "email_enabled"]}]


def test_outlook_reply_needs_auto_track_sent_items(forum: dict[str, tuple[Claim, Verdict]]) -> None:
    verdict = forum["SSS-4b"][1]
    check(verdict, "violated")
    assert verdict.holds_under_defaults is True
    cex = verdict.counterexample
    assert cex is not None and cex.settings[("org", "auto_track_sent_items")] is True
    assert cex.outcomes["E2"].stored and "S-track-sent-items" in cex.outcomes["E2"].rules


def test_vacuous_claim_is_never_proved(model: Model) -> None:
    claim = next(c for c in load_claims(ROOT / "proofs" / "invariants.yaml", model)
                 if c.id == "INV-reply-to-unsent-is-impossible")
    verdict = prove_claim(model, claim).verdict
    check(verdict, "vacuous")
    assert "never left its sender" in verdict.reason


@pytest.mark.parametrize("claim_id", ["SSS-2", "SSS-3", "SSS-4b", "SSS-5", "SSS-6", "OUT-2a", "OUT-3a", "OUT-4b",
                                      "OUT-5", "OUT-6"])
def test_counterexample_replays_with_trackproof_run(model: Model, forum: dict[str, tuple[Claim, Verdict]],
                                                    tmp_path: Path, claim_id: str) -> None:
    _, verdict = forum[claim_id]
    cex = verdict.counterexample
    assert cex is not None
    path = tmp_path / f"{claim_id}.yaml"
    path.write_text(scenario_yaml(verdict, cex), encoding="utf-8")
    scenario = load_scenario(path, model)
    outcomes = simulate(model, scenario)
    assert compare(scenario, outcomes) == []
    assert {o.key: o.stored for o in outcomes} == {k: o.stored for k, o in cex.outcomes.items()}


def test_one_more_sync_changes_no_verdict(model: Model, forum: dict[str, tuple[Claim, Verdict]]) -> None:
    """The premise's sync cycles are enough: a deeper unrolling (one more cycle) finds nothing new."""
    for claim, verdict in forum.values():
        if not any(e.kind == "sync" for e in claim.scenario.events):
            continue
        extra = replace(claim.scenario.events[-1], number=len(claim.scenario.events) + 1, kind="sync", params={})
        deeper = replace(claim, scenario=replace(claim.scenario, events=(*claim.scenario.events, extra)))
        again = prove_claim(model, deeper).verdict
        assert (again.verdict, again.holds_when) == (verdict.verdict, verdict.holds_when), claim.id


def test_check_json_contract_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "check", str(SMALL), "--format", "json")
    assert status == 1  # some claims are violated
    doc = json.loads(out)
    assert doc["summary"]["total"] == len(SMALL.read_text(encoding="utf-8").split("\n  - id: ")) - 1
    for claim in doc["claims"]:
        assert {"id", "text", "verdict", "holds_under_defaults", "holds_when", "counterexample", "rules"} <= set(claim)
        for rule in claim["rules"]:
            assert rule["sources"] and rule["confidence"] in "HML"
        if claim["verdict"] == "violated":
            assert claim["counterexample"]["sentences"] and claim["counterexample"]["trace"]
            assert claim["counterexample"]["scenario"].startswith("name:")


def test_check_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    first = cli(capsys, "check", str(SMALL), "--format", "json")[1]
    second = cli(capsys, "check", str(SMALL), "--format", "json")[1]
    assert first == second


def test_unknown_is_exit_3_and_never_proved(capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdict_module, "enumerate_paths", lambda *args, **kwargs: ([], "Z3 gave up: timeout"))
    status, out, _ = cli(capsys, "check", str(SMALL))
    assert status == 3
    assert "PROVED" not in out and "UNKNOWN" in out and "This is not a proof" in out


@pytest.mark.parametrize(("text", "code"), [
    ("conclusion: \"E9.stored\"", "E203"),
    ("conclusion: \"E1.stored == 'yes'\"", "E204"),
    ("free: [X.filtr]", "E402"),
])
def test_bad_claim_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, code: str) -> None:
    original = SMALL.read_text(encoding="utf-8")
    broken = original.replace("conclusion: \"E1.stored\"", text, 1) if text.startswith("conclusion") else \
        original.replace("free: [X.filter, org.use_correlation", text.replace("]", ", org.use_correlation"), 1)
    path = tmp_path / "bad.yaml"
    path.write_text(broken, encoding="utf-8")
    status, out, err = cli(capsys, "check", str(path))
    assert status == 2 and out == ""
    assert f"error[{code}]" in err and "Traceback" not in err


def test_contradicting_claims_give_a_minimal_set(model: Model) -> None:
    from trackproof.prove.consistency import consistency

    proofs = [prove_claim(model, c) for c in load_claims(ROOT / "tests" / "claims" / "contradiction.yaml", model)]
    [joint] = consistency(model, proofs)
    assert not joint.consistent
    assert joint.conflict == ("new-email-stored", "only-replies-stored")  # not the third, which fits either


def test_the_conflicting_set_does_not_depend_on_z3s_core(model: Model, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleting claims in their order from all of them: the last two conflict, and so do the two before; the
    set named is the last two (the first is dropped first), whichever solver and seed find the core."""
    from trackproof.prove import consistency as module

    proofs = [prove_claim(model, c) for c in load_claims(ROOT / "tests" / "claims" / "two-conflicts.yaml", model)]
    [joint] = module.consistency(model, proofs)
    assert joint.conflict == ("not-stored", "stored")
    monkeypatch.setattr(module, "new_solver", z3.Solver)
    z3.set_param("smt.random_seed", 7)
    try:
        [again] = module.consistency(model, proofs)
    finally:
        z3.set_param("smt.random_seed", 0)
    assert again.conflict == joint.conflict


def test_consistent_claims_say_when_they_all_hold(model: Model, forum_proofs: dict[str, Proof]) -> None:
    from trackproof.prove.consistency import consistency

    sss = [p for cid, p in forum_proofs.items() if cid.startswith("SSS")]
    [joint] = consistency(model, sss)
    assert joint.consistent
    assert all(cube["X.filter"] == ["all", "leads_contacts_accounts", "email_enabled"] for cube in joint.together_when)


def test_junit_output_for_ci(capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    status, out, _ = cli(capsys, "check", str(SMALL), "--format", "junit")
    assert status == 1
    root = ET.fromstring(out)
    cases = root.findall(".//testcase")
    assert len(cases) == len(SMALL.read_text(encoding="utf-8").split("\n  - id: ")) - 1
    failed = [c for c in cases if c.find("failure") is not None]
    assert failed and all("violated" in c.find("failure").get("message", "") for c in failed)  # type: ignore[union-attr]
    assert "Settings:" in (failed[0].find("failure").text or "")  # type: ignore[union-attr]


def test_sarif_and_itf(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "check", str(SMALL), "--format", "sarif")
    assert status == 1
    doc = json.loads(out)
    results = doc["runs"][0]["results"]
    assert doc["version"] == "2.1.0" and results
    assert all(r["ruleId"] == "violated-claim" and r["locations"][0]["physicalLocation"]["region"]["startLine"] > 1
               for r in results)
    _, out, _ = cli(capsys, "check", str(SMALL), "--format", "json")
    itf = next(c for c in json.loads(out)["claims"] if c["counterexample"])["counterexample"]["itf"]
    assert itf["#meta"]["format"] == "ITF" and itf["states"][0]["#meta"]["index"] == 0
    assert len(itf["states"]) >= 2 and set(itf["vars"]) <= set(itf["states"][-1])


def test_holds_when_too_long_to_state_is_unknown_not_truncated(model: Model, monkeypatch: pytest.MonkeyPatch) -> None:
    """A condition that needs more cubes than shown is reported unknown, never cut short (which would be wrong)."""
    claim = next(c for c in load_claims(SMALL, model) if c.id == "small-contact-emails-x")
    full = prove_claim(model, claim).verdict
    assert full.holds_when is not None and len(full.holds_when) > 1
    monkeypatch.setattr(regions, "MAX_CUBES", 1)
    capped = prove_claim(model, claim).verdict
    assert capped.holds_when is None
    assert capped.verdict == full.verdict


def test_more_counterexamples_each_break_the_claim_another_minimal_way(model: Model) -> None:
    """--examples: every counterexample violates the claim (brute force agrees), none changes all the settings
    another one changes, and undoing any one of its changes no longer breaks the claim (each set is minimal)."""
    from trackproof.prove.brute import evaluate

    claim = next(c for c in load_claims(FORUM, model) if c.id == "SSS-2")
    verdict = prove_claim(model, claim, examples=4).verdict
    assert verdict.counterexample is not None
    runs = [verdict.counterexample, *verdict.others]
    assert len(runs) >= 3  # the filter, correlation off, and header correlation ignored without tokens
    defaults = verdict.scope.defaults
    changed = [{s for s, v in r.settings.items() if s in defaults and v != defaults[s]} for r in runs]
    for i, run in enumerate(runs):
        assert evaluate(model, claim, run.settings) is False
        assert not any(changed[j] <= changed[i] for j in range(len(runs)) if j != i)
        for s in changed[i]:
            undone = {**run.settings, s: defaults[s]}
            assert evaluate(model, claim, undone) is not False, (claim.id, s)
    assert prove_claim(model, claim).verdict.others == ()


def test_more_counterexamples_in_json_text_and_files(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    model: Model) -> None:
    out = tmp_path / "cex"
    status, text, _ = cli(capsys, "check", str(FORUM), "--examples", "3", "--counterexamples", str(out))
    assert status == 1 and "Also fails for another reason" in text
    assert (out / "SSS-2.yaml").exists() and (out / "SSS-2-2.yaml").exists() and (out / "SSS-2-3.yaml").exists()
    assert "Counterexample 2 to SSS-2" in (out / "SSS-2-2.yaml").read_text(encoding="utf-8")
    cli(capsys, "check", str(FORUM), "--examples", "2", "--counterexamples", str(out))
    assert (out / "SSS-2-2.yaml").exists() and not (out / "SSS-2-3.yaml").exists()  # none left from the last run
    for extra in out.glob("*-[0-9].yaml"):  # each replays to the outcome it states
        scenario = load_scenario(extra, model)
        assert compare(scenario, simulate(model, scenario)) == [], extra.name
    doc = json.loads(cli(capsys, "check", str(FORUM), "--examples", "2", "--format", "json")[1])
    sss2 = next(c for c in doc["claims"] if c["id"] == "SSS-2")
    assert len(sss2["more_counterexamples"]) == 1
    assert sss2["more_counterexamples"][0]["settings"] != sss2["counterexample"]["settings"]
    assert all(c["more_counterexamples"] == [] for c in json.loads(
        cli(capsys, "check", str(FORUM), "--format", "json")[1])["claims"])


@pytest.mark.parametrize("claim_id", [line.split("id: ")[1].strip() for line in
                                      CONCLUSIONS.read_text(encoding="utf-8").splitlines() if "  - id: " in line])
def test_z3_terms_agree_with_the_simulator_on_every_conclusion(model: Model, claim_id: str) -> None:
    """The prover's compilation of expressions to Z3 (symbolic.Builder) against the simulator's, on conclusions
    that read every kind of outcome, absent parties (`E1.accepted_by.kind` with no acceptor) and overwritten kinds:
    under each rule path's own settings, the term must evaluate to what the simulator computed."""
    from trackproof.prove.rulepaths import premise_under
    from trackproof.prove.terms import Builder, ReadLog, quiet
    from trackproof.simulate.engine import Simulator
    from trackproof.simulate.outcomes import outcome_env
    from trackproof.spec.claims import OUTCOME

    claim = next(c for c in load_claims(CONCLUSIONS, model) if c.id == claim_id)
    nodes, stack = [], [claim.conclusion]
    while stack:
        nodes.append(stack.pop())
        stack.extend(nodes[-1].args)
    if any(n.type == OUTCOME and n.kind in ("if", "coalesce") for n in nodes):
        pytest.skip("a choice between emails: no model expression has one (guards never name outcomes)")
    proof = prove_claim(model, claim)
    space = proof.space
    for path in proof.paths:
        if not path.feasible:
            continue
        scenario = premise_under(claim, path.settings)
        sim = Simulator(model, scenario)
        outcomes = {o.key: o for o in sim.run()}
        env = outcome_env(outcomes, sim.world, scenario.participants, (k for k in outcomes if "." not in k))
        builder = Builder(space, ReadLog(sim.world), sim.compiler)
        term = builder.term(claim.conclusion, quiet(env))
        pairs = [(space.vars[k], space.const(v, space.attrs[k].type)) for k, v in path.settings.items()]
        value = z3.simplify(z3.substitute(term, *pairs))
        assert z3.is_true(value) == path.holds and (z3.is_true(value) or z3.is_false(value)), (claim_id, value)
        for pin in builder.pins:  # what the term assumed of the run holds under its own settings
            assert z3.is_true(z3.simplify(z3.substitute(pin, *pairs))), (claim_id, pin)


@pytest.mark.parametrize("path", sorted((ROOT / "proofs").glob("*.yaml")), ids=lambda p: p.name)
def test_term_reuse_changes_no_answer(model: Model, path: Path) -> None:
    """Term reuse (prove/reuse.py) is a speed-up only: with it off, every claim under proofs/ gets the same verdict,
    holds_when, counterexample, rules and confidence."""
    for claim in load_claims(path, model):
        on = prove_claim(model, claim, examples=2, reuse=True).verdict
        off = prove_claim(model, claim, examples=2, reuse=False).verdict
        assert (on.verdict, on.holds_under_defaults, on.holds_when) == (off.verdict, off.holds_under_defaults,
                                                                        off.holds_when), claim.id
        assert (on.rules, on.confidence, on.rule_paths) == (off.rules, off.confidence, off.rule_paths), claim.id
        assert [e.settings for e in (on.counterexample, *on.others) if e] == \
            [e.settings for e in (off.counterexample, *off.others) if e], claim.id


def test_z3api_agrees_with_z3s_own_functions() -> None:
    """The C-API fast paths build the same formulas as z3's own Python functions (so a z3 release that changes
    its Python layer but keeps its C API changes nothing here)."""
    from trackproof.prove import z3api

    a, b, c = z3.Bools("a b c")
    sort, values = z3api.enum_sort("test-colour", ("red", "green"))
    x = z3.Const("x", sort)
    assert z3api.all_of([a, b, c]).eq(z3.And(a, b, c)) and z3api.any_of([a, b]).eq(z3.Or(a, b))
    assert z3api.all_of([]).eq(z3.BoolVal(True)) and z3api.any_of([]).eq(z3.BoolVal(False))
    assert z3api.eq(x, values["red"]).eq(x == values["red"]) and z3api.neg(a).eq(z3.Not(a))
    assert z3api.ite(a, values["red"], values["green"]).eq(z3.If(a, values["red"], values["green"]))
    assert z3api.implies(a, b).eq(z3.Implies(a, b))
    assert z3api.constants([z3.And(a, x == values["red"])]) == {"a", "x"}
    solver = z3api.new_solver()
    z3api.add(solver, [z3.Or(a, b)])
    assert z3api.check(solver, z3.Not(a), z3.Not(b)) == z3api.UNSAT
    assert z3api.core_ids(solver) <= {z3.Not(a).get_id(), z3.Not(b).get_id()}
    assert z3api.check(solver, z3.Not(a)) == z3api.SAT
    model = solver.model()
    assert z3api.model_value(model, z3api.declaration(b)) is True


def test_a_claim_with_too_many_rule_paths_is_unknown_and_says_what_to_narrow(model: Model,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    claim = next(c for c in load_claims(FORUM, model) if c.id == "SSS-2")
    monkeypatch.setattr(rulepaths, "MAX_PATHS", 2)
    verdict = prove_claim(model, claim).verdict
    assert verdict.verdict == "unknown" and verdict.holds_when is None and verdict.counterexample is None
    assert "more than 2 rule paths: narrow the claim" in verdict.reason and "scope.fixed" in verdict.reason
    assert any(name in verdict.reason for name in ("X.filter", "org.use_correlation"))


def test_a_path_found_again_is_dropped_once_and_an_error_the_second_time() -> None:
    """A run whose settings kept a default the solver did not propose may follow a path found before: the tree says
    AGAIN (the caller blocks it and keeps one copy of the path); proposed once more after the block, the simulator
    and the terms disagree, and that is an internal error rather than a loop."""
    import z3

    from trackproof.prove.rulepaths import AGAIN, INSIDE, OUTSIDE, DecisionTree

    a, b = z3.Bools("a b")
    tree = DecisionTree()
    assert tree.insert((a, b), tree.root) == INSIDE
    first = tree.root.children[a.get_id()]
    assert tree.insert((a, z3.Not(b)), first) == INSIDE
    assert tree.insert((z3.Not(a),), first) == OUTSIDE
    assert tree.insert((a, b), first) == AGAIN
    with pytest.raises(AssertionError, match="came again after it was blocked"):
        tree.insert((a, b), first)


def test_a_decision_tree_node_is_settled_without_z3_only_where_z3_says_nothing_is_left() -> None:
    """DecisionTree.settled, the speed-up that closes a node without asking: a child's pin among the prefix's or the
    known pins, or the children giving one term every value of its sort. Each answer it gives is Z3's."""
    color, (red, green, blue) = z3.EnumSort("tree_color", ["red", "green", "blue"])
    c, b, other = z3.Const("tree_c", color), z3.Bool("tree_b"), z3.Bool("tree_other")
    cases = [
        ([c == red, c == green, c == blue], True), ([c == red, c == green], False),
        ([b == z3.BoolVal(True), b == z3.BoolVal(False)], True), ([b == z3.BoolVal(True)], False),
        ([b == z3.BoolVal(True), other == z3.BoolVal(False)], False),
    ]
    for pins, settled in cases:
        tree = rulepaths.DecisionTree()
        for pin in pins:
            tree.insert((pin,), tree.root)
        assert rulepaths.DecisionTree.settled(tree.root) is settled, pins
        solver = z3.SimpleSolver()
        answer = solver.check(*tree.unexplored(tree.root))
        assert (answer == z3.unsat) is settled, pins
    tree = rulepaths.DecisionTree()  # a run that decided the same thing twice: its second node is settled
    pin = b == z3.BoolVal(True)
    tree.insert((pin, other == z3.BoolVal(True), pin), tree.root)
    second = tree.root.children[pin.get_id()].children[(other == z3.BoolVal(True)).get_id()]
    assert rulepaths.DecisionTree.settled(second)
    assert z3.SimpleSolver().check(*tree.unexplored(second)) == z3.unsat
    assert not rulepaths.DecisionTree.settled(tree.root.children[pin.get_id()])
    known = frozenset({(other == z3.BoolVal(True)).get_id()})  # its one child holds wherever it is asked
    assert rulepaths.DecisionTree.settled(tree.root.children[pin.get_id()], known)
