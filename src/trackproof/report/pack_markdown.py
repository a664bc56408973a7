"""The review pack as GitHub-flavoured Markdown, to paste into a forum post, an issue or a wiki page: tables,
collapsible `<details>`, the diagrams as SVG files beside it (diagrams/), the scenario files to replay (scenarios/).

What it is not: the HTML page in another syntax. GitHub shows no inline SVG and runs no style, so pictures are
links to files, and each section says in words what the page says with layout. Laid out from a drawn `pack.Pack`.
"""

from __future__ import annotations

from .. import __version__
from .pack import DIAGRAMS, MODE_CAPTION, TRACE_CAPTION, Answer, Counterexample, Figure, Pack, SettingRow, anchor
from .words import CONFIDENCE


def _text(text: str) -> str:
    """Text from a claim file or the model, shown as text: many places that render Markdown render inline HTML and
    links too, so `<`, `>` and `&` are written as entities and brackets escaped (a claim's text of
    `<script>...` or `[x](javascript:...)` went into the page as written)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("[", "\\[").replace("]", "\\]"))


def _cell(text: str) -> str:
    """Text inside a table cell: no line breaks, no unescaped bars."""
    return text.replace("|", "\\|").replace("\n", " ")


def _link_settings(text: str, settings: tuple[SettingRow, ...]) -> str:
    for row in settings:
        text = text.replace(f"“{row.short}”", f"[“{row.short}”](#{row.anchor})")
    return text


def _figure(f: Figure, caption: str) -> list[str]:
    simple, detailed = (f"{DIAGRAMS}/{p.name}.svg" for p in (f.simple, f.detailed))
    note = f" {f.note}" if f.note else ""
    return [f"![{f.simple.title}]({simple})", "", f"*{caption}*{note}", "",
            "<details><summary>The detailed diagram, with each rule's guard</summary>", "",
            f"![{f.detailed.title}]({detailed})", "", "</details>", ""]


def _answer_row(a: Answer, cex: set[str], settings: tuple[SettingRow, ...]) -> str:
    claim = f"[{a.claim}](#{anchor('counterexample', a.claim)})" if a.claim in cex else a.claim
    if a.condition:
        when = "<br>or ".join(_link_settings(c, settings) for c in a.condition)
    else:
        when = "never" if a.verdict == "violated" else "—"
    sure = f"**{a.confidence}**: {CONFIDENCE.get(a.confidence, a.confidence)}"
    if a.weak_rules:
        sure += f"<br>rests on {', '.join(a.weak_rules)}"
    said = _cell(_text(a.text))
    return (f"| <a id=\"{a.anchor}\"></a>**{claim}** {said} | {a.mark} {a.words} | {a.defaults or '—'} | "
            f"{_cell(when)} | {_cell(sure)} |")


def _answers(p: Pack) -> list[str]:
    cex = {c.claim for c in p.counterexamples}
    return ["## 1. The answer", "",
            "Each claim, decided over every combination of the settings in its scope (not sampled). “Under the "
            "defaults”: with Dynamics 365's documented default settings. Setting names link to "
            "[where each one is found](#settings).", "",
            "| Claim | Verdict | Under the defaults | Holds exactly when | How sure the documentation is |",
            "|---|---|---|---|---|", *(_answer_row(a, cex, p.settings) for a in p.answers), ""]


def _counterexample(c: Counterexample, settings: tuple[SettingRow, ...]) -> list[str]:
    out = [f"### <a id=\"{c.anchor}\"></a>{c.claim}: “{_text(c.text)}”", ""]
    if c.settings:
        out += ["It fails with: " + _link_settings("; ".join(c.settings), settings)
                + " (everything else at the defaults).", ""]
    out += [*c.sentences, ""]
    out += _figure(c.figure, TRACE_CAPTION)
    out += [f"<details><summary>The scenario file to replay it: <code>{c.scenario_file}</code></summary>", "",
            "```yaml", c.scenario.rstrip("\n"), "```", "",
            f"Replay with `trackproof run {c.scenario_file}`.", "", "</details>", ""]
    for i, other in enumerate(c.others, 2):
        out += [f"It also fails another way ({i}): " + _link_settings("; ".join(other), settings) + ".", ""]
    return out


def _missed(p: Pack) -> list[str]:
    out = ["## 3. The scenarios the claims missed", "", p.coverage, ""]
    out += [*(f"- {_link_settings(s, p.settings)}" for s in p.setups), ""] if p.setups else []
    for g in p.missed:
        out += [f"### {g.title}", ""]
        for m in g.scenarios:
            extra = []
            if m.settings:
                extra.append("with " + _link_settings("; ".join(m.settings), p.settings))
            if m.setup:
                extra.append(f"setup {m.setup}")
            if m.rule_paths > 1:
                extra.append(f"{m.rule_paths} rule paths")
            tail = f" ({'; '.join(extra)})" if extra else ""
            out.append(f"{m.number}. {m.sentence}{tail} [Scenario]({m.scenario_file}).")
        out.append("")
    out += ["Rules no claim exercises: " + (", ".join(p.untouched_rules) or "none") + ".", ""]
    return out


def _consistency(p: Pack) -> list[str]:
    out = ["## 4. The model's own consistency, and its diagrams", "",
           "### Can the claims that share a setup all hold at once?", ""]
    out += [*(f"- {_link_settings(j, p.settings)}" for j in p.joint), ""] if p.joint else \
        ["No two claims share a setup.", ""]
    out += ["### The model's rules (every guard over a free world)", ""]
    out += [*(f"- {f}" for f in p.findings), ""] if p.findings else \
        ["No overlapping rules, no shadowed or dead rules, no unreachable states.", ""]
    if p.nothing_happens:
        out += [f"<details><summary>Where nothing happens (the email stays as it is): {len(p.nothing_happens)} "
                "places, per mode, state and trigger</summary>", "", *(f"- {g}" for g in p.nothing_happens), "",
                "</details>", ""]
    if p.notes:
        out += ["Where the documentation disagrees, the model keeps both readings:", "",
                *(f"- {n}" for n in p.notes), ""]
    for f in p.modes:
        out += [f"### <a id=\"{f.anchor}\"></a>{f.title}", "",
                *_figure(f, MODE_CAPTION)]
    return out


def _sources(p: Pack) -> list[str]:
    names = {s.key: s.anchor for s in p.sources}
    out = ["## 5. Sources and confidence", "", "### <a id=\"settings\"></a>The settings named here, and where to find "
           "them", "", "| Setting | Where | Default | Source |", "|---|---|---|---|"]
    for s in p.settings:
        cites = ", ".join(f"[{k}](#{names[k]})" if k in names else k for k in s.sources) or "—"
        out.append(f"| <a id=\"{s.anchor}\"></a>“{_cell(s.label)}”<br>`{', '.join(s.names)}` | "
                   f"{_cell(s.where or '—')} | {_cell(s.default or '—')} | {cites} |")
    out += ["", "### The Microsoft pages (and other sources) the answers rest on", ""]
    for src in p.sources:
        shown = _text(src.title)
        title = f"[{shown}]({src.url})" if src.linked else f"{shown} ({_text(src.url)})"
        out.append(f"- <a id=\"{src.anchor}\"></a>**{src.key}** {title}: cited by {', '.join(src.rules)}")
    out += ["", f"<details><summary>The {len(p.rules)} rules the answers rest on, with their confidence</summary>",
            "", "| Rule | Confidence | RULES.md | Sources | Why |", "|---|---|---|---|---|"]
    out += [f"| `{r.id}` | {r.confidence} | {', '.join(r.implements)} | {', '.join(r.sources)} | "
            f"{_cell(_text(r.reason))} |" for r in p.rules]
    out += ["", "Confidence: **H** stated in Microsoft's documentation; **M** older Microsoft documentation, "
            "Microsoft staff blogs, or inferred from two sources; **L** a single non-Microsoft source, or inference.",
            "", "</details>", ""]
    return out


def to_markdown(p: Pack) -> str:
    cexs = [line for c in p.counterexamples for line in _counterexample(c, p.settings)]
    lines = [f"# {_text(p.title)}", "", f"**{p.summary}** Claims: {', '.join(f'`{f}`' for f in p.claim_files)}.", "",
             "Contents: [the answer](#1-the-answer) · [counterexamples](#2-each-wrong-claim-a-counterexample) · "
             "[missed scenarios](#3-the-scenarios-the-claims-missed) · "
             "[the model's consistency and diagrams](#4-the-models-own-consistency-and-its-diagrams) · "
             "[sources and confidence](#5-sources-and-confidence)", "", *_answers(p),
             "## 2. Each wrong claim: a counterexample", "", *(cexs or ["No claim is wrong.", ""]), *_missed(p),
             *_consistency(p), *_sources(p), "---", "",
             f"Made by trackproof {__version__}: `trackproof report {' '.join(p.claim_files)}`. The same inputs give "
             "the same report, byte for byte.", ""]
    return "\n".join(lines)
