"""`gaps`: every missed scenario replays to its stated outcome and no claim covers it; covering one removes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackproof.explore.gaps import Gaps, find_gaps
from trackproof.explore.situations import matches, signature
from trackproof.report.run import compare
from trackproof.simulate.engine import simulate
from trackproof.spec.claims import Claim, load_claims
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

FORUM = ROOT / "proofs" / "forum-claims.yaml"
QUEUE_CLAIM = """
claims:
  - id: queue-on-cc
    text: "An email to X with a queue on Cc is stored."
    scope:
      fixed: {X.incoming: sss, X.outgoing: sss, X.approved: true, X.enabled: true, X.owner_can_sync: true}
    participants:
      X: {kind: user}
      Q: {kind: queue, approved: true, enabled: true}
      C: {kind: contact}
    events:
      - send: {id: E1, from: C, to: [X], cc: [Q]}
      - sync
    conclusion: "E1.stored"
"""


@pytest.fixture(scope="module")
def forum_claims(model: Model) -> list[Claim]:
    return load_claims(FORUM, model)


@pytest.fixture(scope="module")
def forum_gaps(model: Model, forum_claims: list[Claim]) -> Gaps:
    return find_gaps(model, forum_claims)


def test_missed_scenarios_replay_and_no_claim_covers_them(model: Model, forum_claims: list[Claim],
                                                          forum_gaps: Gaps, tmp_path: Path) -> None:
    assert forum_gaps.missed and forum_gaps.covered < forum_gaps.classes
    for m in forum_gaps.missed:
        path = tmp_path / f"{m.id.replace('@', '-')}.yaml"
        path.write_text(m.scenario, encoding="utf-8")
        scenario = load_scenario(path, model)
        outcomes = simulate(model, scenario)
        assert compare(scenario, outcomes) == [], m.id
        assert {o.key: (o.status if o.stored else "not stored") for o in outcomes} == m.outcome, m.id
        sig = signature(scenario, {})
        assert not any(matches(sig, signature(c.scenario, c.kinds)) and all(
            scenario.participants.get(o) is None or o == "org" for (o, _) in c.fixed) for c in forum_claims), m.id


def test_the_queue_on_cc_scenario_is_reported_under_defaults(forum_gaps: Gaps) -> None:
    entry = next(m for m in forum_gaps.missed if m.id.startswith("queue-on-cc-") and m.id.endswith("@1")
                 and m.outcome == {"E1": "received"})
    assert entry.settings == {}
    assert "accepted by Q" in entry.sentence and entry.group == "several recipients"


def test_a_claim_that_covers_a_gap_removes_only_that_gap(model: Model, forum_claims: list[Claim], forum_gaps: Gaps,
                                                         tmp_path: Path) -> None:
    extra = tmp_path / "queue.yaml"
    extra.write_text(QUEUE_CLAIM, encoding="utf-8")
    more = find_gaps(model, [*forum_claims, *load_claims(extra, model)])
    before = {m.id for m in forum_gaps.missed}
    after = {m.id for m in more.missed}
    removed = before - after
    assert removed and all(r.startswith("queue-on-cc-") and r.endswith("@1") for r in removed)
    assert after <= before
    assert more.covered > forum_gaps.covered and more.classes == forum_gaps.classes


def test_gaps_cli_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import json

    status, out, _ = cli(capsys, "gaps", str(FORUM), "--format", "json", "--scenarios", str(tmp_path / "s"))
    assert status == 0
    doc = json.loads(out)
    assert {"classes", "covered", "missed", "rules_untouched"} <= set(doc)
    assert {"id", "sentence", "outcome", "settings", "scenario", "rules", "group"} <= set(doc["missed"][0])
    assert len(list((tmp_path / "s").glob("*.yaml"))) == len(doc["missed"])
