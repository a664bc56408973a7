"""Turn simulation outcomes into the text a person reads and the JSON a program reads.

The JSON shape is a documented contract (docs/scenarios.md, "Output"); change it only by adding keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..simulate.outcomes import Outcome
from ..spec.ir import Model
from ..spec.scenario import Event, Scenario


def _json(value: Any, **options: Any) -> str:
    import json  # only when needed: the text path of `run` stays light

    return json.dumps(value, **options)


VIA = {"crm": "from Dynamics 365", "outlook": "from Outlook", "outside": "from outside the organisation"}
TOOLS = {"app_for_outlook": "App for Outlook", "legacy_client": "the legacy Dynamics 365 for Outlook client"}


@dataclass(frozen=True)
class Mismatch:
    key: str
    field: str
    expected: Any
    actual: Any
    where: str


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
                ("create_fails", ", which a plug-in or workflow on email creation fails"))


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
    if p.get("subject"):
        text += f", subject {_json(p['subject'])}"
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
        return "Settings change: " + ", ".join(f"{k} = {_json(v)}" for k, v in p.items()) + "."
    return e.kind  # pragma: no cover


def describe_event(e: Event) -> str:
    if e.kind == "send":
        return _describe_send(e.params)
    simple = SIMPLE.get(e.kind)
    if simple is not None:
        return simple.format(**{k: v for k, v in e.params.items() if isinstance(v, str)})
    return _describe_other(e)


def compare(scenario: Scenario, outcomes: list[Outcome]) -> list[Mismatch]:
    """Expectations of the scenario that the outcomes do not meet."""
    by_key = {o.key: o for o in outcomes}
    out: list[Mismatch] = []
    for key, fields in scenario.expect.items():
        outcome = by_key.get(key)
        for name, (expected, loc) in fields.items():
            actual = getattr(outcome, name) if outcome else None
            if outcome is None or actual != expected:
                out.append(Mismatch(key, name, expected, actual if outcome else "(no such email)", str(loc)))
    return out


def _rule_line(model: Model, rules: tuple[str, ...]) -> str:
    weak = [f"{r} ({model.rule(r).provenance.confidence})" for r in rules
            if model.rule(r).provenance.confidence != "H"]
    text = ", ".join(rules)
    if weak:
        text += ". Rests on rules of lower confidence: " + ", ".join(weak)
    return text


def reading_text(model: Model, scenario: Scenario, point: str, choice: str) -> str:
    """One reading an outcome rests on: which, how sure, and whether the scenario chose it or it is the default."""
    r = model.readings[point]
    level = r.choices[choice].confidence
    if point in scenario.readings:
        return f"{point} = {choice} (chosen, confidence {level}; the default is {r.default})"
    others = ", ".join(c for c in r.choices if c != choice)
    return f"{point} = {choice} (the default reading, confidence {level}; also documented: {others})"


def readings_json(model: Model, scenario: Scenario, readings: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    out = []
    for point, choice in readings:
        r = model.readings[point]
        c = r.choices[choice]
        out.append({"point": point, "reading": choice, "default": r.default, "chosen": point in scenario.readings,
                    "confidence": c.confidence, "question": r.question, "says": c.says, "sources": list(c.sources),
                    "others": [k for k in r.choices if k != choice]})
    return out


def to_text(model: Model, scenario: Scenario, outcomes: list[Outcome], mismatches: list[Mismatch],
            watched: tuple[str, list[tuple[int, Any]]] | None = None) -> str:
    lines = [f"Scenario: {scenario.name}  ({scenario.path})"]
    if scenario.description:
        lines.append(scenario.description)
    lines.append("")
    lines.append("Events:")
    lines += [f"  {e.number}. {describe_event(e)}" for e in scenario.events]
    if watched is not None:
        lines.append("")
        lines.append(f"Watch `{watched[0]}`: " + "; ".join(f"after event {n}: {_json(v)}" for n, v in watched[1]))
    for o in outcomes:
        lines.append("")
        verdict = "STORED" if o.stored else "NOT STORED"
        detail = f" as {o.status}, {o.direction}" if o.stored else ""
        extra = []
        for label, value in (("Regarding", o.regarding), ("accepted by", o.accepted_by),
                             ("correlated to", o.correlated_to)):
            if value:
                extra.append(f"{label} {value}")
        tail = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"{o.key} ({o.side} side): {verdict}{detail}{tail}. Confidence {o.confidence}.")
        n = 0
        for step in o.steps:
            if step.rule is None and not step.sentence:
                continue
            n += 1
            tag = f"  [{step.rule}]" if step.rule else ""
            lines.append(f"  {n}. At event {step.event}: {step.sentence}{tag}")
        if o.why_not:
            lines.append(f"  Why: {o.reason.split(' At event ')[0]}")
            lines.append(f"  At event {o.why_not_event} no rule could fire:")
            lines += [f"    - {rule} needs {why}" for rule, why in o.why_not]
        else:
            lines.append(f"  Why: {o.reason}")
        if o.assumptions:
            lines.append("  Assumes: " + "; ".join(o.assumptions))
        if o.readings:
            lines.append("  Readings: " + "; ".join(reading_text(model, scenario, p, c) for p, c in o.readings))
        lines.append(f"  Rules: {_rule_line(model, o.rules)}")
    if scenario.expect:
        lines.append("")
        total = sum(len(f) for f in scenario.expect.values())
        if mismatches:
            lines.append(f"Expectations: {total - len(mismatches)} met, {len(mismatches)} NOT met:")
            lines += [f"  {m.where}: {m.key}.{m.field}: expected {_json(m.expected)}, got {_json(m.actual)}"
                      for m in mismatches]
        else:
            lines.append(f"Expectations: all {total} met.")
    return "\n".join(lines) + "\n"


def to_json(model: Model, scenario: Scenario, outcomes: list[Outcome], mismatches: list[Mismatch],
            watched: tuple[str, list[tuple[int, Any]]] | None = None) -> str:
    emails: dict[str, Any] = {}
    for o in outcomes:
        emails[o.key] = {
            "stored": o.stored, "status": o.status, "direction": o.direction, "regarding": o.regarding,
            "accepted_by": o.accepted_by, "correlated_to": o.correlated_to, "reason": o.reason,
            "rules": list(o.rules), "message": o.message, "side": o.side, "confidence": o.confidence,
            "assumptions": list(o.assumptions), "readings": readings_json(model, scenario, o.readings),
            "why_not": [{"event": o.why_not_event, "rule": r, "false": why} for r, why in o.why_not],
            "steps": [{"event": s.event, "trigger": s.trigger, "rule": s.rule, "from": s.source, "to": s.dest,
                       "sentence": s.sentence, "missed": [{"rule": r, "false": why} for r, why in s.missed]}
                      for s in o.steps],
        }
    doc: dict[str, Any] = {"scenario": scenario.path, "name": scenario.name, "emails": emails}
    if watched is not None:
        doc["watch"] = {"expression": watched[0], "values": [{"event": n, "value": v} for n, v in watched[1]]}
    if scenario.expect:
        doc["expectations"] = {
            "met": sum(len(f) for f in scenario.expect.values()) - len(mismatches),
            "failed": [{"email": m.key, "field": m.field, "expected": m.expected, "actual": m.actual,
                        "where": m.where} for m in mismatches],
        }
    return _json(doc, indent=2, ensure_ascii=False) + "\n"
