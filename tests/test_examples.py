"""Every scenario under examples/ states its expected outcome, and the simulator meets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackproof.report.run import compare
from trackproof.simulate.engine import simulate
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))


def test_there_are_at_least_thirty_examples() -> None:
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_meets_its_expectations(model: Model, path: Path) -> None:
    scenario = load_scenario(path, model)
    assert scenario.expect, f"{path.name} states no expected outcome"
    outcomes = simulate(model, scenario)
    mismatches = compare(scenario, outcomes)
    assert not mismatches, "\n".join(f"{m.key}.{m.field}: expected {m.expected!r}, got {m.actual!r}"
                                      for m in mismatches)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_outcome_names_rules_and_a_reason(model: Model, path: Path) -> None:
    for outcome in simulate(model, load_scenario(path, model)):
        assert outcome.reason.endswith(".")
        assert outcome.rules, outcome.key
        for rule in outcome.rules:
            assert model.rule(rule).provenance.sources
