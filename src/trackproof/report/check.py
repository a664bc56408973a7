"""Verdicts as text a consultant reads, as the JSON contract, and counterexamples as scenario files.

The JSON shape is a documented contract (docs/claims.md): {"claims": [...], "summary": {...}}; change it only by
adding keys.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..prove.consistency import Consistency
from ..prove.modelcheck import Finding
from ..prove.records import Example, Verdict
from ..prove.sensitivity import Assumption, ReadingVerdict
from ..prove.symmetry import permutations
from ..simulate.narrate import activity_fields, describe_event
from ..simulate.outcomes import Outcome
from ..simulate.scenario_file import scenario_text, value_text
from ..spec.claims import Setting
from ..spec.ir import Model
from .itf import itf, trace
from .run import grouped


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
                lits.append(f"{name} is {value_text(values[0])}")
            else:
                lits.append(f"{name} in {{{', '.join(value_text(v) for v in values)}}}")
        parts.append(" and ".join(lits))
    return " or ".join(f"({p})" if len(cubes) > 1 and " and " in p else p for p in parts)


def changed_settings(verdict: Verdict, run: Example) -> dict[str, Any]:
    scope = verdict.scope
    return {scope.label(s): v for s, v in run.settings.items() if scope.defaults.get(s) != v}


def scenario_yaml(verdict: Verdict, run: Example) -> str:
    """A scenario file that `trackproof run` replays to the same outcome (with the outcome as expectations)."""
    index = next((i for i, other in enumerate(verdict.others) if other is run), None)
    which = "Counterexample" if index is None else f"Counterexample {index + 2}"
    if run is verdict.witness:
        which = "Witness"
    title = f"{which} to {verdict.claim.id}" if which != "Witness" else f"Witness of {verdict.claim.id}"
    return scenario_text(verdict.claim, verdict.scope.defaults, run.settings, run.outcomes, title, run.events)


def sentences(verdict: Verdict, run: Example) -> list[str]:
    """The counterexample in numbered business sentences."""
    out = []
    changed = changed_settings(verdict, run)
    fixed = {f"{o}.{n}": v for (o, n), v in verdict.claim.fixed.items()}
    setup = {**fixed, **changed}
    if setup:
        out.append("Settings: " + ", ".join(f"{k} = {value_text(v)}" for k, v in setup.items())
                   + "; everything else at Dynamics 365's defaults.")
    else:
        out.append("Settings: Dynamics 365's defaults.")
    events = run.events if run.events is not None else verdict.claim.scenario.events
    if verdict.claim.universe is not None and not events and not run.outcomes:
        out.append("Under these settings no sequence of the alphabet reaches such a world.")
    out += [describe_event(e) for e in events]
    for key, o in run.outcomes.items():
        state = f"stored as {o.status}" if o.stored else "not stored"
        why = o.reason.split(" At event ")[0]
        if o.why_not:
            why += f" At event {o.why_not_event} no rule could fire: " + "; ".join(
                f"{rules} {'need' if ', ' in rules else 'needs'} {detail.split(': ', 1)[-1]}"
                for rules, detail in grouped(o.why_not)[:3])
        out.append(f"Outcome: {key} is {state}.{_recorded(o)} {why}")
    return [f"{i}. {s}" for i, s in enumerate(out, 1)]


def _recorded(o: Outcome) -> str:
    """What the activity records and each Outlook item shows, worded as `run`'s `Activity:` line (From, To, Cc,
    unresolved addresses, Parent Activity Id, queue items, categories), as a sentence after the state; '' when
    nothing is set."""
    fields = activity_fields(o)
    if not fields:
        return ""
    return f" Activity: {fields}." if o.stored else f" {fields[0].upper()}{fields[1:]}."


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
    def example(run: Example) -> dict[str, Any]:
        return {"settings": changed_settings(v, run), "sentences": sentences(v, run),
                "scenario": scenario_yaml(v, run), "trace": trace(run), "itf": itf(v, run)}

    cex = example(v.counterexample) if v.counterexample is not None else None
    coverage: dict[str, Any] = {"rule_paths": v.rule_paths, "settings_in_scope": len(_settings(v)),
                                "readings_in_scope": len(v.scope.settings) - len(_settings(v)),
                                "events": len(v.claim.scenario.events), "exact": v.verdict != "unknown"}
    out: dict[str, Any] = {
        "id": v.claim.id, "text": v.claim.text, "reading": v.claim.reading, "verdict": v.verdict,
        "holds_under_defaults": v.holds_under_defaults, "holds_when": condition_text(v.holds_when),
        "holds_when_cubes": v.holds_when, "counterexample": cex,
        "more_counterexamples": [example(run) for run in v.others], "rules": rule_entries(model, v.rules),
        "confidence": v.confidence, "reason": v.reason,
        "coverage": coverage, "location": str(v.claim.loc),
        "readings": [{"point": r.point, "question": model.readings[r.point].question, "default": r.default,
                      "depends": r.depends,
                      "verdicts": [{"reading": c, "verdict": verdict, "holds_under_defaults": d}
                                   for c, verdict, d in r.verdicts]} for r in v.readings],
        "assumes": [{"setting": a.setting, "value": a.value, "confidence": a.confidence,
                     "otherwise": [{"value": value, "answer": answer} for value, answer in a.otherwise]}
                    for a in v.assumes],
    }
    if v.claim.universe is not None and v.claim.property is not None:  # a claim about every sequence
        coverage.update({"worlds": v.worlds, "fixpoint_after": v.depth, "transitions": v.rule_paths,
                         "messages": v.claim.universe.messages,
                         "interchangeable": [list(group) for group in v.interchangeable],
                         "renamings": v.renamings})
        out["property"] = v.claim.property.kind
        out["witness"] = example(v.witness) if v.witness is not None else None
    return out


def _settings(v: Verdict) -> list[Setting]:
    """The claim's free settings, without the readings of disputed points (which range like settings)."""
    return [s for s in v.scope.settings if s[0] != "reading"]


