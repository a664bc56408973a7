"""`diff`: nothing between a configuration and itself; every reported difference replays to different outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackproof.explore.diff import diff
from trackproof.report.run import compare
from trackproof.simulate.engine import simulate
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

DEFAULTS = str(ROOT / "examples" / "settings" / "defaults.yaml")


def _outcomes(model: Model, path: Path, text: str) -> dict[str, bool]:
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path, model)
    outcomes = simulate(model, scenario)
    assert compare(scenario, outcomes) == []
    return {o.key: o.stored for o in outcomes}


def test_a_configuration_does_not_differ_from_itself(model: Model, capsys: pytest.CaptureFixture[str]) -> None:
    assert diff(model, DEFAULTS, DEFAULTS).differences == []
    status, out, _ = cli(capsys, "diff", DEFAULTS, DEFAULTS)
    assert status == 0 and "Nothing differs" in out and "proved" in out


def test_one_switch_differs_and_each_difference_replays(model: Model, tmp_path: Path) -> None:
    after = str(ROOT / "examples" / "settings" / "auto-track-sent-items.yaml")
    result = diff(model, DEFAULTS, after)
    assert result.differences
    for d in result.differences:
        a = _outcomes(model, tmp_path / "a.yaml", d.scenario_a)
        b = _outcomes(model, tmp_path / "b.yaml", d.scenario_b)
        assert a != b, d.id
    assert any(d.id.startswith("outlook-to-contact") for d in result.differences)


def test_two_modes_can_be_compared(model: Model) -> None:
    result = diff(model, "server_side_sync", "outlook_client")
    assert any(d.id.startswith("crm-to-contact") for d in result.differences)  # Outlook not running: Pending Send


def _alternatives() -> list[tuple[str, object]]:
    """Every organisation-level setting with a value other than its documented default."""
    from trackproof.spec.loader import load_model

    model = load_model()
    out: list[tuple[str, object]] = []
    for name, attr in sorted(model.vocabulary.groups["org"].items()):
        values = [True, False] if attr.type == "bool" else list(model.vocabulary.enums[attr.type])
        out.append((name, next(v for v in values if v != attr.default)))
    return out


@pytest.mark.parametrize(("switch", "value"), _alternatives())
def test_every_org_switch_against_the_defaults(model: Model, tmp_path: Path, switch: str, value: object) -> None:
    path = tmp_path / f"{switch}.yaml"
    shown = str(value).lower() if isinstance(value, bool) else value
    path.write_text(f"settings:\n  org: {{{switch}: {shown}}}\n", encoding="utf-8")
    result = diff(model, DEFAULTS, str(path))
    for d in result.differences:
        assert d.outcome_a != d.outcome_b
    if switch in ("auto_track_sent_items", "use_correlation", "allow_unresolved"):
        assert result.differences, f"switching {switch} should change some situation"


def test_a_settings_file_and_the_mode_it_implies_do_not_differ(model: Model) -> None:
    """A settings file leaves X's sync methods at their defaults (server-side sync), so against that mode nothing
    differs; every difference reported anywhere is one its two runs show."""
    assert diff(model, DEFAULTS, "server_side_sync").differences == []
