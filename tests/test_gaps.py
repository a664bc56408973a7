"""`gaps`: classes from exploring every event sequence; every entry replays to its outcome, says it once, in a
consultant's words, and shows a member where its own last event changes the outcome; the output does not depend on
`--jobs`."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from trackproof.explore.gaps import Gaps, find_gaps
from trackproof.explore.situations import FIELDS, whole
from trackproof.report.run import compare
from trackproof.simulate.engine import simulate
from trackproof.spec.claims import Claim, load_claims
from trackproof.spec.ir import Model
from trackproof.spec.scenario import load_scenario

from .conftest import ROOT, cli

FORUM = ROOT / "proofs" / "forum-claims.yaml"
SMALL = ROOT / "tests" / "universes" / "gaps-small.yaml"
SETTLE = ("sync", "outlook_start", "outlook_stop")


@pytest.fixture(scope="module")
def forum_claims(model: Model) -> list[Claim]:
    return load_claims(FORUM, model)


@pytest.fixture(scope="module")
def forum_gaps(model: Model, forum_claims: list[Claim]) -> Gaps:
    return find_gaps(model, forum_claims, jobs=2)


def _outcomes(model: Model, path: Path) -> tuple[object, list[object]]:
    scenario = load_scenario(path, model)
    return scenario, simulate(model, scenario)


def test_every_entry_replays_to_its_outcome(model: Model, forum_gaps: Gaps, tmp_path: Path) -> None:
    assert forum_gaps.missed and len(forum_gaps.missed) <= 40
    for m in forum_gaps.missed:
        path = tmp_path / f"{m.id}.yaml"
        path.write_text(m.scenario, encoding="utf-8")
        scenario, outcomes = _outcomes(model, path)
        assert compare(scenario, outcomes) == [], m.id  # type: ignore[arg-type]
        assert {o.key: (o.status if o.stored else "not stored") for o in outcomes} == m.outcome, m.id  # type: ignore[attr-defined]


def test_the_folding_key_is_the_whole_outcome(model: Model, forum_gaps: Gaps) -> None:
    """The old key (stored, status, accepted_by is not None, regarding is not None) hid who accepted and what a
    reply correlated to."""
    assert {"accepted_by", "correlated_to", "regarding", "direction"} <= set(FIELDS)
    from trackproof.simulate.outcomes import Outcome

    a = Outcome("E2", "E2", "incoming", True, "received", "incoming", None, "X", "E1", "", (), "H", ())
    assert whole({"E2": a}) != whole({"E2": replace(a, correlated_to=None)})
    assert whole({"E2": a}) != whole({"E2": replace(a, accepted_by="Y")})


def test_sentences_are_said_once_without_internal_notation(forum_gaps: Gaps) -> None:
    sentences = [m.sentence for m in forum_gaps.missed]
    assert len(sentences) == len(set(sentences))
    for s in sentences:
        assert not re.search(r"\bE\d", s) and "rule path" not in s, s  # no "E1.incoming", no "(16 rule paths)"
        assert "Sent, accepted by" not in s, s  # who accepted is said of received email only
    assert all(m.why and m.confidence in "LMH" for m in forum_gaps.missed)


def test_the_last_action_of_each_entry_changes_its_outcome(model: Model, forum_gaps: Gaps, tmp_path: Path) -> None:
    """A representative where the situation's own event did nothing (tracking what the filter stored; deleting
    what was never stored) is not shown: without its last own event, the same scenario ends otherwise."""
    import yaml

    checked = kept = 0
    for m in forum_gaps.missed:
        doc = yaml.safe_load(m.scenario)
        own = [i for i, e in enumerate(doc["events"]) if (e if isinstance(e, str) else next(iter(e))) not in SETTLE]
        if len(own) < 2:
            continue
        last = own[-1]
        events = doc["events"][:last] + [e for e in doc["events"][last + 1:]]
        ids = {k for e in events if isinstance(e, dict) for v in e.values() if isinstance(v, dict)
               for k in [v.get("id")] if k}
        doc["events"], doc["expect"] = events, {}
        path = tmp_path / f"{m.id}-without.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        _, outcomes = _outcomes(model, path)
        before = {o.key: (o.status if o.stored else "not stored") for o in outcomes}  # type: ignore[attr-defined]
        if m.kept:  # the lesson is that the action changes nothing: without it, the same
            assert before == m.outcome, m.id
            kept += 1
            continue
        assert before != {k: v for k, v in m.outcome.items() if k.split(".")[0] in ids} or \
            before != m.outcome, m.id
        checked += 1
    assert checked and kept


def test_legacy_replies_are_explored(model: Model, forum_claims: list[Claim]) -> None:
    """The old catalogue put a sync, not Outlook starting, before a reply under the legacy client: E1 never left
    (E404) and the reply situations silently gave no class. Exploring, a reply is reached under the legacy client."""
    import z3

    from trackproof.explore.stories import cast_of, depth_of, stories
    from trackproof.prove.reach import explore
    from trackproof.prove.setup import prepare

    story = next(s for s in stories(model, cast_of(forum_claims))
                 if s.universe is not None and s.universe.prefix[0].params.get("via") == "crm")
    setup = prepare(model, story)
    found = explore(model, story, setup, max_depth=depth_of(story))
    legacy = setup.space.equals(("X", "incoming"), "outlook")
    solver = z3.Solver()
    solver.add(*setup.base)
    assert any("E2" in n.state.messages and solver.check(n.condition, legacy) == z3.sat for n in found.nodes)


def test_gaps_cli_json_and_scenarios(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = cli(capsys, "gaps", str(FORUM), "--universe", str(SMALL), "--format", "json", "--scenarios",
                         str(tmp_path / "s"), "--jobs", "1")
    assert status == 0
    doc = json.loads(out)
    assert {"classes", "covered", "no_effect", "missed", "setups", "stories", "depth"} <= set(doc)
    assert {"id", "sentence", "situation", "outcome", "settings", "setup", "why", "confidence", "rules", "group",
            "scenario"} <= set(doc["missed"][0])
    assert len(list((tmp_path / "s").glob("*.yaml"))) == len(doc["missed"])
    status2, out2, _ = cli(capsys, "gaps", str(FORUM), "--universe", str(SMALL), "--format", "json", "--jobs", "2",
                           "--no-cache")
    assert status2 == 0 and out2 == out  # the same bytes whatever --jobs, cached or not


def test_a_universe_file_without_universe_claims_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    plain = ROOT / "tests" / "claims" / "conclusions.yaml"  # claims with fixed premises only
    status, _, err = cli(capsys, "gaps", str(FORUM), "--universe", str(plain))
    assert status == 2 and "error[E105]" in err


def test_the_documented_lessons_are_listed_once(forum_gaps: Gaps) -> None:
    """Scenarios the forum post forgot, each found by exploration (none named in a catalogue): a mailbox not
    approved or not enabled keeps an email sent from Dynamics 365 in Pending Send; incoming method none stores no
    reply; an address that matches no record leaves a Draft; App for Outlook and the category track by hand (no
    accepting mailbox); deleting the activity in Dynamics 365 removes it. The first two were hidden when a class
    needed a sync arrival to end (Pending Send never changes at a sync) and when any claim whose scope reaches the
    outcome covered it."""
    def entries(**settings: object) -> list[str]:
        return [m.sentence for m in forum_gaps.missed if m.settings == settings]

    assert any("Pending Send" in s for s in entries(**{"X.approved": False}))
    assert any("Pending Send" in s for s in entries(**{"X.enabled": False}))
    assert any("reply is not stored" in s for s in entries(**{"X.incoming": "none"}))
    assert any("Draft" in s for s in entries(**{"C.kind": "unknown"}))
    untouched = [m.sentence for m in forum_gaps.missed if not m.settings]
    assert any("App for Outlook" in s and "tracked by hand" in s for s in untouched)
    assert any("category" in s and "tracked by hand" in s for s in untouched)
    assert any("deleted in Dynamics 365" in s for s in untouched)
    kept = [m.sentence for m in forum_gaps.missed if m.kept]  # what an action does not do
    assert any("removes the category" in s and "still stored" in s for s in kept)
    assert any("deletes it in Outlook" in s and "still stored" in s for s in kept)
    assert any("App for Outlook" in s and "still not stored" in s for s in kept)
    assert len({m.sentence for m in forum_gaps.missed}) == len(forum_gaps.missed)  # each said once
    moved = [(m.settings, m.outcome) for m in forum_gaps.missed if len(m.settings) == 1]
    assert len(moved) == len({repr(x) for x in moved})  # one changed setting, the same outcome: one lesson


def test_the_model_definitions_the_words_read_exist(model: Model) -> None:
    """How a reply is tied is said from the model's correlation definitions, by name: renaming one in the model
    must fail here, not silently change the words."""
    from trackproof.explore.words import MODEL_NAMES

    assert MODEL_NAMES and [n for n in MODEL_NAMES if n not in model.definitions] == []


def test_a_colleague_with_a_broader_filter_accepts_for_everyone(forum_gaps: Gaps) -> None:
    """R54: an email is tracked when any resolved recipient's filter accepts it. The forum claims have one user;
    gaps adds a story with a colleague on Cc (only its filter free) and shows what the colleague's mailbox changes,
    said for the rule that decided it (the filter), not for the Bcc clause of acceptance the run never took."""
    entries = [m for m in forum_gaps.missed if m.settings == {"Y.filter": "all"}]
    assert len(entries) == 1, [m.sentence for m in forum_gaps.missed if "Y" in m.sentence]
    entry = entries[0]
    assert "with Y on Cc" in entry.sentence and "accepted by Y's mailbox" in entry.sentence
    assert "Bcc" not in entry.why and "filter" in entry.why
    # what the colleague's story shows besides (the first user's own filter) the first user's stories show
    assert not [m for m in forum_gaps.missed if "with Y on Cc" in m.sentence and "Y." not in repr(m.settings)]


def test_what_an_action_kept_from_happening_is_said_for_the_rule_it_stopped(forum_gaps: Gaps) -> None:
    """C emails X; X deletes it in Outlook before a sync: not stored, even with X's filter at All. No rule differs
    from the setup (nothing is stored there either), so the words were those of the first rule that could have
    fired, tracked folders, which have nothing to do with it: a sync evaluates only the Inbox."""
    entry = next(m for m in forum_gaps.missed if m.sentence.startswith("C emails X; X deletes it in Outlook:"))
    assert entry.settings == {"X.filter": "all"} and "not stored" in entry.sentence
    assert "root Inbox" in entry.why and "tracked folder" not in entry.why


def test_a_colleague_on_cc_hides_none_of_the_first_users_lessons(model: Model, forum_claims: list[Claim],
                                                                forum_gaps: Gaps) -> None:
    """`gaps --with user`: the story with the colleague on Cc teaches "stored when X.filter = all" first; a lesson
    was shown once per change of settings, so "C emails X; X deletes it in Outlook: not stored when X.filter = all"
    (the same change, another rule: what a sync evaluates) was hidden, although `gaps` alone shows it. A change of
    settings is one lesson per rule it decides by."""
    alone = {m.sentence for m in forum_gaps.missed if m.sentence.startswith("C emails X; X deletes it in Outlook:")}
    with_user = find_gaps(model, forum_claims, ("user",), jobs=2)
    assert alone and alone <= {m.sentence for m in with_user.missed}, [m.sentence for m in with_user.missed]


def test_the_colleague_story_is_added_only_where_the_claims_have_no_colleague(model: Model,
                                                                             forum_claims: list[Claim]) -> None:
    from trackproof.explore.stories import cast_of, stories, with_colleague

    alone = cast_of(forum_claims)
    added = with_colleague(alone)
    assert added is not None and added.users == ("X", "Y") and added.like["Y"] == alone.first
    assert alone.first and alone.first.get("incoming") == "sss"  # set up as the claims set up the first user
    assert with_colleague(cast_of(forum_claims, ("user",))) is None
    told = stories(model, alone, colleague=True)
    assert len(told) == len(stories(model, alone)) + 1
    assert set(told[-1].scenario.participants) == {"X", "Y", "C"}


def test_the_classes_do_not_depend_on_what_ran_before(model: Model, forum_claims: list[Claim],
                                                      forum_gaps: Gaps) -> None:
    """A second exploration in the same process (Z3 terms and caches warm, worlds reached in another order) gives
    the same entries: a class's settings are split by the sequences behind each world, not taken from the first
    arrival's."""
    again = find_gaps(model, forum_claims, jobs=1)
    assert [(m.sentence, m.scenario) for m in again.missed] == [(m.sentence, m.scenario) for m in forum_gaps.missed]


