"""Behaviour of the simulator, in pairs: a setting that makes an email stored, and its opposite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trackproof.simulate.engine import Outcome

Play = Callable[[str], dict[str, Outcome]]

CONTACT_EMAILS_X = """
participants:
  X: {{kind: user, approved: true, enabled: true, filter: {filter}}}
  C: {{kind: contact}}
events:
  - send: {{id: E1, from: C, to: [X]}}
  - sync
"""


@pytest.mark.parametrize(("filter_", "stored"), [
    ("all", True), ("leads_contacts_accounts", True), ("email_enabled", True),
    ("in_response", False), ("no_email", False),
])
def test_filter_decides_a_new_email_from_a_contact(play: Play, filter_: str, stored: bool) -> None:
    outcome = play(CONTACT_EMAILS_X.format(filter=filter_))["E1"]
    assert outcome.stored is stored
    if stored:
        assert outcome.accepted_by == "X"
        assert "S-accept" in outcome.rules
    else:
        assert "S-accept needs" in outcome.reason


def test_why_not_names_the_setting_that_blocked_sent_items(play: Play) -> None:
    outcome = play("""
participants:
  X: {kind: user, approved: true, enabled: true, filter: all}
  C: {kind: contact}
events:
  - send: {id: E1, from: X, to: [C], via: outlook}
  - sync
""")["E1"]
    assert not outcome.stored
    assert "org.auto_track_sent_items" in outcome.reason


def test_crm_email_is_stored_from_the_moment_it_is_sent(play: Play) -> None:
    outcome = play("""
participants:
  X: {kind: user}
  C: {kind: contact}
events:
  - send: {id: E1, from: X, to: [C], via: crm}
""")["E1"]
    assert outcome.stored and outcome.status == "pending_send"
    assert outcome.steps[0].rule == "N-send-crm"


def test_verdict_resting_on_m_rule_says_so(play: Play) -> None:
    outcome = play(CONTACT_EMAILS_X.format(filter="all"))["E1"]
    assert outcome.confidence == "M"
    strong = play("""
participants:
  X: {kind: user, outgoing: sss, approved: true, enabled: true}
  C: {kind: contact}
events:
  - send: {id: E1, from: X, to: [C], via: crm}
  - sync
""")["E1"]
    assert strong.confidence == "H"
    assert strong.assumptions == ()


def test_one_message_gives_one_incoming_activity_whoever_accepts(play: Play) -> None:
    outcomes = play("""
participants:
  X: {kind: user, approved: true, enabled: true, filter: all}
  Y: {kind: user, approved: true, enabled: true, filter: all}
  Q: {kind: queue, approved: true, enabled: true}
  C: {kind: contact}
events:
  - send: {id: E1, from: C, to: [X, Y], cc: [Q]}
  - sync
  - sync
""")
    assert list(outcomes) == ["E1"]
    assert outcomes["E1"].accepted_by == "X"
    assert sum(1 for s in outcomes["E1"].steps if s.rule == "S-accept") == 1


def test_uncertain_default_is_stated_as_an_assumption(play: Play) -> None:
    scenario = """
settings:
  org: {{deployment: on_premises}}
participants:
  X: {{kind: user, incoming: outlook, outgoing: outlook, approved: true, enabled: true{extra}}}
  C: {{kind: contact}}
events:
  - send: {{id: E1, from: X, to: [C], via: crm}}
  - outlook_start: X
"""
    assumed = play(scenario.format(extra=""))["E1"]
    assert assumed.status == "sent"
    assert assumed.confidence == "L"
    assert any(a.startswith("X.send_with_outlook = True") for a in assumed.assumptions)
    explicit = play(scenario.format(extra=", send_with_outlook: true, new_outlook: false"))["E1"]
    assert explicit.assumptions == ()
    assert explicit.confidence == "M"  # R99: CRM email leaves only while Outlook runs (M)


def test_legacy_client_is_refused_online(play: Play) -> None:
    from trackproof.errors import TrackproofError

    with pytest.raises(TrackproofError) as exc:
        play("""
participants:
  X: {kind: user, incoming: outlook}
events: []
""")
    assert exc.value.code == "E403" and "on_premises" in exc.value.message


def test_removing_the_category_clears_it_from_that_item_only(play: Play) -> None:
    # R64: removing Tracked to Dynamics 365 untracks the item, which no longer carries it; the activity stays (R68)
    outcome = play("""
participants:
  X: {kind: user, approved: true, enabled: true}
  Y: {kind: user, approved: true, enabled: true}
  C: {kind: contact}
events:
  - send: {id: E1, from: C, to: [X, Y]}
  - categorize: {email: E1, by: X}
  - sync
  - uncategorize: {email: E1, by: X}
