"""Each scenario event as the sentence a consultant would say ("C sends E1 from outside the organisation, to X."):
the events of `run`, of counterexamples and of swimlanes read the same everywhere."""

from __future__ import annotations

import json

from ..spec.scenario import Event

VIA = {"crm": "from Dynamics 365", "outlook": "from Outlook", "outside": "from outside the organisation"}


TOOLS = {"app_for_outlook": "App for Outlook", "legacy_client": "the legacy Dynamics 365 for Outlook client"}


SIMPLE = {
    "sync": "A server-side synchronization cycle runs.",
    "outlook_start": "{user} starts Outlook with the legacy Dynamics 365 for Outlook client.",
    "outlook_stop": "{user} closes Outlook.",
    "untrack": "{by} untracks {email}.",
    "categorize": "{by} gives {email} the Tracked to Dynamics 365 category.",
    "uncategorize": "{by} removes the Tracked to Dynamics 365 category from {email}.",
    "reset_processing_date": "An administrator moves {mailbox}'s mailbox processing date earlier.",
    "resend": "{email} is sent again from Dynamics 365.",
}


def describe_event(e: Event) -> str:
    p = e.params
    if e.kind == "send":
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
        if p.get("subject_changed"):
            text += ", with a new subject"
        if p.get("long_subject"):
            text += ", with a subject too long for a tracking token"
        if p.get("regarding"):
            text += f", Regarding {p['regarding']}"
        return text + "."
    simple = SIMPLE.get(e.kind)
    if simple is not None:
        return simple.format(**{k: v for k, v in p.items() if isinstance(v, str)})
    if e.kind == "track":
        text = f"{p['by']} tracks {p['email']} with {TOOLS.get(p.get('via', 'app_for_outlook'), p.get('via'))}"
        return text + (f", Set Regarding {p['regarding']}." if p.get("regarding") else ".")
    if e.kind == "move":
        tracked = p["to"] == "tracked_folder"
        where = f"a tracked folder mapped to {p['regarding']}" if tracked else f"the {p['to']} folder"
        return f"{p['by']} moves {p['email']} to {where}."
    if e.kind == "delete":
        if p.get("in") == "crm":
            return f"Someone deletes the email activity of {p['email']} in Dynamics 365."
        return f"{p['by']} deletes {p['email']} in Outlook."
    if e.kind == "set":
        return "Settings change: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in p.items()) + "."
    return e.kind  # pragma: no cover