def test_a_universe_claim_never_reaches_a_lesson_about_someone_it_lacks(model: Model,
                                                                        forum_claims: list[Claim]) -> None:
    """`gaps --with user` crashed (KeyError 'Y') when it asked whether SSS-2u, whose universe has X and C only,
    plays a lesson whose settings name the added colleague: such a claim cannot reach it."""
    from trackproof.explore.classes import Lesson, _plays

    universe = next(c for c in forum_claims if c.universe is not None)
    lesson = Lesson(situation=(), outcome=(), events=tuple(universe.universe.prefix),  # type: ignore[union-attr]
                    settings={("Y", "filter"): "all", ("X", "filter"): "all"}, changed={}, setup=0, outcomes={})
    assert _plays(model, universe, lesson) is False


_ONE_ACTION = """title: one action after one email
claims:
  - id: one-action
    text: "every sequence after one email"
    universe:
      participants: {{X: {{kind: user}}, C: {{kind: contact}}}}
      messages: 1
      prefix: [{{send: {{id: E1, {first}}}}}]
    alphabet: [sync, {action}]
    reachable: "any(e.exists for e in emails)"
"""


def _one_action(model: Model, tmp_path: Path, first: str, action: str) -> Gaps:
    path = tmp_path / "one-action.yaml"
    path.write_text(_ONE_ACTION.format(first=first, action=action), encoding="utf-8")
    return find_gaps(model, [], universe=load_claims(path, model), jobs=1)


