"""`trackproof check`: load claim files, prove every claim, report them all (never stopping at the first failure)."""

from __future__ import annotations

import json
import os
from typing import TextIO

from .cache import cached
from .checkreport import _value, condition_text, sarif, scenario_yaml, summary, to_text, verdict_json
from .claims import Claim, load_claims
from .consistency import Consistency
from .ir import Model
from .jobs import prove_all
from .modelcheck import Finding, check_model
from .paths import default_model_dir
from .prove import Verdict


def default_claim_files() -> list[str]:
    """Every claim file under proofs/ (shipped beside model/)."""
    folder = os.path.join(os.path.dirname(default_model_dir()), "proofs")
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".yaml")]


def check_files(model: Model, files: list[str], fmt: str, cex_dir: str | None,
                progress: TextIO | None = None, with_model: bool = False, jobs: int = 1,
                cache_key: str | None = None, examples: int = 1) -> tuple[str, str]:
    """Prove every claim of `files` and report. `cache_key`: what the results depend on besides the claims (the
    model and the engine, cache.py), or None to prove everything afresh. `examples`: counterexamples per violated
    claim, each for another reason."""
    claims = [c for f in files for c in load_claims(f, model)]  # every file is validated before any proof
    done = [0]

    def on_done(claim: Claim) -> None:
        done[0] += 1
        if progress is not None and progress.isatty():
            progress.write(f"\r[{done[0]}/{len(claims)}] {claim.id}\033[K")
            progress.flush()

    def model_check() -> list[Finding]:
        return cached("modelcheck", cache_key, lambda: check_model(model))

    verdicts, joint, findings = prove_all(model, claims, jobs, model_check if with_model else None, on_done,
                                          cache_key, examples)
    if progress is not None and progress.isatty():
        progress.write("\r\033[K")
    if cex_dir:
        from .cli import write_atomic

        os.makedirs(cex_dir, exist_ok=True)
        ours = {v.claim.id for v in verdicts}
        for name in os.listdir(cex_dir):  # more counterexamples from an earlier run with a larger --examples
            stem, _, number = name.removesuffix(".yaml").rpartition("-")
            if name.endswith(".yaml") and stem in ours and number.isdigit() and int(number) >= 2:
                os.remove(os.path.join(cex_dir, name))
        for v in verdicts:
            if v.counterexample is not None:
                write_atomic(os.path.join(cex_dir, f"{v.claim.id}.yaml"), scenario_yaml(v, v.counterexample))
            for n, run in enumerate(v.others, 2):
                write_atomic(os.path.join(cex_dir, f"{v.claim.id}-{n}.yaml"), scenario_yaml(v, run))
    faults = [f for f in findings or [] if f.kind != "gap"]
    if fmt == "json":
        doc: dict[str, object] = {"claims": [verdict_json(model, v) for v in verdicts],
                                  "consistency": [c._asdict() for c in joint], "summary": summary(verdicts)}
        if findings is not None:
            doc["model"] = {"findings": [f._asdict() for f in findings], "faults": len(faults)}
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "junit":
        text = junit(model, verdicts, findings or [])
    elif fmt == "sarif":
        text = json.dumps(sarif(model, verdicts, findings or []), indent=2, ensure_ascii=False) + "\n"
    else:
        text = (to_text(model, verdicts) if verdicts else "") + consistency_text(verdicts, joint)
        if findings is not None:
            text += model_text(findings)
    counts = summary(verdicts)
    status = "unknown" if counts["unknown"] else (
        "failed" if counts["violated"] or counts["vacuous"] or faults else "proved")
    return text, status


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
        setup = ", ".join(f"{k} = {_value(v)}" for k, v in c.setup.items()) or "no fixed settings"
        lines.append(f"  {', '.join(c.claims)} ({setup}):")
        if c.consistent:
            lines.append(f"    yes, all of them hold when {condition_text(c.together_when)}.")
        else:
            lines.append(f"    no: {', '.join(c.conflict)} cannot all hold under any settings (a minimal set):")
            lines += [f"    - {cid} holds only when {condition_text(by_id[cid].holds_when)}" for cid in c.conflict]
    return "\n".join(lines) + "\n"


def junit(model: Model, verdicts: list[Verdict], findings: list[Finding]) -> str:
    """JUnit XML, which CI dashboards read: a test case per claim (violated and vacuous fail, unknown is an error,
    with the counterexample's sentences) and per model fault."""
    import xml.etree.ElementTree as ET

    from .checkreport import sentences

    root = ET.Element("testsuites", name="trackproof check")
    by_file: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_file.setdefault(v.claim.file, []).append(v)
    for file, group in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(len(group)),
                              failures=str(sum(v.verdict in ("violated", "vacuous") for v in group)),
                              errors=str(sum(v.verdict == "unknown" for v in group)))
        for v in group:
            case = ET.SubElement(suite, "testcase", classname=file, name=f"{v.claim.id}: {v.claim.text}")
            detail = f"holds when: {condition_text(v.holds_when)}; confidence {v.confidence}"
            if v.verdict == "violated" and v.counterexample is not None:
                failure = ET.SubElement(case, "failure", message=f"violated; {detail}", type="violated")
                failure.text = "\n".join(sentences(v, v.counterexample))
            elif v.verdict == "vacuous":
                ET.SubElement(case, "failure", message=f"vacuous: {v.reason}", type="vacuous")
            elif v.verdict == "unknown":
                ET.SubElement(case, "error", message=f"unknown: {v.reason}", type="unknown")
            else:
                ET.SubElement(case, "system-out").text = detail
    faults = [f for f in findings if f.kind != "gap"]
    if findings:
        suite = ET.SubElement(root, "testsuite", name="model", tests=str(max(1, len(faults))),
                              failures=str(len(faults)), errors="0")
        if not faults:
            ET.SubElement(suite, "testcase", classname="model", name="consistency")
        for f in faults:
            case = ET.SubElement(suite, "testcase", classname="model",
                                 name=f"{f.kind} {f.machine}: {f.state} {f.trigger}".strip())
            ET.SubElement(case, "failure", message=f"{f.kind}: {', '.join(f.rules)}", type=f.kind).text = \
                ", ".join(f.witness)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
