"""Each scenario event as the sentence a consultant would say ("C sends E1 from outside the organisation, to X."),
and what an activity records in words ("From C; To X; ..."): the events and fields of `run`, of counterexamples and
of swimlanes read the same everywhere."""

from __future__ import annotations

import json
from typing import Any

from ..spec.scenario import Event
from .outcomes import Outcome

VIA = {"crm": "from Dynamics 365", "outlook": "from Outlook", "outside": "from outside the organisation"}


TOOLS = {"app_for_outlook": "App for Outlook", "legacy_client": "the legacy Dynamics 365 for Outlook client",
         "copilot_for_sales": "Copilot for Sales (Save to Dynamics 365)"}


SIMPLE = {
    "sync": "A server-side synchronization cycle runs.",
    "outlook_start": "{user} starts Outlook with the legacy Dynamics 365 for Outlook client.",
    "outlook_stop": "{user} closes Outlook.",
    "untrack": "{by} untracks {email}.",
    "categorize": "{by} gives {email} the Tracked to Dynamics 365 category.",
    "uncategorize": "{by} removes the Tracked to Dynamics 365 category from {email}.",
    "reset_processing_date": "An administrator moves {mailbox}'s mailbox processing date earlier.",
    "resend": "{email} is sent again from Dynamics 365.",
    "process_email_from": "An administrator sets {mailbox}'s Process Email From date to now.",
}
FOLDERS = {"subfolder": "a subfolder of the Inbox", "junk": "the Junk Email folder", "deleted": "Deleted Items"}


#: What the optional parameters of a `send` add to its sentence.
SEND_DETAILS = (("subject_changed", ", with a new subject"),
                ("headers_dropped", ", without In-Reply-To and ConversationIndex"),
                ("long_subject", ", with a subject too long for subject and tracking token (cut to fit)"),
                ("token_over_limit", ", with a tracking token longer than the subject limit (left out)"),
                ("create_fails", ", which a plug-in or workflow on email creation fails"),
                ("copy_in_shared", ", a copy saved in the shared mailbox's Sent Items too"),
                ("attachment_over_limit", ", with an attachment over the maximum size"),
                ("irm", ", protected with Information Rights Management"))


def _describe_send(p: dict[str, Any]) -> str:
    verb = "saves" if p.get("draft") else "sends"
    parts = [f"{p['from']} {verb} {p['id']} {VIA.get(p.get('via', 'outside'), '')}"]
    for key, word in (("to", "to"), ("cc", "Cc"), ("bcc", "Bcc")):
        if p.get(key):
            names = p[key] if isinstance(p[key], list) else [p[key]]
            parts.append(f"{word} {', '.join(names)}")
    text = ", ".join(parts)
    if "reply_to" in p:
        text += f", replying to {p['reply_to']}"
    if "forward_of" in p:
        text += f", forwarding {p['forward_of']}"
    if p.get("on_behalf_of"):
        text += f", on behalf of {p['on_behalf_of']}"
    if p.get("subject"):
        text += f", subject {json.dumps(p['subject'])}"
    text += "".join(words for key, words in SEND_DETAILS if p.get(key))
    if p.get("token_kept") and p.get("subject_changed"):
        text += " (the tracking token kept)"
    if p.get("regarding"):
        text += f", Regarding {p['regarding']}"
    return text + "."


def _where(p: dict[str, Any], key: str) -> str:
    if p[key] == "tracked_folder":
        return f"a tracked folder mapped to {p['regarding']}"
    return FOLDERS.get(str(p[key]), str(p[key]))


def _describe_other(e: Event) -> str:
    p = e.params
    if e.kind == "track":
        text = f"{p['by']} tracks {p['email']} with {TOOLS.get(p.get('via', 'app_for_outlook'), p.get('via'))}"
        return text + (f", Set Regarding {p['regarding']}." if p.get("regarding") else ".")
    if e.kind == "move":
        tracked = p["to"] == "tracked_folder"
        where = f"a tracked folder mapped to {p['regarding']}" if tracked else f"the {p['to']} folder"
        return f"{p['by']} moves {p['email']} to {where}."
    if e.kind == "inbox_rule":
        mail = f"email from {p['from']}" if p.get("from") else "email"
        return f"{p['mailbox']} sets up an Inbox rule that moves arriving {mail} to {_where(p, 'moves_to')}."
    if e.kind == "auto_reply":
        headers = ", without In-Reply-To and ConversationIndex" if p.get("headers_dropped") else ""
        return f"{p['from']} sends an automatic reply (out of office), {p['id']}, to {p['to_email']}{headers}."
    if e.kind == "change_regarding":
        return f"Someone changes the Regarding of {p['email']}'s activity in Dynamics 365 to {p['regarding']}."
    if e.kind == "delete":
        if p.get("in") == "crm":
            return f"Someone deletes the email activity of {p['email']} in Dynamics 365."
        return f"{p['by']} deletes {p['email']} in Outlook."
    if e.kind == "set":
        return "Settings change: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in p.items()) + "."
    return e.kind  # pragma: no cover


def _in_mailbox(e: Event, text: str) -> str:
    """A delegate's action: in whose mailbox (R73)."""
    if e.params.get("mailbox") and e.kind in ("track", "categorize", "uncategorize"):
        return f"{text[:-1]} in {e.params['mailbox']}'s mailbox."
    return text


def describe_event(e: Event) -> str:
    return _in_mailbox(e, _describe(e))


def _describe(e: Event) -> str:
    if e.kind == "send":
        return _describe_send(e.params)
    simple = SIMPLE.get(e.kind)
    if simple is not None:
        return simple.format(**{k: v for k, v in e.params.items() if isinstance(v, str)})
    return _describe_other(e)


_CATEGORY = {"tracked": "Tracked to Dynamics 365", "undeliverable": "Undeliverable"}


def activity_fields(o: Outcome) -> str:
    """What a support engineer reads on the activity (From, To, Cc, Parent Activity Id, queue items) and on each
    mailbox's Outlook item (its category), in words; '' when there is neither."""
    parts: list[str] = []
    if o.stored:
        # the From address comes first among the unresolved ones when From is unresolved (outcomes._unresolved)
        red = list(o.unresolved[1:] if o.from_ is None else o.unresolved)
        parts.append(f"From {o.from_ or 'unresolved (' + o.unresolved[0] + ')'}")
        parts.append(f"To {', '.join(o.to) or 'no record'}")
        if o.cc:
            parts.append(f"Cc {', '.join(o.cc)}")
        if red:
            parts.append(f"unresolved (red) {', '.join(red)}")
        if o.parent_activity:
            parts.append(f"Parent Activity Id {o.parent_activity}")
        elif o.correlated_to:
            parts.append("Parent Activity Id empty")
        if o.queue_items:
            parts.append(f"queue items in {', '.join(o.queue_items)}")
    for category, holders in (("tracked", o.categorized), ("undeliverable", o.undeliverable)):
        if holders:
            parts.append(f"{_CATEGORY[category]} category on the Outlook item of {', '.join(sorted(holders))}")
    return "; ".join(parts)