ANSWERS = {"holds": "it holds", "fails": "it does NOT hold", "impossible": "the premise cannot happen"}


def assumes_text(v: Verdict) -> str:
    """The uncertain defaults the answer under the defaults rests on, as `run`'s Assumes line says them."""
    def otherwise(a: Assumption) -> str:
        if not a.otherwise:
            return "; changing it alone changes nothing here"
        return "".join(f"; with {value_text(value)} {ANSWERS[answer]}" for value, answer in a.otherwise)

    return "; ".join(f"{a.setting} = {value_text(a.value)} (documented default of confidence {a.confidence}"
                     f"{otherwise(a)})" for a in v.assumes)


def readings_text(model: Model, r: ReadingVerdict) -> str:
    """What the verdict is under each reading of one disputed point."""
    question = model.readings[r.point].question
    differ = len({d for _, _, d in r.verdicts}) > 1
    parts = []
    for choice, verdict, at_defaults in r.verdicts:
        text = f"with {choice}{' (the default)' if choice == r.default else ''} {verdict}"
        if differ and at_defaults is not None:
            text += f", under the defaults it {'holds' if at_defaults else 'does NOT hold'}"
        parts.append(text)
    return f"Depends on {r.point} ({question}): " + "; ".join(parts) + "."


def check_json(model: Model, verdicts: list[Verdict], joint: list[Consistency],
               findings: list[Finding] | None) -> dict[str, Any]:
    """The JSON contract of `check` (docs/claims.md): the claims, their joint consistency, the summary, and the
    model check's findings when it ran."""
    doc: dict[str, Any] = {"claims": [verdict_json(model, v) for v in verdicts],
                           "consistency": [asdict(c) for c in joint], "summary": summary(verdicts)}
    if findings is not None:
        doc["model"] = {"findings": [asdict(f) for f in findings],
                        "faults": len([f for f in findings if f.kind != "gap"])}
    return doc


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
        chosen = [(n, c) for (o, n), c in v.claim.fixed.items() if o == "reading"]
        if chosen:
            lines.append("  Under the reading " + "; ".join(f"{n} = {c} (chosen; the default is "
                                                            f"{model.readings[n].default})" for n, c in chosen))
        if v.verdict == "unknown":
            lines.append(f"  The solver gave up: {v.reason}. This is not a proof.")
        if v.verdict == "vacuous":
            what = "The claim says nothing" if v.claim.universe is not None else "The premise can never happen"
            lines.append(f"  {what}, so nothing is proved: {v.reason}")
        if v.holds_under_defaults is not None and v.verdict != "vacuous":
            lines.append(f"  Under Dynamics 365's defaults: {'holds' if v.holds_under_defaults else 'does NOT hold'}.")
            if v.assumes:
                lines.append(f"  Assumes: {assumes_text(v)}")
        if v.verdict in ("proved", "violated"):
            lines.append(f"  Holds when: {condition_text(v.holds_when)}")
        lines += [f"  {readings_text(model, r)}" for r in v.readings if r.depends]
        same = [r.point for r in v.readings if not r.depends]
        if same:
            lines.append(f"  The same under every reading of {', '.join(same)} (disputed points it reads: "
                         "model/readings.yaml).")
        if v.counterexample is not None:
            first = "shortest sequence, then " if v.claim.universe is not None and v.counterexample.events else ""
            lines.append(f"  Counterexample ({first}fewest changes from the defaults):")
            lines += [f"    {s}" for s in sentences(v, v.counterexample)]
        if v.witness is not None:
            lines.append("  Witness (the shortest sequence that reaches it, fewest changes from the defaults):")
            lines += [f"    {s}" for s in sentences(v, v.witness)]
        for run in v.others:  # the same events: only the settings and the outcome differ
            lines.append("  Also fails for another reason (other settings changed):")
            lines += [f"    {s}" for s in sentences(v, run)
                      if s.split(". ", 1)[1].startswith(("Settings:", "Outcome:"))]
        weak = [f"{r} ({model.rule(r).provenance.confidence})" for r in v.rules
                if model.rule(r).provenance.confidence != "H"]
        lines.append(f"  Rules: {', '.join(v.rules)}")
        if weak:
            lines.append(f"  Rests on rules of lower confidence: {', '.join(weak)}")
        settings, points = len(_settings(v)), len(v.scope.settings) - len(_settings(v))
        also = f" and {points} disputed readings" if points else ""
        if v.verdict != "unknown" and v.claim.universe is not None:
            lines.append(f"  Exact: {_count(v.worlds, 'reachable world')}{_merged(v)}, fixpoint after "
                         f"{_count(v.depth, 'event')} ({_count(v.rule_paths, 'transition')}), every one of the "
                         f"{settings} free settings{also} in scope, every sequence of the alphabet with at most "
                         f"{_count(v.claim.universe.messages, 'message')}.")
        elif v.verdict != "unknown":
            lines.append(f"  Exact: {_count(v.rule_paths, 'rule path')} cover all {settings} free settings{also} "
                         f"for the premise's {_count(len(v.claim.scenario.events), 'event')}.")
        lines.append("")
    counts = summary(verdicts)
    lines.append("Summary: " + ", ".join(f"{n} {k}" for k, n in counts.items() if k != "total")
                 + f" of {counts['total']} claims.")
    return "\n".join(lines) + "\n"


