"""Interchangeable participants (prove/symmetry.py): which claims have them, and that merging a world with its
swapped twin changes no answer. On small universes with every setting of the scope enumerated, brute force (every
concrete setting x every event sequence through the simulator, nothing merged) is the oracle: the verdict, the
region where the claim holds, and under each setting the worlds reached, once the merged ones are swapped back;
every arrival's events replay to the world it names; and swapping participants that only look interchangeable (a
shared address) would merge worlds that behave differently, which is why they are not merged."""

from __future__ import annotations

import json
from typing import Any

import pytest
import z3

from trackproof.prove import reach
from trackproof.prove.behaviours import chain, prove_universe
from trackproof.prove.brute import reachable, scope_points, universe_run, universe_verdict
from trackproof.prove.records import Proof
from trackproof.prove.rulepaths import premise_under
from trackproof.prove.setup import prepare
from trackproof.prove.symmetry import Symmetry, inverse, symmetry
from trackproof.prove.symmetry import settings as renamed_settings
from trackproof.report.check import scenario_yaml
from trackproof.report.run import compare
from trackproof.simulate.engine import Simulator, simulate
from trackproof.simulate.state import MailState, capture, observable, renamed
from trackproof.spec.claims import Claim, Setting, claims_from_text, load_claims
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

SYMMETRIC = ROOT / "tests" / "claims" / "universes-symmetric.yaml"
IDS = ["sym-two-users-incoming-stored", "sym-two-users-reply-stored", "sym-two-users-accepted-by-a-user",
       "sym-three-users-end-stored", "sym-two-outside-parties", "sym-two-users-reach-stored"]


@pytest.fixture(scope="module")
def claims(model: Model) -> dict[str, Claim]:
    return {c.id: c for c in load_claims(SYMMETRIC, model)}


@pytest.fixture(scope="module")
def proofs(model: Model, claims: dict[str, Claim]) -> dict[str, Proof]:
    return {cid: prove_universe(model, c) for cid, c in claims.items()}


def _points(model: Model, claim: Claim, proof: Proof) -> list[dict[Setting, Any]]:
    return scope_points(model, claim, proof.space, proof.base)


def _holds(proof: Proof, formula: z3.BoolRef, settings: dict[Setting, Any]) -> bool:
    space = proof.space
    pairs = [(space.vars[s], space.const(v, space.attrs[s].type)) for s, v in settings.items() if s in space.vars]
    return bool(z3.is_true(z3.simplify(z3.substitute(formula, *pairs))))


def _swapped(state: MailState, renaming: tuple[tuple[str, str], ...], omit: frozenset[str] = frozenset()) -> Any:
    return observable(renamed(state, dict(renaming)), omit)


def test_every_small_universe_has_interchangeable_participants(model: Model, claims: dict[str, Claim],
                                                               proofs: dict[str, Proof]) -> None:
    assert sorted(claims) == sorted(IDS)
    for cid in IDS:
        assert 2 <= len(_points(model, claims[cid], proofs[cid])) <= 64, cid
        assert proofs[cid].verdict.interchangeable, cid
    assert proofs["sym-three-users-end-stored"].verdict.interchangeable == (("X", "Y", "Z"),)
    assert len(symmetry(model, claims["sym-three-users-end-stored"]).renamings) == 5  # 3! - 1
    assert {c.property.kind for c in claims.values() if c.property is not None} == \
        {"always", "never", "reachable", "conclusion"}


@pytest.mark.parametrize("claim_id", IDS)
def test_merging_changes_no_answer_brute_force_agrees(model: Model, claims: dict[str, Claim],
                                                      proofs: dict[str, Proof], claim_id: str) -> None:
    """The verdict, holds_under_defaults and, setting by setting, where the claim holds: brute force's, and the
    exploration without merging has fewer worlds' worth of nothing: more worlds, the same answers."""
    claim, proof = claims[claim_id], proofs[claim_id]
    runs = []
    for settings in _points(model, claim, proof):
        run = universe_run(model, claim, settings)
        runs.append(run)
        assert proof.holds_region is not None
        assert _holds(proof, proof.holds_region, settings) == run.holds, settings
    assert universe_verdict(runs) == proof.verdict.verdict
    whole = prove_universe(model, claim, merge=False).verdict
    mine = proof.verdict
    assert (whole.verdict, whole.holds_under_defaults, whole.holds_when) == \
        (mine.verdict, mine.holds_under_defaults, mine.holds_when)
    assert mine.worlds < whole.worlds and not whole.interchangeable


