"""Verdicts as a Markdown table (`check --format markdown`): one row per claim with its verdict and confidence,
whether it holds under Dynamics 365's defaults (and the uncertain defaults that answer assumes), exactly when it
holds, and what another reading of a disputed point would change. The README's verdict table is this output,
kept true by a test.
"""

from __future__ import annotations

from ..prove.records import Verdict
from ..simulate.scenario_file import value_text
from ..spec.ir import Model
from .check import condition_text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _defaults(v: Verdict) -> str:
    if v.holds_under_defaults is None or v.verdict in ("vacuous", "unknown"):
        return ""
    said = "yes" if v.holds_under_defaults else "**no**"
    if v.assumes:
        said += ", assuming " + ", ".join(f"{a.setting} = {value_text(a.value)} ({a.confidence})" for a in v.assumes)
    return said


def _readings(v: Verdict) -> str:
    parts = []
    for r in v.readings:
        if r.depends:
            other = "; ".join(f"{c}: {verdict}" for c, verdict, _ in r.verdicts if c != r.default)
            parts.append(f"depends on {r.point} ({other})")
    chosen = [f"{n} = {c}" for (o, n), c in v.claim.fixed.items() if o == "reading"]
    if chosen:
        parts.append("under " + ", ".join(chosen))
    return "; ".join(parts)


def markdown(model: Model, verdicts: list[Verdict]) -> str:
    lines = ["| Claim | Verdict | Under defaults | Holds exactly when | Readings |", "|---|---|---|---|---|"]
    for v in verdicts:
        verdict = f"{v.verdict} ({v.confidence})" if v.verdict in ("proved", "violated") else str(v.verdict)
        when = condition_text(v.holds_when) if v.verdict in ("proved", "violated") else ""
        lines.append(f"| {_cell(v.claim.id)} | {verdict} | {_cell(_defaults(v))} | {_cell(when)} | "
                     f"{_cell(_readings(v))} |")
    return "\n".join(lines) + "\n"