def test_a_situation_keeps_its_settings_where_another_reached_the_same_world_first(model: Model,
                                                                                   tmp_path: Path) -> None:
    """X untracks an email sent from Dynamics 365 and stored at once: the world is the one the email alone rests
    in, under the same settings. The exploration kept only the first sequence's settings at a world, so this
    situation had none and its lesson (the activity is kept) was never found."""
    found = _one_action(model, tmp_path, "from: X, to: [C], via: crm", "{untrack: {by: [X], email: E1}}")
    assert any(m.kept and "untracks it" in m.sentence and "still stored" in m.sentence
               for m in found.missed), [m.sentence for m in found.missed]


def test_removing_a_category_that_was_never_there_is_no_lesson(model: Model, tmp_path: Path) -> None:
    """The Outlook item of an email sent from Dynamics 365 has no Tracked to Dynamics 365 category to remove: that
    its activity stays says nothing of removing the category (the email tracked by the category says it)."""
    found = _one_action(model, tmp_path, "from: X, to: [C], via: crm", "{uncategorize: {by: [X], email: E1}}")
    assert not any(m.kept for m in found.missed), [m.sentence for m in found.missed]


def test_an_action_that_undoes_tracking_teaches_nothing_before_there_is_anything_to_undo(model: Model,
                                                                                         tmp_path: Path) -> None:
    """Deleting the activity in Dynamics 365 before any sync has created it leaves the email to be tracked at the
    next sync: not a lesson that deleting keeps the activity."""
    found = _one_action(model, tmp_path, "from: C, to: [X]", "{delete: {in: [crm], email: E1}}")
    assert not any(m.kept for m in found.missed), [m.sentence for m in found.missed]