@pytest.mark.parametrize("claim_id", IDS)
def test_the_worlds_kept_swapped_back_are_brute_forces_under_every_setting(model: Model, claims: dict[str, Claim],
                                                                          claim_id: str) -> None:
    """Under each concrete setting s, the worlds reached are exactly the worlds kept whose condition holds of the
    renamed settings, each renamed back: a world kept stands for its swapped twins, and for nothing else."""
    claim = claims[claim_id]
    sym = symmetry(model, claim)
    setup = prepare(model, claim)
    found = reach.explore(model, claim, setup, sym=sym)
    assert found.reason == ""
    proof = prove_universe(model, claim)
    for settings in _points(model, claim, proof):
        mine = set()
        for renaming in ((), *sym.renamings):
            there = renamed_settings(settings, renaming)
            pairs = [(setup.space.vars[k], setup.space.const(v, setup.space.attrs[k].type)) for k, v in there.items()]
            mine |= {(n.played, _swapped(n.state, inverse(renaming), found.omitted)) for n in found.nodes
                     if z3.is_true(z3.simplify(z3.substitute(n.condition, *pairs)))}
        brute = {(played, observable(w.state, found.omitted))
                 for (played, _), w in reachable(model, claim, settings).items()}
        assert mine == brute, settings


@pytest.mark.parametrize("claim_id", IDS)
def test_every_arrival_replays_to_the_world_it_names(model: Model, claims: dict[str, Claim],
                                                     claim_id: str) -> None:
    """For every arrival at every world kept (renamed ones included), the events its chain gives, played from the
    start under the settings it gives, make that world, renamed as the chain says."""
    claim = claims[claim_id]
    sym = symmetry(model, claim)
    setup = prepare(model, claim)
    found = reach.explore(model, claim, setup, sym=sym)
    solver = z3.Solver()
    solver.add(*setup.base)
    renamed_arrivals = 0
    for node in found.nodes:
        for arrival in node.arrivals:
            if arrival.event is None:
                continue
            assert solver.check(arrival.part) == z3.sat
            settings = {**setup.space.defaults, **setup.space.assigned(solver.model(), setup.space.vars)}
            events, start, frame = chain(setup.space, arrival, settings)
            renamed_arrivals += bool(frame)
            sim = Simulator(model, premise_under(claim, start))
            sim.world.kinds = claim.kinds
            for event in events:
                sim.play_event(event)
            assert observable(capture(sim.world), found.omitted) == _swapped(node.state, frame, found.omitted), \
                (node.index, events)
    assert renamed_arrivals > 0  # the chains go through renamed arrivals: the test compares something


def test_one_more_expansion_after_the_fixpoint_finds_nothing(model: Model, claims: dict[str, Claim]) -> None:
    for cid in IDS:
        claim = claims[cid]
        explorer = reach.Explorer(model, claim, prepare(model, claim), sym=symmetry(model, claim))
        worlds = len(explorer.run().nodes)
        assert explorer.one_more() == [], cid
        assert len(explorer.nodes) == worlds


@pytest.mark.parametrize("claim_id", IDS)
def test_counterexamples_and_witnesses_replay(model: Model, claims: dict[str, Claim], proofs: dict[str, Proof],
                                              tmp_path: Any, claim_id: str) -> None:
    """Each replays with `run`, and a counterexample's settings break the claim (brute force under them): a
    setting that only a renamed world's condition reads is shown at the value that breaks it, not its default."""
    verdict = proofs[claim_id].verdict
    if verdict.counterexample is not None:
        assert not universe_run(model, claims[claim_id], verdict.counterexample.settings).holds
    for example in (verdict.counterexample, verdict.witness):
        if example is None or not example.events:
            continue
        path = tmp_path / "example.yaml"
        path.write_text(scenario_yaml(verdict, example), encoding="utf-8")
        scenario = load_scenario(path, model)
        assert compare(scenario, simulate(model, scenario)) == []


def _variant(model: Model, participants: str, alphabet: str, prop: str = "never: \"any(e.incoming.stored for e "
             "in emails)\"", fixed: str = "{}") -> Symmetry:
    text = f"""
claims:
  - id: variant
    text: "a variant"
    scope: {{fixed: {fixed}}}
    universe:
      participants: {participants}
      messages: 1
    alphabet: {alphabet}
    {prop}
"""
    return symmetry(model, claims_from_text(text, "variant.yaml", model)[0])


USERS = "{X: {kind: user}, Y: {kind: user}, C: {kind: contact}}"


