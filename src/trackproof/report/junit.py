"""Verdicts as JUnit XML, which CI dashboards read: a test case per claim and per model fault."""

from __future__ import annotations

from ..prove.modelcheck import Finding
from ..prove.records import Verdict
from ..spec.ir import Model
from .check import condition_text


def junit(model: Model, verdicts: list[Verdict], findings: list[Finding]) -> str:
    """JUnit XML, which CI dashboards read: a test case per claim (violated and vacuous fail, unknown is an error,
    with the counterexample's sentences) and per model fault."""
    import xml.etree.ElementTree as ET

    from ..report.check import sentences

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