def _merged(v: Verdict) -> str:
    """How interchangeable participants were merged: ` (worlds that differ only by swapping X and Y counted once)`;
    where the groups can only be swapped together (a queue with the user who owns it), the renamings are counted."""
    if not v.interchangeable:
        return ""
    if v.renamings + 1 == permutations(v.interchangeable):  # every permutation within each group, on its own
        groups = ", or ".join(", ".join(g[:-1]) + " and " + g[-1] for g in v.interchangeable)
        return f" (worlds that differ only by swapping {groups} counted once)"
    moved = [p for g in v.interchangeable for p in g]
    ways = "one way" if v.renamings == 1 else f"{v.renamings} ways"
    return (f" (worlds that differ only by renaming {', '.join(moved[:-1])} and {moved[-1]} in the {ways} the claim "
            "allows counted once)")


def _count(n: int | None, noun: str) -> str:
    """`2,184 reachable worlds`, `1 event`."""
    return f"{n or 0:,} {noun}{'' if n == 1 else 's'}"


def summary(verdicts: list[Verdict]) -> dict[str, int]:
    out = {k: sum(1 for v in verdicts if v.verdict == k) for k in ("proved", "violated", "vacuous", "unknown")}
    out["total"] = len(verdicts)
    return out


def model_text(findings: list[Finding]) -> str:
    lines = ["", "Model consistency (every guard over a free world: all settings and facts free, three parties):"]
    faults = [f for f in findings if f.kind != "gap"]
    if not faults:
        lines.append("  No overlapping rules, no shadowed or dead rules, no unreachable states.")
    for f in faults:
        where = f"{f.machine}: {f.state}" + (f" on {f.trigger}" if f.trigger else "")
        what = {"overlap": "can both fire", "shadowed": "never fires: rules tried before it always fire first",
                "dead": "can never fire", "unreachable": "is unreachable"}[f.kind]
        subject = " and ".join(f.rules) if f.rules else "the state"
        lines.append(f"  {f.kind.upper()} {where}: {subject} {what}" + (f" (e.g. {', '.join(f.witness)})"
                                                                          if f.witness else ""))
    gaps = [f for f in findings if f.kind == "gap"]
    if gaps:
        lines.append("  Where nothing happens (the email stays as it is), per machine, state and trigger:")
        for f in gaps:
            lines.append(f"  - {f.machine}: {f.state} on {f.trigger}, for example when")
            lines += [f"      {why}" for why in f.witness]
    return "\n".join(lines) + "\n"


def consistency_text(verdicts: list[Verdict], joint: list[Consistency]) -> str:
    if not joint:
        return ""
    by_id = {v.claim.id: v for v in verdicts}
    lines = ["", "Can the claims that share a setup all hold at once?"]
    for c in joint:
        setup = ", ".join(f"{k} = {value_text(v)}" for k, v in c.setup.items()) or "no fixed settings"
        lines.append(f"  {', '.join(c.claims)} ({setup}):")
        if c.consistent:
            lines.append(f"    yes, all of them hold when {condition_text(c.together_when)}.")
        else:
            lines.append(f"    no: {', '.join(c.conflict)} cannot all hold under any settings (a minimal set):")
            lines += [f"    - {cid} holds only when {condition_text(by_id[cid].holds_when)}" for cid in c.conflict]
    return "\n".join(lines) + "\n"