def test_only_participants_the_claim_treats_alike_are_interchangeable(model: Model) -> None:
    both = "[{send: {from: C, to: [[X], [Y]]}}, sync]"
    assert _variant(model, USERS, both).groups == (("X", "Y"),)
    # the alphabet names one of them only, or lists one order of a recipient list
    assert not _variant(model, USERS, "[{send: {from: C, to: [[X]]}}, sync]")
    assert not _variant(model, USERS, "[{send: {from: C, to: [[X, Y]]}}, sync]")
    assert _variant(model, USERS, "[{send: {from: C, to: [[X, Y], [Y, X]]}}, sync]")
    # the property names one of them
    assert not _variant(model, USERS, both, "never: \"any(e.incoming.accepted_by == X for e in emails)\"")
    guarded = "always: \"all(e.exists for e in emails)\"\n    when: \"X.filter == 'all'\""
    assert not _variant(model, USERS, both, guarded)
    # the prefix changes a setting of one of them, or of both
    assert not _variant(model, USERS + "\n      prefix: [{set: {X.filter: all}}]", both)
    assert _variant(model, USERS + "\n      prefix: [{set: {X.filter: all, Y.filter: all}}]", both)
    # the scope fixes a setting of one of them
    assert not _variant(model, USERS, both, fixed="{X.filter: all}")
    assert _variant(model, USERS, both, fixed="{X.filter: all, Y.filter: all}")
    # declared differently
    assert not _variant(model, "{X: {kind: user}, Y: {kind: user, filter: all}, C: {kind: contact}}", both)
    assert not _variant(model, "{X: {kind: user}, Y: {kind: queue}, C: {kind: contact}}", both)


def test_renaming_a_world_renames_participants_only_never_a_field_of_that_name(model: Model,
                                                                                claims: dict[str, Claim]) -> None:
    """A participant may be called like one of the fields a message keeps (`token_of`): renaming the world renames
    the participant, not the field."""
    claim = claims["sym-two-users-incoming-stored"]
    sim = Simulator(model, premise_under(claim, {}))
    sim.world.kinds = claim.kinds
    for event in claim.universe.prefix if claim.universe else ():
        sim.play_event(event)
    state = capture(sim.world)
    from trackproof.simulate.mail import Message

    msg = Message("E1", "outside", "C", "C", (("X",), (), ()), None,
                  {"is_reply": False, "is_forward": False, "subject_changed": False, "in_reply_to_kept": True},
                  None, 0)
    msg.shared.update({"token_of": "E1", "X": "kept"})
    msg.removed = {"X": False}
    state.messages["E1"] = msg
    twin = renamed(state, {"X": "token_of", "token_of": "X"}).messages["E1"]
    assert twin.shared == {"token_of": "E1", "X": "kept"}  # keys are field names: kept
    assert twin.to == ("token_of",) and twin.removed == {"token_of": False}


SHARED = ("{X: {kind: user}, C1: {kind: contact, address: pat@example.com}, "
          "D1: {kind: contact, address: pat@example.com}}")
APART = "{X: {kind: user}, C1: {kind: contact}, D1: {kind: contact}}"
SENDS = "[{send: {from: [C1, D1], to: [X]}}, sync]"


def test_two_records_sharing_an_address_are_not_interchangeable_and_must_not_be(model: Model) -> None:
    """With one address, From resolves to the record listed first (docs/scenarios.md): the email D1 sends is From
    C1, and swapping them gives one From D1, which no sequence makes. So the worlds reached are not closed under
    the swap (merging would put a world nobody reaches in place of one somebody does), and the two are not taken
    for interchangeable; with addresses of their own they are, and the worlds are closed under it."""
    assert not _variant(model, SHARED, SENDS)
    assert _variant(model, APART, SENDS).groups == (("C1", "D1"),)
    swap = (("C1", "D1"), ("D1", "C1"))
    for participants, closed in ((SHARED, False), (APART, True)):
        text = f"""
claims:
  - id: variant
    text: "a variant"
    scope: {{fixed: {{X.incoming: sss, X.approved: true, X.enabled: true, X.filter: all}}, free: []}}
    universe: {{participants: {participants}, messages: 1}}
    alphabet: {SENDS}
    never: "any(e.incoming.stored for e in emails)"
"""
        claim = claims_from_text(text, "variant.yaml", model)[0]
        worlds = {observable(w.state) for w in reachable(model, claim, {}).values()}
        swapped = {observable(renamed(w.state, dict(swap))) for w in reachable(model, claim, {}).values()}
        assert (worlds == swapped) == closed, participants


