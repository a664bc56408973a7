"""`diff`: explored over every event sequence of a universe; nothing between a configuration and itself; every
reported difference replays, under A and under B, to the outcomes it states, which differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackproof.explore.diff import DiffResult, diff, diff_text
from trackproof.report.run import compare
from trackproof.simulate.engine import simulate
from trackproof.spec.claims import load_claims
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

DEFAULTS = str(ROOT / "examples" / "settings" / "defaults.yaml")
AUTO_TRACK = str(ROOT / "examples" / "settings" / "auto-track-sent-items.yaml")
SMALL = str(ROOT / "tests" / "universes" / "diff-small.yaml")


def _small(model: Model, a: str, b: str, jobs: int = 1) -> DiffResult:
    return diff(model, a, b, universe=load_claims(SMALL, model), jobs=jobs, where=SMALL)


def _outcomes(model: Model, path: Path, text: str) -> dict[str, tuple[object, ...]]:
    """Run a difference's scenario file: its expectations (the outcomes diff states) must hold."""
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path, model)
    outcomes = simulate(model, scenario)
    assert compare(scenario, outcomes) == []
    return {o.key: (o.stored, o.status, o.accepted_by, o.tracked_by, o.correlated_to, o.parent_activity)
            for o in outcomes}


def _replays(model: Model, result: DiffResult, tmp_path: Path) -> None:
    for d in result.differences:
        a = _outcomes(model, tmp_path / "a.yaml", d.scenario_a)
        b = _outcomes(model, tmp_path / "b.yaml", d.scenario_b)
        assert a != b, d.id
        assert d.outcome_a != d.outcome_b or a != b


def test_a_configuration_does_not_differ_from_itself(model: Model, capsys: pytest.CaptureFixture[str]) -> None:
    assert diff(model, DEFAULTS, DEFAULTS).differences == []
    status, out, _ = cli(capsys, "diff", "--no-cache", DEFAULTS, DEFAULTS)
    assert status == 0 and "nothing can differ" in out


def test_one_switch_differs_over_sequences_and_each_difference_replays(model: Model, tmp_path: Path) -> None:
    """The documented switch: Outlook-sent email and Outlook replies, and, a sequence further, the contact's reply
    to an email sent from Outlook that is now tied to it."""
    result = diff(model, DEFAULTS, AUTO_TRACK)
    _replays(model, result, tmp_path)
    sentences = [d.sentence for d in result.differences]
    assert any(s.startswith("X emails C from Outlook, when") for s in sentences), sentences
    assert any(s.startswith("C emails X; X replies from Outlook") for s in sentences), sentences
    assert any(s.startswith("X emails C from Outlook; C replies") and "tied to the email" in s for s in sentences)
    assert result.stories >= 5 and result.depth == 3


