"""Verdicts as text a consultant reads, as the JSON contract, and counterexamples as scenario files.

The JSON shape is a documented contract (docs/claims.md): {"claims": [...], "summary": {...}}; change it only by
adding keys.
"""

from __future__ import annotations

from typing import Any

from .claims import Claim, Setting
from .ir import Model
from .prove import PathRun, SpaceView, Verdict
from .report import describe_event
from .scenario import Event
from .symbolic import Space


def _value(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def condition_text(cubes: list[dict[str, list[Any]]] | None) -> str:
    """holds_when as a short readable condition: a disjunction of conjunctions over value sets."""
    if cubes is None:
        return "unknown"
    if not cubes:
        return "never"
    if any(not c for c in cubes):
        return "always"
    parts = []
    for cube in cubes:
        lits = []
        for name, values in cube.items():
            if values == [True]:
                lits.append(name)
            elif values == [False]:
                lits.append(f"not {name}")
            elif len(values) == 1:
                lits.append(f"{name} is {_value(values[0])}")
            else:
                lits.append(f"{name} in {{{', '.join(_value(v) for v in values)}}}")
        parts.append(" and ".join(lits))
    return " or ".join(f"({p})" if len(cubes) > 1 and " and " in p else p for p in parts)


def changed_settings(verdict: Verdict, run: PathRun) -> dict[str, Any]:
    space = verdict.space
    assert space is not None
    return {space.label(s): v for s, v in run.settings.items() if space.defaults.get(s) != v}


def _yaml_scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_yaml_scalar(x) for x in v) + "]"
    text = str(v)
    return text if text.replace("_", "").replace("-", "").isalnum() else '"' + text.replace('"', '\\"') + '"'


def _event_yaml(e: Event) -> str:
    if not e.params:
        return f"  - {e.kind}"
    body = ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in e.params.items())
    return f"  - {e.kind}: {{{body}}}"


def scenario_yaml(verdict: Verdict, run: PathRun) -> str:
    """A scenario file that `trackproof run` replays to the same outcome (with the outcome as expectations)."""
    assert verdict.space is not None
    index = next((i for i, other in enumerate(verdict.others) if other is run), None)
    which = "Counterexample" if index is None else f"Counterexample {index + 2}"
    return scenario_text(verdict.claim, verdict.space, run, f"{which} to {verdict.claim.id}")


def setting_text(name: str, value: Any) -> str:
    return f"{name} = {_value(value)}"


def scenario_text(claim: Claim, space: Space | SpaceView, run: PathRun, title: str | None = None) -> str:
    """A scenario file of one run of a claim's (or situation's) premise, listing only what differs from the
    defaults, with the run's outcome as its expectations."""
    # Only what differs from Dynamics 365's defaults: the claim's fixed settings and the counterexample's changes.
    changed = {k: v for k, v in run.settings.items() if k[1] == "kind" or space.defaults.get(k) != v}
    settings: dict[Setting, Any] = {**claim.fixed, **changed}
    org = {n: v for (o, n), v in settings.items() if o == "org"}
    lines = [f"name: {_yaml_scalar(title or claim.text)}",
             f"description: {_yaml_scalar(claim.text)}"]
    if org:
        lines.append("settings:")
        lines.append("  org: {" + ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in sorted(org.items())) + "}")
    lines.append("participants:")
    for pid, p in claim.scenario.participants.items():
        kind = settings.get((pid, "kind"), p.kind)
        own = {**p.settings, **{n: v for (o, n), v in settings.items() if o == pid and n != "kind"}}
        fields = [f"kind: {kind}"]
        if p.address != f"{pid.lower()}@example.com":
            fields.append(f"address: {_yaml_scalar(p.address)}")
        if p.members:
            fields.append(f"members: {_yaml_scalar(list(p.members))}")
        fields += [f"{k}: {_yaml_scalar(v)}" for k, v in own.items()]
        lines.append(f"  {pid}: {{{', '.join(fields)}}}")
    lines.append("events:")
    lines += [_event_yaml(e) for e in claim.scenario.events]
    if run.outcomes:
        lines.append("expect:")
        for key, o in run.outcomes.items():
            fields = [f"stored: {_yaml_scalar(o.stored)}", f"status: {o.status if o.status else 'null'}"]
            # the fields a claim may be about, where the run set them: replaying checks them too
            fields += [f"{name}: {_yaml_scalar(value)}" for name, value in
                       (("regarding", o.regarding), ("accepted_by", o.accepted_by), ("correlated_to", o.correlated_to))
                       if value is not None]
            lines.append(f"  {_yaml_scalar(key)}: {{{', '.join(fields)}}}")
    return "\n".join(lines) + "\n"


def sentences(verdict: Verdict, run: PathRun) -> list[str]:
    """The counterexample in numbered business sentences."""
    out = []
    changed = changed_settings(verdict, run)
    fixed = {f"{o}.{n}": v for (o, n), v in verdict.claim.fixed.items()}
    setup = {**fixed, **changed}
    if setup:
        out.append("Settings: " + ", ".join(f"{k} = {_value(v)}" for k, v in setup.items())
                   + "; everything else at Dynamics 365's defaults.")
    else:
        out.append("Settings: Dynamics 365's defaults.")
    out += [describe_event(e) for e in verdict.claim.scenario.events]
    for key, o in run.outcomes.items():
        state = f"stored as {o.status}" if o.stored else "not stored"
        why = o.reason.split(" At event ")[0]
        if o.why_not:
            why += f" At event {o.why_not_event} no rule could fire: " + "; ".join(
                f"{rule} needs {detail.split(': ', 1)[-1]}" for rule, detail in o.why_not[:3])
        out.append(f"Outcome: {key} is {state}. {why}")
    return [f"{i}. {s}" for i, s in enumerate(out, 1)]


