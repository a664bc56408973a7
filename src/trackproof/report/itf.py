"""Counterexamples as traces: the steps that fired, and the ITF trace format of Apalache and Quint."""

from __future__ import annotations

from typing import Any

from ..prove.records import Example, Verdict


def trace(run: Example) -> list[dict[str, Any]]:
    steps = []
    for key, o in run.outcomes.items():
        for s in o.steps:
            if s.rule:
                steps.append({"email": key, "event": s.event, "trigger": s.trigger, "rule": s.rule, "from": s.source,
                              "to": s.dest, "sentence": s.sentence})
    return sorted(steps, key=lambda s: (s["event"], s["email"]))


def itf(verdict: Verdict, run: Example) -> dict[str, Any]:
    """The counterexample as an ITF trace (the Informal Trace Format of Apalache and Quint): one state per rule
    that fired, each giving every email activity's lifecycle state, plus the rule and event that led to it."""
    keys = list(run.outcomes)
    current = {k: "composed" for k in keys}
    states: list[dict[str, Any]] = [{"#meta": {"index": 0}, **current, "rule": "", "event": 0}]
    for step in trace(run):
        current = {**current, step["email"]: step["to"]}
        states.append({"#meta": {"index": len(states)}, **current, "rule": step["rule"], "event": step["event"]})
    return {"#meta": {"format": "ITF", "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
                      "source": verdict.claim.file, "description": f"Counterexample to {verdict.claim.id}"},
            "vars": [*keys, "rule", "event"], "states": states}
