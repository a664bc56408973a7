"""Turn simulation outcomes into the text a person reads and the JSON a program reads.

The JSON shape is a documented contract (docs/scenarios.md, "Output"); change it only by adding keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..simulate.narrate import activity_fields, describe_event
from ..simulate.outcomes import ATTRIBUTE, PARTY_SETS, Outcome
from ..spec.ir import Model
from ..spec.scenario import Scenario


def _json(value: Any, **options: Any) -> str:
    import json  # only when needed: the text path of `run` stays light

    return json.dumps(value, **options)


@dataclass(frozen=True)
class Mismatch:
    key: str
    field: str
    expected: Any
    actual: Any
    where: str


def compare(scenario: Scenario, outcomes: list[Outcome]) -> list[Mismatch]:
    """Expectations of the scenario that the outcomes do not meet."""
    by_key = {o.key: o for o in outcomes}
    out: list[Mismatch] = []
    for key, fields in scenario.expect.items():
        outcome = by_key.get(key)
        for name, (expected, loc) in fields.items():
            actual = getattr(outcome, ATTRIBUTE.get(name, name)) if outcome else None
            if name in PARTY_SETS and outcome is not None:
                actual = tuple(sorted(actual or ()))
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


def grouped(why_not: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The rules that could not fire, those stopped by the same condition named together ("S-accept,
    S-accept-fails": a rule and its failure twin), in the order of their first appearance."""
    order: dict[str, list[str]] = {}
    for rule, why in why_not:
        order.setdefault(why, []).append(rule)
    return [(", ".join(rules), why) for why, rules in order.items()]


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
                             ("tracked by", o.tracked_by),
                             ("correlated to", o.correlated_to)):
            if value:
                extra.append(f"{label} {value}")
        tail = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"{o.key} ({o.side} side): {verdict}{detail}{tail}. Confidence {o.confidence}.")
        recorded = activity_fields(o)
        if recorded:
            lines.append(f"  Activity: {recorded}.")
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
            lines += [f"    - {rules} {'need' if ', ' in rules else 'needs'} {why}"
                      for rules, why in grouped(o.why_not)]
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
            "accepted_by": o.accepted_by, "tracked_by": o.tracked_by, "correlated_to": o.correlated_to,
            "parent_activity": o.parent_activity,
            "from": o.from_, "to": list(o.to), "cc": list(o.cc), "unresolved": list(o.unresolved),
            "queue_items": list(o.queue_items), "categories": dict(sorted(o.categories.items())), "reason": o.reason,
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