def trace(run: PathRun) -> list[dict[str, Any]]:
    steps = []
    for key, o in run.outcomes.items():
        for s in o.steps:
            if s.rule:
                steps.append({"email": key, "event": s.event, "trigger": s.trigger, "rule": s.rule, "from": s.source,
                              "to": s.dest, "sentence": s.sentence})
    return sorted(steps, key=lambda s: (s["event"], s["email"]))


def itf(verdict: Verdict, run: PathRun) -> dict[str, Any]:
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


def sarif(model: Model, verdicts: list[Verdict], findings: list[Any]) -> dict[str, Any]:
    """SARIF 2.1.0, which code-scanning tools read: a result per claim that is not proved and per model fault,
    located at the claim or the rule in its file."""
    from . import __version__

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


def rule_entries(model: Model, rules: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for r in rules:
        prov = model.rule(r).provenance
        out.append({"id": r, "implements": list(prov.implements), "confidence": prov.confidence,
                    "sources": [{"key": k, "title": model.sources[k].title, "url": model.sources[k].url}
                                for k in prov.sources],
                    "reason": prov.reason})
    return out


def verdict_json(model: Model, v: Verdict) -> dict[str, Any]:
    def example(run: PathRun) -> dict[str, Any]:
        return {"settings": changed_settings(v, run), "sentences": sentences(v, run),
                "scenario": scenario_yaml(v, run), "trace": trace(run), "itf": itf(v, run)}

    cex = example(v.counterexample) if v.counterexample is not None else None
    space = v.space
    return {
        "id": v.claim.id, "text": v.claim.text, "reading": v.claim.reading, "verdict": v.verdict,
        "holds_under_defaults": v.holds_under_defaults, "holds_when": condition_text(v.holds_when),
        "holds_when_cubes": v.holds_when, "counterexample": cex,
        "more_counterexamples": [example(run) for run in v.others], "rules": rule_entries(model, v.rules),
        "confidence": v.confidence, "reason": v.reason,
        "coverage": {"rule_paths": len(v.paths), "settings_in_scope": len(space.vars) if space else 0,
                     "events": len(v.claim.scenario.events), "exact": v.verdict != "unknown"},
        "location": str(v.claim.loc),
    }


def to_text(model: Model, verdicts: list[Verdict]) -> str:
    lines: list[str] = []
    for v in verdicts:
        head = f"{v.claim.id}: {v.verdict.upper()}"
        if v.verdict in ("proved", "violated"):
            head += f" (confidence {v.confidence})"
        lines.append(head)
        lines.append(f'  "{v.claim.text}"')
        if v.claim.reading:
            lines.append(f"  Read as: {v.claim.reading}")
        if v.verdict == "unknown":
            lines.append(f"  The solver gave up: {v.reason}. This is not a proof.")
        if v.verdict == "vacuous":
            lines.append(f"  The premise can never happen, so nothing is proved: {v.reason}")
        if v.holds_under_defaults is not None and v.verdict != "vacuous":
            lines.append(f"  Under Dynamics 365's defaults: {'holds' if v.holds_under_defaults else 'does NOT hold'}.")
        if v.verdict in ("proved", "violated"):
            lines.append(f"  Holds when: {condition_text(v.holds_when)}")
        if v.counterexample is not None:
            lines.append("  Counterexample (fewest changes from the defaults):")
            lines += [f"    {s}" for s in sentences(v, v.counterexample)]
        for run in v.others:  # the same events: only the settings and the outcome differ
            lines.append("  Also fails for another reason (other settings changed):")
            lines += [f"    {s}" for s in sentences(v, run)
                      if s.split(". ", 1)[1].startswith(("Settings:", "Outcome:"))]
        weak = [f"{r} ({model.rule(r).provenance.confidence})" for r in v.rules
                if model.rule(r).provenance.confidence != "H"]
        lines.append(f"  Rules: {', '.join(v.rules)}")
        if weak:
            lines.append(f"  Rests on rules of lower confidence: {', '.join(weak)}")
        if v.space is not None and v.verdict != "unknown":
            lines.append(f"  Exact: {len(v.paths)} rule paths cover all {len(v.space.vars)} free settings "
                         f"for the premise's {len(v.claim.scenario.events)} events.")
        lines.append("")
    counts = summary(verdicts)
    lines.append("Summary: " + ", ".join(f"{n} {k}" for k, n in counts.items() if k != "total")
                 + f" of {counts['total']} claims.")
    return "\n".join(lines) + "\n"


def summary(verdicts: list[Verdict]) -> dict[str, int]:
    out = {k: sum(1 for v in verdicts if v.verdict == k) for k in ("proved", "violated", "vacuous", "unknown")}
    out["total"] = len(verdicts)
    return out
