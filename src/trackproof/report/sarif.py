"""Verdicts as SARIF 2.1.0, which code-scanning tools read: a result per claim that is not proved and per model
fault, located at the claim or the rule in its file."""

from __future__ import annotations

from typing import Any

from ..prove.records import Verdict
from ..spec.ir import Model
from .check import condition_text, sentences


def sarif(model: Model, verdicts: list[Verdict], findings: list[Any]) -> dict[str, Any]:
    """SARIF 2.1.0, which code-scanning tools read: a result per claim that is not proved and per model fault,
    located at the claim or the rule in its file."""
    from .. import __version__

    rules = [{"id": "violated-claim", "shortDescription": {"text": "A claim is violated: a counterexample exists"}},
             {"id": "vacuous-claim", "shortDescription": {"text": "A claim's premise can never happen"}},
             {"id": "unknown-claim", "shortDescription": {"text": "The solver gave up on a claim"}},
             *({"id": f"model-{k}", "shortDescription": {"text": text}} for k, text in (
                 ("overlap", "Two rules of equal priority can fire together"),
                 ("shadowed", "A rule never fires: rules tried before it always fire first"),
                 ("dead", "A rule's guard can never be true"), ("unreachable", "A state no rule can reach")))]
    results: list[dict[str, Any]] = []

    def where(loc: Any) -> list[dict[str, Any]]:
        return [{"physicalLocation": {"artifactLocation": {"uri": loc.file},
                                      "region": {"startLine": max(loc.line, 1), "startColumn": max(loc.col, 1)}}}]

    for v in verdicts:
        if v.verdict == "proved":
            continue
        text = f"{v.claim.id}: {v.verdict}. \"{v.claim.text}\""
        if v.verdict == "violated":
            text += f" Holds when: {condition_text(v.holds_when)}."
            if v.counterexample is not None:
                text += " Counterexample: " + " ".join(sentences(v, v.counterexample))
        elif v.reason:
            text += f" {v.reason}"
        results.append({"ruleId": f"{v.verdict}-claim", "level": "error" if v.verdict != "unknown" else "warning",
                        "message": {"text": text}, "locations": where(v.claim.loc)})
    for f in findings:
        if f.kind == "gap":
            continue
        loc = next((t.loc for t in model.transitions if f.rules and t.id == f.rules[0]), model.machines[f.machine].loc)
        results.append({"ruleId": f"model-{f.kind}", "level": "error", "locations": where(loc),
                        "message": {"text": f"{f.kind} in {f.machine}: {f.state} {f.trigger}: {', '.join(f.rules)}"
                                    + (f" (e.g. {', '.join(f.witness)})" if f.witness else "")}})
    return {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [{"tool": {"driver": {"name": "trackproof", "version": __version__, "rules": rules}},
                      "results": results}]}