def test_two_processes_find_what_one_finds_with_merging(model: Model, claims: dict[str, Claim],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from trackproof.parallel import can_fork
    from trackproof.prove import levels

    if not can_fork():
        pytest.skip("workers are forked processes (Linux)")
    claim = claims["sym-two-outside-parties"]
    sym = symmetry(model, claim)
    one = reach.explore(model, claim, prepare(model, claim), jobs=1, sym=sym)
    monkeypatch.setattr(levels, "LEAST_FOR_WORKERS", 1)
    two = reach.explore(model, claim, prepare(model, claim), jobs=2, sym=sym)
    assert [n.key for n in one.nodes] == [n.key for n in two.nodes]
    solver = z3.Solver()
    for a, b in zip(one.nodes, two.nodes, strict=True):
        assert solver.check(a.condition != b.condition) == z3.unsat, a.key
        assert [(x.depth, x.renaming) for x in a.arrivals] == [(x.depth, x.renaming) for x in b.arrivals]


def test_the_answer_says_what_was_merged_in_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = cli(capsys, "check", str(SYMMETRIC), "--no-cache", "--jobs", "1", "--exit-zero")
    assert "reachable worlds (worlds that differ only by swapping X and Y counted once)" in text
    assert "(worlds that differ only by swapping X, Y and Z counted once)" in text
    _, out, _ = cli(capsys, "check", str(SYMMETRIC), "--no-cache", "--jobs", "1", "--exit-zero", "--format", "json")
    groups = {c["id"]: c["coverage"]["interchangeable"] for c in json.loads(out)["claims"]}
    assert groups["sym-two-outside-parties"] == [["C", "D"]]
    assert groups["sym-three-users-end-stored"] == [["X", "Y", "Z"]]


def test_more_interchangeable_participants_than_the_renamings_allow_are_not_merged(model: Model) -> None:
    many = "{" + ", ".join(f"U{i}: {{kind: user}}" for i in range(6)) + ", C: {kind: contact}}"
    to = "[" + ", ".join(f"[U{i}]" for i in range(6)) + "]"
    assert not _variant(model, many, f"[{{send: {{from: C, to: {to}}}}}, sync]")  # 6! = 720 renamings
    five = "{" + ", ".join(f"U{i}: {{kind: user}}" for i in range(5)) + ", C: {kind: contact}}"
    to = "[" + ", ".join(f"[U{i}]" for i in range(5)) + "]"
    assert len(_variant(model, five, f"[{{send: {{from: C, to: {to}}}}}, sync]").renamings) == 119


def test_groups_that_can_only_be_swapped_together_are_said_so(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Any) -> None:
    """Each contact is owned by one of the users: the swap of X and Y takes QX with it, so the only renaming moves
    all four, and the answer does not say "swapping QX and QY, or X and Y" (as if each pair could be alone)."""
    path = tmp_path / "joint.yaml"
    path.write_text("""claims:
  - id: joint
    text: "records owned by users"
    scope:
      fixed: {X.incoming: sss, X.approved: true, X.enabled: true, Y.incoming: sss, Y.approved: true, Y.enabled: true}
      free: [X.filter, Y.filter]
    universe:
      participants: {X: {kind: user}, Y: {kind: user}, QX: {kind: contact, owner: X}, QY: {kind: contact, owner: Y}}
      messages: 1
    alphabet: [{send: {from: [QX, QY], to: [[X], [Y]]}}, sync]
    never: "any(e.incoming.stored for e in emails)"
""", encoding="utf-8")
    _, text, _ = cli(capsys, "check", str(path), "--no-cache", "--jobs", "1", "--exit-zero")
    assert "(worlds that differ only by renaming QX, QY, X and Y in the one way the claim allows counted once)" in text
    _, out, _ = cli(capsys, "check", str(path), "--no-cache", "--jobs", "1", "--exit-zero", "--format", "json")
    coverage = json.loads(out)["claims"][0]["coverage"]
    assert coverage["interchangeable"] == [["QX", "QY"], ["X", "Y"]] and coverage["renamings"] == 1


def test_the_key_of_a_renamed_world_is_the_key_of_the_world_renamed(model: Model, claims: dict[str, Claim]) -> None:
    """renamed_key (the exploration's fast way, no copy of the world) against its definition, key(renamed(...)),
    for every world of every small universe and every renaming, the prover's bookkeeping and left-out fields too."""
    from trackproof.simulate.state import key, renamed_key

    compared = 0
    for claim in claims.values():
        sym = symmetry(model, claim)
        found = reach.explore(model, claim, prepare(model, claim), sym=sym)
        for node in found.nodes:
            for r in sym.renamings:
                for omit in (frozenset(), found.omitted):
                    assert renamed_key(node.state, dict(r), omit) == key(renamed(node.state, dict(r)), omit)
                    compared += 1
    assert compared > 100