def test_how_a_reply_is_tied_is_listed(model: Model, forum_gaps: Gaps) -> None:
    """"Smart matching correlates it" and "it is not correlated" disappeared: a reply tied by In-Reply-To, by its
    tracking token or by smart matching had one whole outcome (the same Correlated Activity Id), and every reply
    situation is a claim's premise (SSS-2, SSS-4b, SSS-6, ...), whose conclusion reads only whether the reply is
    stored: the claims covered them. Parent Activity Id is part of the whole outcome now, and a claim does not cover
    what a reply is tied to, which it does not read. Each entry is listed once, within 40, and its scenario expects
    the tie and the Parent Activity Id (empty)."""
    assert len(forum_gaps.missed) <= 40
    smart = [m for m in forum_gaps.missed if "tied to the email by smart matching" in m.sentence]
    assert len(smart) == 1 and smart[0].settings.get("org.smart_matching") is True, [m.sentence for m in smart]
    assert "correlated_to: E1, parent_activity: null" in smart[0].scenario
    assert smart[0].why.startswith("Smart matching ties a message")
    token = [m for m in forum_gaps.missed if "tied to the email by its tracking token" in m.sentence]
    assert len(token) == 1 and len(token[0].settings) == 1, [m.sentence for m in token]
    untied = [m for m in forum_gaps.missed if "not tied to the email" in m.sentence]
    assert untied and all("correlated_to: null" in m.scenario for m in untied)
    assert any(m.group == "sent from Dynamics 365" and m.settings.get("org.use_tracking_tokens") is False
               for m in untied), [m.sentence for m in untied]


