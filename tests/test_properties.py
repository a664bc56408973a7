"""Property-based tests: random scenarios never crash the simulator, and invariants hold on every one of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackproof.errors import TrackproofError
from trackproof.simulate.engine import simulate
from trackproof.spec.ir import Model
from trackproof.spec.loader import load_model
from trackproof.spec.scenario import load_scenario

MODEL = load_model()
PEOPLE = {"X": "user", "Y": "user", "Q": "queue", "C": "contact", "U": "unknown"}
FILTERS = MODEL.vocabulary.enums["filter"]


@st.composite
def scenarios(draw: Any) -> str:
    x = {"filter": draw(st.sampled_from(FILTERS)), "approved": draw(st.booleans()), "enabled": draw(st.booleans()),
         "incoming": draw(st.sampled_from(["sss", "none", "forward"])),
         "outgoing": draw(st.sampled_from(["sss", "none"]))}
    org = {k: draw(st.booleans()) for k in ("use_correlation", "auto_track_sent_items", "two_activities",
                                             "use_tracking_tokens", "allow_unresolved")}
    events: list[str] = []
    emails: list[str] = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["send", "sync", "track", "delete_outlook", "categorize"] if emails
                                    else ["send"]))
        if kind == "send":
            eid = f"E{i}"
            sender = draw(st.sampled_from(["X", "C", "U"]))
            via = {"X": draw(st.sampled_from(["crm", "outlook"])), "C": "outside", "U": "outside"}[sender]
            to = draw(st.sampled_from(["C", "Y", "Q"] if sender == "X" else ["X", "Q"]))
            events.append(f"  - send: {{id: {eid}, from: {sender}, to: [{to}], via: {via}}}")
            emails.append(eid)
        elif kind == "sync":
            events.append("  - sync")
        else:
            eid = draw(st.sampled_from(emails))
            action = {"track": "track", "delete_outlook": "delete", "categorize": "categorize"}[kind]
            events.append(f"  - {action}: {{email: {eid}, by: X}}")
    events.append("  - sync")
    people = "\n".join(f"  {p}: {{kind: {k}" + (", " + ", ".join(f"{a}: {str(v).lower()}" for a, v in x.items())
                                                  if p == "X" else (", approved: true, enabled: true"
                                                                    if k in ("user", "queue") else "")) + "}"
                       for p, k in PEOPLE.items())
    org_text = ", ".join(f"{k}: {str(v).lower()}" for k, v in org.items())
    return f"settings:\n  org: {{{org_text}}}\nparticipants:\n{people}\nevents:\n" + "\n".join(events) + "\n"


def _play(model: Model, text: str, tmp: Path) -> list[Any] | None:
    path = tmp / "random.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        return simulate(model, load_scenario(path, model))
    except TrackproofError as err:
        assert err.code in ("E404", "E403"), err.message  # an impossible event is refused, never a crash
        return None


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenarios())
def test_random_scenarios_keep_the_invariants(tmp_path: Path, text: str) -> None:
    outcomes = _play(MODEL, text, tmp_path)
    if outcomes is None:
        return
    sent_from_crm = {line.split("id: ")[1].split(",")[0] for line in text.splitlines() if "via: crm" in line}
    for o in outcomes:
        assert o.reason and o.rules is not None
        if o.message in sent_from_crm and o.side == "outgoing":
            assert o.stored, f"an email sent from CRM exists from the moment it is sent: {o.key}"
        assert o.stored == (o.status is not None)
    # deleting an Outlook item never deletes an activity: whatever was stored just before the first deletion in
    # Outlook is still stored at the end (nothing here deletes in Dynamics 365)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if "delete:" in line), None)
    if first is not None:
        before = _play(MODEL, "\n".join(lines[:first]) + "\n", tmp_path)
        if before is not None:
            end = {o.key: o.stored for o in outcomes}
            assert all(end[o.key] for o in before if o.stored)