def test_a_colleague_can_be_added(model: Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`diff --with user` failed on valid input ("<gaps universe>:31:6: error[E401]: unknown participant 'X'"):
    without claims, the colleague Y became the only user, while diff compares X's settings. X stays the first user
    and Y joins it: the switch also changes a reply X writes to an email Y got on Cc."""
    result = diff(model, DEFAULTS, AUTO_TRACK, extras=("user",))
    _replays(model, result, tmp_path)
    assert any(d.sentence.startswith("C emails X with Y on Cc; X replies from Outlook") for d in result.differences)
    status, _, err = cli(capsys, "diff", "--no-cache", "--with", "user", "server_side_sync", "outlook_client")
    assert status in (0, 1), err


def test_two_modes_can_be_compared(model: Model, tmp_path: Path) -> None:
    result = _small(model, "server_side_sync", "outlook_client")
    _replays(model, result, tmp_path)
    assert any(s.sentence.startswith("C emails X; X gives it the Tracked to Dynamics 365 category") and
               "with outlook_client, the email is not stored" in s.sentence for s in result.differences)


def test_a_universe_claim_that_fixes_a_compared_setting_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = Path(SMALL).read_text(encoding="utf-8").replace(
        "    universe:\n", "    scope: {fixed: {org.auto_track_sent_items: true}}\n    universe:\n", 1)
    path = tmp_path / "fixes.yaml"
    path.write_text(text, encoding="utf-8")
    status, _, err = cli(capsys, "diff", "--no-cache", "--universe", str(path), DEFAULTS, AUTO_TRACK)
    assert status == 2 and "error[E403]" in err and f"{path}:" in err and "auto_track_sent_items" in err


def test_the_answer_does_not_depend_on_the_jobs(model: Model) -> None:
    one = _small(model, DEFAULTS, AUTO_TRACK, jobs=1)
    two = _small(model, DEFAULTS, AUTO_TRACK, jobs=2)
    assert one.differences and diff_text(one) == diff_text(two)


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
    result = _small(model, DEFAULTS, str(path))
    _replays(model, result, tmp_path)
    if switch in ("auto_track_sent_items", "use_correlation"):
        assert result.differences, f"switching {switch} should change some situation"
    if switch in ("use_correlation", "ignore_header_correlation"):  # the usual reply, tied without Parent Activity Id
        assert any("tied to the email by its tracking token" in d.sentence for d in result.differences), \
            [d.sentence for d in result.differences]


def test_a_settings_file_and_the_mode_it_implies_do_not_differ(model: Model) -> None:
    """A settings file leaves X's sync methods at their defaults (server-side sync): against that mode every
    setting is the same."""
    assert diff(model, DEFAULTS, "server_side_sync").differences == []


_UNIVERSE = """title: diff test universe
claims:
  - id: u
    text: "a test universe"
    universe:
      participants: {{{who}: {{kind: user}}, C: {{kind: contact}}}}
      messages: 2{prefix}
    alphabet: [sync, {alphabet}]
    reachable: "any(e.exists for e in emails)"
"""


def _universe(tmp_path: Path, alphabet: str, prefix: str = "", who: str = "X") -> str:
    path = tmp_path / "universe.yaml"
    path.write_text(_UNIVERSE.format(who=who, alphabet=alphabet,
                                     prefix=f"\n      prefix: [{prefix}]" if prefix else ""), encoding="utf-8")
    return str(path)


def test_a_universe_without_a_prefix_starts_with_its_first_event(model: Model, tmp_path: Path) -> None:
    """Its first message is its start: a reply to it, and the sync after, are explored (they were past the bound)."""
    path = _universe(tmp_path, "{send: {from: X, to: [C], via: crm}}, {reply: {by: [C], subject_changed: true}}")
    off = tmp_path / "no-correlation.yaml"
    off.write_text("settings:\n  org: {use_correlation: false}\n", encoding="utf-8")
    result = diff(model, DEFAULTS, str(off), universe=load_claims(path, model), where=path)
    assert any("C replies, with a new subject" in d.sentence and "tied to the email" in d.sentence
               for d in result.differences), [d.sentence for d in result.differences]


def test_an_outcome_only_one_side_can_reach_is_a_difference(model: Model, tmp_path: Path) -> None:
    """Under server-side sync an email deleted in Outlook before the sync is never tracked, after it it is; with
    the forward mailbox it is tracked either way: the endings differ although each of forward's is one of SSS's."""
    path = _universe(tmp_path, "{delete: {in: [outlook], by: [X], email: E1}}", "{send: {id: E1, from: C, to: [X]}}")
    result = diff(model, "server_side_sync", "forward_mailbox", universe=load_claims(path, model), where=path)
    assert any("deletes it in Outlook" in d.sentence and "one of the 2 ways it can end" in d.sentence
               for d in result.differences), [d.sentence for d in result.differences]
    assert result.compared["X.incoming"] == ("sss", "forward")


def test_diff_names_what_it_compares_and_refuses_a_universe_without_x(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "other").mkdir()
    same_name = tmp_path / "other" / "defaults.yaml"
    same_name.write_text("settings:\n  org: {auto_track_sent_items: true}\n", encoding="utf-8")
    path = _universe(tmp_path, "{reply: {by: [X], email: E1}}", "{send: {id: E1, from: C, to: [X]}}")
    status, out, _ = cli(capsys, "diff", "--no-cache", "--universe", path, DEFAULTS, str(same_name))
    assert status == 0 and "They differ in: org.auto_track_sent_items false -> true" in out
    assert f"with {same_name}," in out and f"with {DEFAULTS}," in out  # one file name for both: their paths
    path = _universe(tmp_path, "{reply: {by: [U], email: E1}}", "{send: {id: E1, from: C, to: [U]}}", who="U")
    status, _, err = cli(capsys, "diff", "--no-cache", "--universe", path, "server_side_sync", "outlook_client")
    assert status == 2 and "error[E401]" in err and "has no user X" in err