def _reply_story(via: str, where: str) -> str:
    """A universe file with one story: X emails C (`via`), then every sequence of syncs and C's reply."""
    return f"""title: replies to an email sent from {where}
claims:
  - id: replies
    text: "every sequence after an email from {where}"
    universe:
      participants: {{X: {{kind: user}}, C: {{kind: contact}}}}
      messages: 2
      prefix: [{{send: {{id: E1, from: X, to: [C], via: {via}}}}}]
    alphabet: [sync, {{reply: {{by: [C], email: E1}}}}]
    reachable: "any(e.exists for e in emails)"
"""


def test_a_reply_tied_by_smart_matching_is_a_class_of_its_own(model: Model, tmp_path: Path) -> None:
    """A reply tied by smart matching and one tied by In-Reply-To have the same Correlated Activity Id; only Parent
    Activity Id (empty for smart matching) tells them apart, and it was not part of the whole outcome (nor kept in
    the worlds, which leave out what nothing reads): the two were one class, shown by the In-Reply-To one. A
    universe file's story keeps it too, though its property does not read it."""
    from trackproof.explore.gaps import _explore
    from trackproof.explore.words import tied_by

    path = tmp_path / "replies.yaml"
    path.write_text(_reply_story("outlook", "Outlook"), encoding="utf-8")
    story = load_claims(path, model)[0]
    found = _explore(model, story, [], [{}], True)
    ties = {tied_by(o) for lesson in found.lessons for o in lesson.outcomes.values() if o.correlated_to}
    assert {"", "smart matching"} <= ties, ties  # In-Reply-To and smart matching, two classes
    smart = [lesson for lesson in found.lessons
             if any(tied_by(o) == "smart matching" for o in lesson.outcomes.values())]
    assert all(lesson.settings[("org", "smart_matching")] is True and lesson.outcomes["E2"].parent_activity is None
               for lesson in smart)


_CLAIM = """title: claims about whether an email and its reply are stored
claims:
  - id: sent-stored
    text: "If User X send an email from within CRM to a Contact, that email will appear (stored) in CRM."
    scope: &sss {fixed: {X.incoming: sss, X.outgoing: sss, X.approved: true, X.enabled: true, X.owner_can_sync: true}}
    participants: &xc {X: {kind: user}, C: {kind: contact}}
    events:
      - send: {id: E1, from: X, to: [C], via: crm}
      - sync
    conclusion: "E1.stored"
  - id: reply-stored
    text: "Any reply to that email will appear in CRM."
    scope: *sss
    participants: *xc
    events:
      - send: {id: E1, from: X, to: [C], via: crm}
      - sync
      - send: {id: E2, from: C, to: [X], reply_to: E1}
      - sync
    conclusion: "E2.stored"
"""


def test_a_claim_does_not_cover_what_its_conclusion_does_not_read(model: Model, tmp_path: Path) -> None:
    """A claim about whether the reply is stored covers, inside its scope, the classes of its situation it tells
    apart; a reply tied by its tracking token (headers off) is stored like one tied by In-Reply-To: the claim does
    not say which, and that is a lesson, on top of the claim's setup."""
    (tmp_path / "claim.yaml").write_text(_CLAIM, encoding="utf-8")
    (tmp_path / "story.yaml").write_text(_reply_story("crm", "Dynamics 365"), encoding="utf-8")
    claims = load_claims(tmp_path / "claim.yaml", model)
    found = find_gaps(model, claims, universe=load_claims(tmp_path / "story.yaml", model), jobs=1)
    replies = [m for m in found.missed if "C replies" in m.sentence]
    token = [m for m in replies if "tied to the email by its tracking token" in m.sentence]
    assert token and token[0].setup == 1 and len(token[0].settings) == 1, [m.sentence for m in replies]
    # the usual reply, tied by In-Reply-To under the claim's setup, stays covered
    assert not any(m.settings == {} for m in replies), [m.sentence for m in replies]
