"""The words of a `gaps` entry: a situation and its outcome as a consultant writes them, the settings that matter,
and why (the deciding rule's own reason, from the model). No internal notation: messages are "the email", "the
reply", "the forward"; the second activity of an email between users is "the recipient's activity"; who accepted
is said of received email only."""

from __future__ import annotations

from typing import Any

from ..simulate.outcomes import Outcome
from ..spec.claims import Setting
from ..spec.ir import Model
from ..spec.scenario import Event
from .classes import SETTLE

_VIA = {"crm": "from Dynamics 365", "outlook": "from Outlook"}
_TOOLS = {"app_for_outlook": "App for Outlook", "legacy_client": "the legacy Dynamics 365 for Outlook client",
          "copilot_for_sales": "Copilot for Sales"}
_STATUS = {"sent": "Sent", "received": "Received", "pending_send": "Pending Send", "failed": "Failed",
           "draft": "Draft", "completed": "Completed", "canceled": "Canceled"}


def _names(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return " and ".join(str(v) for v in items)


def _event(e: Event, first: dict[str, Any]) -> str:
    p = e.params
    if e.kind == "send" and "reply_to" in p:
        return f"{p['from']} replies" + (f" {_VIA[p['via']]}" if p.get("via") in _VIA else "")
    if e.kind == "send" and "forward_of" in p:
        return f"{p['from']} forwards it to {_names(p.get('to', []))}" + \
            (f" {_VIA[p['via']]}" if p.get("via") in _VIA else "")
    if e.kind == "send":
        via = p.get("via", "outside")
        text = f"{p['from']} emails {_names(p.get('to', []))}" + (f" {_VIA[via]}" if via in _VIA else "")
        text += f" with {_names(p['cc'])} on Cc" if p.get("cc") else ""
        return text + (f" with {_names(p['bcc'])} on Bcc" if p.get("bcc") else "")
    if e.kind == "track":
        return f"{p['by']} tracks it with {_TOOLS.get(p.get('via', 'app_for_outlook'), p.get('via'))}"
    if e.kind == "categorize":
        return f"{p['by']} gives it the Tracked to Dynamics 365 category"
    if e.kind == "uncategorize":
        return f"{p['by']} removes the category"
    if e.kind == "untrack":
        return f"{p['by']} untracks it"
    if e.kind == "delete":
        return "its activity is deleted in Dynamics 365" if p.get("in") == "crm" else f"{p['by']} deletes it in Outlook"
    return e.kind.replace("_", " ")


def situation_text(events: tuple[Event, ...]) -> str:
    own = [e for e in events if e.kind not in SETTLE]
    first = own[0].params if own else {}
    text = "; ".join(_event(e, first) for e in own)
    return text[:1].upper() + text[1:]


def _message(key: str, events: tuple[Event, ...]) -> str:
    mid, _, side = key.partition(".")
    sent = next((e for e in events if e.kind == "send" and e.params.get("id") == mid), None)
    name = "the email"
    if sent is not None and "reply_to" in sent.params:
        name = "the reply"
    elif sent is not None and "forward_of" in sent.params:
        name = "the forward"
    return f"the recipient's activity for {name}" if side == "incoming" else name


def outcome_text(key: str, o: Outcome, events: tuple[Event, ...]) -> str:
    name = _message(key, events)
    if not o.stored:
        return f"{name} is not stored" + (" (its activity was deleted)" if o.was_stored else "")
    details = [_STATUS.get(str(o.status), str(o.status))]
    if o.direction == "incoming" and o.accepted_by:
        details.append(f"accepted by {o.accepted_by}'s mailbox")
    if o.tracked_by:
        details.append(f"tracked by hand by {o.tracked_by}, no accepting mailbox")
    if o.correlated_to:
        details.append(f"tied to {_message(o.correlated_to, events)}")
    if o.regarding:
        details.append(f"Regarding {o.regarding}")
    return f"{name} is stored ({', '.join(details)})"


def setting_words(settings: dict[Setting, Any]) -> str:
    def value(v: Any) -> str:
        return str(v).lower() if isinstance(v, bool) else str(v)
    return ", ".join(f"{o}.{n} = {value(v)}" for (o, n), v in sorted(settings.items()))


def why(model: Model, outcomes: dict[str, Outcome], changed: dict[Setting, Any]) -> str:
    """The deciding rule in words: the reason of the rule or definition on the outcome's path that reads a setting
    changed from the setup, else the reason of the last rule that fired."""
    names = {n for _, n in changed}
    for o in outcomes.values():
        for rule in (*o.rules, *(r for r, _ in o.why_not)):
            r = model.rule(rule)
            text = getattr(r, "body", None) or getattr(r, "guard", None)
            source = getattr(text, "text", "") or ""
            if any(f".{n}" in source for n in names):
                return " ".join(r.provenance.reason.split())
    for o in outcomes.values():
        fired = [s.rule for s in o.steps if s.rule]
        if fired:
            return " ".join(model.rule(fired[-1]).provenance.reason.split())
    return "No rule tracks it: " + next(iter(outcomes.values())).reason.split(":")[0] if outcomes else ""
