"""Universe claims: the exploration of every event sequence against brute force (every concrete setting of a
small scope x every event sequence, through the simulator alone), replays of its counterexamples, its fixpoint,
its world keys, and its refusals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import z3

from trackproof.prove import reach
from trackproof.prove.brute import World as BruteWorld
from trackproof.prove.brute import allowed, holds_in, play_each, reachable, scope_points, universe_run, universe_verdict
from trackproof.prove.reach import Explorer
from trackproof.prove.records import Proof
from trackproof.prove.rulepaths import premise_under
from trackproof.prove.setup import prepare
from trackproof.prove.unread import unread_detail
from trackproof.prove.verdict import prove_claim
from trackproof.report.check import scenario_yaml
from trackproof.report.run import compare
from trackproof.simulate.engine import Simulator, simulate
from trackproof.simulate.outcomes import DETAIL
from trackproof.simulate.state import capture, key, observable
from trackproof.spec.claims import Claim, Setting, load_claims
from trackproof.spec.ir import Model
from trackproof.spec.loader import load_model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

UNIVERSES = ROOT / "tests" / "claims" / "universes.yaml"
FIELDS = ROOT / "tests" / "claims" / "universe-fields.yaml"
IDS = ["uni-thread-stored-at-the-end", "uni-untracked-outlook-with-queue", "uni-two-activities-reachable",
       "uni-any-reply-to-crm-email", "uni-reply-to-unsent"]
FIELD_IDS = ["uni-fields-unread", "uni-fields-read"]  # worlds that differ in From: merged, or kept apart
ALL = IDS + FIELD_IDS


@pytest.fixture(scope="module")
def claims(model: Model) -> dict[str, Claim]:
    return {c.id: c for path in (UNIVERSES, FIELDS) for c in load_claims(path, model)}


@pytest.fixture(scope="module")
def proofs(model: Model, claims: dict[str, Claim]) -> dict[str, Proof]:
    return {cid: prove_claim(model, c) for cid, c in claims.items()}


def _contains(proof: Proof, formula: z3.BoolRef, settings: dict[Setting, Any]) -> bool:
    space = proof.space
    pairs = [(space.vars[s], space.const(v, space.attrs[s].type)) for s, v in settings.items() if s in space.vars]
    return bool(z3.is_true(z3.simplify(z3.substitute(formula, *pairs))))


def _points(model: Model, claim: Claim, proof: Proof) -> list[dict[Setting, Any]]:
    """Every concrete setting of the claim's scope (its free settings' every combination, within its base)."""
    return scope_points(model, claim, proof.space, proof.base)


def test_the_small_universes_are_small_and_every_claim_is_here(claims: dict[str, Claim], proofs: dict[str, Proof],
                                                               model: Model) -> None:
    assert sorted(claims) == sorted(ALL)
    for cid in ALL:
        assert 2 <= len(_points(model, claims[cid], proofs[cid])) <= 64, cid
    kinds = {c.property.kind for c in claims.values() if c.property is not None}
    assert kinds == {"always", "never", "reachable", "conclusion"}


@pytest.mark.parametrize("claim_id", ALL)
def test_brute_force_agrees_with_the_verdict_and_with_every_setting(model: Model, claims: dict[str, Claim],
                                                                    proofs: dict[str, Proof], claim_id: str) -> None:
    """The verdict, holds_under_defaults and, setting by setting, the region where the claim holds: the same as
    brute force over every concrete setting and every event sequence."""
    claim, proof = claims[claim_id], proofs[claim_id]
    verdict = proof.verdict
    runs = []
    for settings in _points(model, claim, proof):
        run = universe_run(model, claim, settings)
        runs.append(run)
        if proof.holds_region is not None:
            assert _contains(proof, proof.holds_region, settings) == run.holds, (claim_id, settings)
    assert universe_verdict(runs) == verdict.verdict
    if verdict.verdict != "vacuous":
        defaults = proof.space.defaults
        at_defaults = [r for s, r in zip(_points(model, claim, proof), runs, strict=True)
                       if all(s[k] == defaults[k] for k in s if k[1] != "kind")]
        assert verdict.holds_under_defaults == all(r.holds for r in at_defaults)


@pytest.mark.parametrize("claim_id", ALL)
def test_the_reachable_worlds_are_brute_forces_under_every_setting(model: Model, claims: dict[str, Claim],
                                                                   claim_id: str) -> None:
    """Under each concrete setting, the worlds whose condition holds are exactly the worlds brute force reaches
    (both without the activity fields the exploration left out of its keys, which nothing reads)."""
    claim = claims[claim_id]
    setup = prepare(model, claim)
    found = reach.explore(model, claim, setup)
    assert found.reason == ""
    proof = prove_claim(model, claim)
    for settings in _points(model, claim, proof):
        pairs = [(setup.space.vars[k], setup.space.const(v, setup.space.attrs[k].type)) for k, v in settings.items()]
        mine = {(n.played, observable(n.state, found.omitted)) for n in found.nodes
                if z3.is_true(z3.simplify(z3.substitute(n.condition, *pairs)))}
        brute = {(played, observable(w.state, found.omitted)) for (played, _), w in
                 reachable(model, claim, settings).items()}
        assert mine == brute, (claim_id, settings)


@pytest.mark.parametrize("claim_id", IDS)
def test_one_more_expansion_after_the_fixpoint_finds_nothing(model: Model, claims: dict[str, Claim],
                                                             claim_id: str) -> None:
    claim = claims[claim_id]
    explorer = Explorer(model, claim, prepare(model, claim))
    found = explorer.run()
    worlds = len(found.nodes)
    assert explorer.one_more() == []
    assert len(explorer.nodes) == worlds


def _replayed_end(model: Model, claim: Claim, settings: dict[Setting, Any], events: tuple[Any, ...]) -> BruteWorld:
    assert claim.universe is not None
    sim = Simulator(model, premise_under(claim, settings))
    sim.world.kinds = claim.kinds
    for event in events:
        sim.play_event(event)
    return BruteWorld(capture(sim.world), sim.outcomes_now(), len(claim.universe.prefix), False)


@pytest.mark.parametrize("claim_id", [i for i in ALL if i != "uni-reply-to-unsent"])
def test_every_counterexample_and_witness_replays_and_shows_what_it_says(model: Model, claims: dict[str, Claim],
                                                                         proofs: dict[str, Proof], tmp_path: Path,
                                                                         claim_id: str) -> None:
    """The scenario file of a counterexample (or witness) replays with `run` to its expectations, and the world it
    ends in breaks the property (or, for a witness, has it)."""
    claim, verdict = claims[claim_id], proofs[claim_id].verdict
    assert claim.property is not None
    shown = [e for e in (verdict.counterexample, verdict.witness) if e is not None and e.events]
    assert shown, claim_id
    for example in shown:
        path = tmp_path / f"{claim_id}.yaml"
        path.write_text(scenario_yaml(verdict, example), encoding="utf-8")
        scenario = load_scenario(path, model)
        assert compare(scenario, simulate(model, scenario)) == []
        end = _replayed_end(model, claim, example.settings, example.events or ())
        value = holds_in(model, claim, example.settings, end, claim.conclusion)
        if example is verdict.witness:
            assert value
        elif claim.property.kind == "always":
            assert not value
        elif claim.property.kind == "never":
            assert value
        if claim.property.when is not None and example is verdict.counterexample:
            assert holds_in(model, claim, example.settings, end, claim.property.when)


def test_the_counterexample_is_a_shortest_sequence(model: Model, claims: dict[str, Claim],
                                                   proofs: dict[str, Proof]) -> None:
    """No sequence shorter than the counterexample's breaks the property under any setting (brute force over every
    setting and every world, by the depth at which it is first reached)."""
    claim, verdict = claims["uni-untracked-outlook-with-queue"], proofs["uni-untracked-outlook-with-queue"].verdict
    assert verdict.counterexample is not None and verdict.counterexample.events is not None
    length = len(verdict.counterexample.events)
    explorer = Explorer(model, claim, prepare(model, claim))
    found = explorer.run()
    assert claim.property is not None and claim.property.when is not None
    points = _points(model, claim, proofs[claim.id])
    for node in found.nodes:
        world = BruteWorld(node.state, node.outcomes, node.played, False)
        for arrival in node.arrivals:
            if arrival.depth >= length:
                continue
            for settings in points:
                if _contains(proofs[claim.id], arrival.part, settings):
                    assert not (holds_in(model, claim, settings, world, claim.property.when)
                                and holds_in(model, claim, settings, world, claim.conclusion))


Label = tuple[tuple[str, str], ...]


def _next(model: Model, claim: Claim, settings: dict[Setting, Any], state: Any,
          number: int) -> list[tuple[tuple[str, str], Simulator | None]]:
    """Every event the alphabet allows in `state`, played: its label and the simulator after it (None when the
    event is impossible there)."""
    scenario = premise_under(claim, settings)
    played = play_each(model, claim, scenario, state, allowed(model, claim, scenario, state, number), number)
    return [((event.kind, repr(sorted(event.params.items()))), sim) for event, sim in played]


def _sequences(model: Model, claim: Claim, settings: dict[Setting, Any], depth: int) -> list[tuple[Any, Label]]:
    """Every (state, events) reached by every sequence of at most `depth` events, without merging any."""
    out: list[tuple[Any, Label]] = []
    frontier: list[tuple[Any, Label]] = [(capture(Simulator(model, premise_under(claim, settings)).world), ())]
    for number in range(1, depth + 1):
        frontier = [(capture(sim.world), (*events, label)) for state, events in frontier
                    for label, sim in _next(model, claim, settings, state, number) if sim is not None]
        out += frontier
    return out


def _futures(model: Model, claim: Claim, settings: dict[Setting, Any], state: Any, depth: int) -> set[Any]:
    """What every sequence of at most `depth` events from `state` gives: by sequence, the world's key and the
    outcomes (or that the sequence is impossible)."""
    seen: set[Any] = set()
    frontier: list[tuple[Any, Label]] = [(state, ())]
    for number in range(1, depth + 1):
        following: list[tuple[Any, Label]] = []
        for now, events in frontier:
            for label, sim in _next(model, claim, settings, now, number):
                if sim is None:
                    seen.add(((*events, label), "impossible"))
                    continue
                after = capture(sim.world)
                outcomes = tuple(sorted((k, o.stored, o.status) for k, o in sim.outcomes_now().items()))
                seen.add(((*events, label), key(after), outcomes))
                following.append((after, (*events, label)))
        frontier = following
    return seen


def test_world_keys_merge_only_worlds_that_behave_alike(model: Model, claims: dict[str, Claim]) -> None:
    """Worlds reached by different sequences that get one key (messages by creation order, the history of how
    they got there left out) have the same futures: every next sequence of two events gives them the same worlds
    and the same outcomes. (Worlds merged with their swapped twins: tests/test_symmetry.py.)"""
    claim = claims["uni-thread-stored-at-the-end"]
    proof = prove_claim(model, claim)
    merged = 0
    for settings in _points(model, claim, proof)[:4]:
        groups: dict[Any, list[Any]] = {}
        for state, events in _sequences(model, claim, settings, 3):
            groups.setdefault(key(state), []).append((state, events))
        for members in groups.values():
            if len({events for _, events in members}) < 2:
                continue
            merged += 1
            first = _futures(model, claim, settings, members[0][0], 2)
            for state, _ in members[1:3]:
                assert _futures(model, claim, settings, state, 2) == first
    assert merged > 0  # the test compares something: some worlds are reached by several sequences


def _brute_worlds(model: Model, claim: Claim, proof: Proof, omit: frozenset[str]) -> dict[Any, set[Any]]:
    """Every world brute force reaches under some setting of the scope, by its key without `omit`: the worlds
    (their whole observable keys) that have it."""
    out: dict[Any, set[Any]] = {}
    for settings in _points(model, claim, proof):
        for (played, whole), world in reachable(model, claim, settings).items():
            out.setdefault((played, observable(world.state, omit)), set()).add(whole)
    return out


def test_worlds_that_differ_only_in_a_field_nothing_reads_are_one(model: Model, claims: dict[str, Claim],
                                                                  proofs: dict[str, Proof]) -> None:
    """E1's From is C when C is a contact and none when C is an unknown address. Nothing in the model reads From,
    nor does uni-fields-unread's property: worlds that differ only there are one world. uni-fields-read's property
    reads From: it keeps them apart (and both agree with brute force, the tests above)."""
    for claim_id, kept in (("uni-fields-unread", frozenset()), ("uni-fields-read", frozenset({"from"}))):
        claim = claims[claim_id]
        found = reach.explore(model, claim, prepare(model, claim))
        assert found.omitted == DETAIL - kept, claim_id
        by_key = _brute_worlds(model, claim, proofs[claim_id], DETAIL)
        merged = [wholes for wholes in by_key.values() if len(wholes) > 1]
        assert merged, claim_id  # some worlds differ only in a DETAIL field
        whole = set().union(*by_key.values())
        assert len(found.nodes) == (len(by_key) if not kept else len(whole)), claim_id
        assert len(by_key) < len(whole)


_READS = {"from": "e.from == C", "parent_activity": "e.parent_activity == E1", **{
    name: f"X in e.{name}" for name in ("to", "cc", "queue_items", "categorized", "undeliverable")}}


@pytest.mark.parametrize("name", sorted(DETAIL))
def test_a_property_that_reads_a_field_keeps_it_in_the_key(model: Model, name: str, tmp_path: Path) -> None:
    """Whether in the property or in its guard, a field the claim names stays in the worlds' keys (and only that
    one); a conclusion, read where no event changes the world, keeps them all."""
    text = FIELDS.read_text(encoding="utf-8")
    text = text[:text.index("\n  - id: uni-fields-read")] + "\n"
    property_line = '    always: "all(e.stored or e.incoming.stored for e in emails)"'
    for written in (f'    never: "any({_READS[name]} for e in emails)"',
                    f'{property_line}\n    when: "any({_READS[name]} for e in emails)"'):
        path = tmp_path / "fields.yaml"
        path.write_text(text.replace(property_line, written), encoding="utf-8")
        (claim,) = load_claims(path, model)
        assert unread_detail(model, claim) == DETAIL - {name}, written
    path.write_text(text.replace(property_line, property_line.replace("always", "conclusion")), encoding="utf-8")
    (claim,) = load_claims(path, model)
    assert unread_detail(model, claim) == frozenset()


def test_a_field_the_model_reads_stays_in_the_key(model: Model, model_copy: Path) -> None:
    """A guard or effect that reads an activity field (here, the Undeliverable category's definition reading the
    queue items) keeps that field in every universe's keys."""
    path = model_copy / "definitions.yaml"
    text = path.read_text(encoding="utf-8")
    old = "expr: \"exchange(m) and sss_incoming(m) and m.folder != 'deleted'\""
    assert text.count(old) == 1
    path.write_text(text.replace(old, old[:-1] + " and not (m in email.queue_items)\""), encoding="utf-8")
    (claim,) = [c for c in load_claims(FIELDS, model) if c.id == "uni-fields-unread"]
    assert unread_detail(model, claim) == DETAIL
    assert unread_detail(load_model(model_copy), claim) == DETAIL - {"queue_items"}