""")["E1"]
    assert outcome.stored and outcome.status == "received" and outcome.tracked_by == "X"
    assert outcome.categorized == ("Y",)
    assert outcome.steps[-1].rule == "N-uncategorize-keeps"


def test_a_delegate_removing_the_category_clears_it_from_the_managers_item(play: Play) -> None:
    outcome = play("""
participants:
  M: {kind: user, approved: true, enabled: true}
  D: {kind: user, approved: true, enabled: true}
  C: {kind: contact}
events:
  - send: {id: E1, from: C, to: [M]}
  - categorize: {email: E1, by: D, mailbox: M}
  - sync
  - uncategorize: {email: E1, by: D, mailbox: M}
""")["E1"]
    assert outcome.stored and outcome.tracked_by == "M"
    assert outcome.categorized == ()


SHARED_TO = """
settings:
  org: {{unresolve_recipients_multiple: {on}}}
participants:
  P: {{kind: user, approved: true, enabled: true, filter: no_email, address: paul@contoso.example}}
  PQ: {{kind: queue, approved: true, enabled: true, address: paul@contoso.example}}
  X: {{kind: user, approved: true, enabled: true}}
  C: {{kind: contact}}
events:
  - send: {{id: E1, from: C, to: [P], cc: [X]}}
  - sync
"""


@pytest.mark.parametrize("on", [True, False])
def test_an_address_several_records_share_stays_unresolved_on_to_when_the_org_says_so(play: Play, on: bool) -> None:
    # R75, R132: To and Cc list every record with the address, unless "Set To, cc, bcc fields as unresolved values
    # if multiple matches are found in Incoming Emails" is Yes; an item not resolved on the email is not categorized
    outcome = play(SHARED_TO.format(on="true" if on else "false"))["E1"]
    assert outcome.stored and outcome.accepted_by == "PQ" and outcome.cc == ("X",)
    if on:
        assert outcome.to == () and outcome.unresolved == ("paul@contoso.example",)
        assert outcome.categorized == ("PQ", "X")
    else:
        assert outcome.to == ("P", "PQ") and outcome.unresolved == ()
        assert outcome.categorized == ("P", "PQ", "X")


QUEUES_TO_CC_BCC = """
settings:
  org: {{queue_items_for_recipients: {recipients}, queue_item_for_synchronizing_mailbox: {synchronizing},
         queue_items_for_tracked_email: {tracked}}}
participants:
  Q1: {{kind: queue, approved: true, enabled: true}}
  Q2: {{kind: queue, approved: true, enabled: true}}
  Q3: {{kind: queue, approved: true, enabled: true}}
  C: {{kind: contact}}
events:
  - send: {{id: E1, from: C, to: [Q1], cc: [Q2], bcc: [Q3]}}
  - sync
"""


@pytest.mark.parametrize("recipients", [True, False])
@pytest.mark.parametrize("synchronizing", [True, False])
@pytest.mark.parametrize("tracked", [True, False])
def test_each_queue_item_setting_adds_its_own_queues(play: Play, recipients: bool, synchronizing: bool,
                                                     tracked: bool) -> None:
    # R82: CreateQueueItemsForAcceptingQueueRecipients -> the resolved queues on To/Cc (Q1, Q2);
    # CreateQueueItemForSynchronizingMailbox -> the mailbox whose processing created the activity (Q1, accepting);
    # SSSCreateAdditionalQueueItemsForAlreadyTrackedEmail -> the other queues whose copy the cycle evaluated (Q2, Q3)
    text = QUEUES_TO_CC_BCC.format(recipients=str(recipients).lower(), synchronizing=str(synchronizing).lower(),
                                   tracked=str(tracked).lower())
    outcome = play(text)["E1"]
    want = ({"Q1", "Q2"} if recipients else set()) | ({"Q1"} if synchronizing else set()) | (
        {"Q2", "Q3"} if tracked else set())
    assert outcome.stored and outcome.accepted_by == "Q1"
    assert set(outcome.queue_items) == want


@pytest.mark.parametrize("unresolved", [True, False])
def test_only_a_resolved_queue_recipient_gets_a_queue_item_for_being_on_to(play: Play, unresolved: bool) -> None:
    # R82: "a queue item for each resolved queue recipient"; with the synchronizing mailbox's item off, a queue whose
    # address another record shares stays unresolved on To (R132) and gets none
    text = SHARED_TO.format(on="true" if unresolved else "false").replace(
        "settings:\n  org: {", "settings:\n  org: {queue_item_for_synchronizing_mailbox: false, ")
    outcome = play(text)["E1"]
    assert outcome.stored and outcome.accepted_by == "PQ"
    assert outcome.queue_items == (() if unresolved else ("PQ",))