def test_an_effect_reading_only_the_field_it_sets_leaves_it_out_of_the_key(model: Model, model_copy: Path) -> None:
    """Removing the category keeps the other mailboxes of `categorized` (it reads the field to set it): that read
    decides only the field itself, so it stays out of the keys; read to set another field, it is kept."""
    self_reads = [e for t in model.transitions for e in t.effects
                  if e.target == "categorized" and "email.categorized" in e.value.text]
    assert self_reads  # N-uncategorize-keeps
    (claim,) = [c for c in load_claims(FIELDS, model) if c.id == "uni-fields-unread"]
    assert unread_detail(model, claim) == DETAIL
    path = model_copy / "machines" / "none.yaml"
    text = path.read_text(encoding="utf-8")
    old = "set: {categorized: \"select("
    assert text.count(old) == 1
    path.write_text(text.replace(old, "set: {undeliverable: \"select("), encoding="utf-8")
    assert unread_detail(load_model(model_copy), claim) == DETAIL - {"categorized"}


def test_a_universe_too_large_for_the_limit_is_unknown_with_what_to_narrow(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Never a hang, never "proved": past the limit of worlds the exploration stops, the verdict is unknown (exit
    status 3) and says what to narrow."""
    text = UNIVERSES.read_text(encoding="utf-8")
    path = tmp_path / "one.yaml"
    path.write_text(text[:text.index("\n  - id: uni-untracked")] + "\n", encoding="utf-8")
    monkeypatch.setattr(reach, "MAX_WORLDS", 5)
    status, out, _ = cli(capsys, "check", str(path), "--no-cache", "--jobs", "1")
    assert status == 3
    assert "uni-thread-stored-at-the-end: UNKNOWN" in out
    assert "more than 5 reachable worlds: narrow the universe" in out
    assert "PROVED" not in out


BASE = """claims:
  - id: U
    text: "t"
    universe:
      participants:
        X: {kind: user}
        C: {kind: contact}
      messages: MESSAGES
ALPHABET
    always: "ALWAYS"
"""
SEND = "    alphabet:\n      - send: {from: C, to: [X]}\n      - sync"
HOSTILE = {
    "no-messages": (BASE.replace("MESSAGES", "0").replace("ALPHABET", SEND), "E104"),
    "many-messages": (BASE.replace("MESSAGES", "99").replace("ALPHABET", SEND), "E104"),
    "messages-as-text": (BASE.replace("MESSAGES", "two").replace("ALPHABET", SEND), "E104"),
    "no-alphabet": (BASE.replace("MESSAGES", "1").replace("ALPHABET\n", ""), "E105"),
    "empty-alphabet": (BASE.replace("MESSAGES", "1").replace("ALPHABET", "    alphabet: []"), "E104"),
    "alphabet-mapping": (BASE.replace("MESSAGES", "1").replace("ALPHABET", "    alphabet: {send: 1}"), "E104"),
    "unknown-entry": (BASE.replace("MESSAGES", "1").replace("ALPHABET", "    alphabet:\n      - teleport: {by: X}"),
                      "E106"),
    "unknown-participant": (BASE.replace("MESSAGES", "1").replace(
        "ALPHABET", "    alphabet:\n      - send: {from: C, to: [Z]}"), "E401"),
    "unknown-email": (BASE.replace("MESSAGES", "1").replace(
        "ALPHABET", "    alphabet:\n      - reply: {by: [C], email: E7}"), "E405"),
    "wrong-alternative": (BASE.replace("MESSAGES", "1").replace(
        "ALPHABET", "    alphabet:\n      - reply: {by: [C], subject_changed: [true, 3]}"), "E104"),
    "send-without-from": (BASE.replace("MESSAGES", "1").replace("ALPHABET", "    alphabet:\n      - send"), "E105"),
    "two-properties": (BASE.replace("MESSAGES", "1").replace("ALPHABET", SEND + '\n    never: "False"'), "E105"),
    "fixed-events-too": (BASE.replace("MESSAGES", "1").replace("ALPHABET", SEND + "\n    events:\n      - sync"),
                         "E106"),
    "unsafe-property": (BASE.replace("MESSAGES", "1").replace("ALPHABET", SEND).replace(
        "ALWAYS", "__import__('os').system('true')"), "E202"),
    "nested-generators": (BASE.replace("MESSAGES", "1").replace("ALPHABET", SEND).replace(
        "ALWAYS", "all(e.stored for e in emails for f in emails)"), "E202"),
    "unknown-field": (BASE.replace("MESSAGES", "1").replace("ALPHABET", SEND).replace(
        "ALWAYS", "all(e.nonsense for e in emails)"), "E203"),
    "prefix-too-long": (BASE.replace("MESSAGES", "1\n      prefix: [{send: {id: E1, from: C, to: [X]}}, "
                                     "{send: {id: E2, from: C, to: [X]}}]").replace("ALPHABET", SEND), "E104"),
    "too-large": (BASE.replace("MESSAGES", "6").replace(
        "ALPHABET", "    alphabet:\n      - send: {from: [C, X], to: [[X], [C], [X, C]], via: [outlook, crm]}\n"
                    "      - sync"), "E408"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_bad_universe_is_refused_with_its_place_and_code(name: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    text, code = HOSTILE[name]
    path = tmp_path / "u.yaml"
    path.write_text(text.replace("ALWAYS", "True"), encoding="utf-8")
    status, _, err = cli(capsys, "check", str(path), "--no-cache", "--jobs", "1")
    assert status == 2, err
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: error\[{code}\]", err), err
    assert "Traceback" not in err


def test_the_claims_schema_knows_universe_claims() -> None:
    """Editors validate universe claims too: the shipped ones pass, one with two properties or too many messages
    does not."""
    import json

    import jsonschema
    import yaml

    schema = json.loads((ROOT / "schemas" / "claims.schema.json").read_text(encoding="utf-8"))
    good = yaml.safe_load(UNIVERSES.read_text(encoding="utf-8"))
    jsonschema.validate(good, schema)
    claim = good["claims"][0]
    for bad in ({**claim, "always": "True"}, {**claim, "universe": {**claim["universe"], "messages": 9}},
                {**claim, "alphabet": [{"teleport": None}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"claims": [bad]}, schema)


IDLE = """\
claims:
  - id: U1
    text: "t"
    universe:
      participants:
        X: {kind: user}
        C: {kind: contact}
IDLE      messages: 1
    alphabet:
      - send: {from: C, to: [X]}
      - sync
    never: "any(e.stored for e in emails)"
"""


def test_an_event_with_too_many_rule_paths_ends_the_exploration(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each user whose settings range doubles a sync's rule paths: ten idle users ran for minutes before MAX_WORLDS
    (and 60 for a quarter of an hour). One event from one world with more than MAX_STEP_PATHS paths ends it: unknown
    in check, E408 in gaps. Three idle users (48 paths for a sync) against a bound of 20, to be quick."""
    from trackproof.cli import main
    from trackproof.prove import steps

    path = tmp_path / "idle.yaml"
    path.write_text(IDLE.replace("IDLE", "".join(f"        U{i}: {{kind: user}}\n" for i in range(3))),
                    encoding="utf-8")
    monkeypatch.setattr(steps, "MAX_STEP_PATHS", 20)
    assert main(["check", "--no-cache", "--jobs", "1", str(path)]) == 3
    out = capsys.readouterr().out
    assert "U1: UNKNOWN" in out and "one 'sync' event from one world has more than 20 rule paths" in out, out
    claims = tmp_path / "claims.yaml"
    claims.write_text((Path(__file__).parent / "claims" / "small.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["gaps", "--jobs", "1", "--no-cache", "--universe", str(path), str(claims)]) == 2
    assert "error[E408]" in capsys.readouterr().err
    monkeypatch.setattr(steps, "MAX_STEP_PATHS", 2_000)
    assert main(["check", "--no-cache", "--jobs", "1", str(path)]) == 1  # violated: the bound is not the answer
