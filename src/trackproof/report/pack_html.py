"""The review pack as one self-contained HTML page: the diagrams inline as SVG, the style in the page, no script, no
network, readable on a projector (1280x720) and on paper (print style). Laid out from a drawn `pack.Pack`.

Meaning is never carried by colour alone: verdicts have a symbol and words, the simplified diagrams give each
uncertain rule's confidence beside its id, a trace is numbered, and the detailed diagram is one click away.
"""

from __future__ import annotations

import re
from html import escape

from .. import __version__
from .pack import MODE_CAPTION, TRACE_CAPTION, Answer, Counterexample, Figure, Missed, Pack, SettingRow, anchor

STYLE = """
:root { --ink: #1b1b1b; --muted: #555; --line: #c8c8c8; --right: #1b5e20; --wrong: #b71c1c; --partly: #8a5200; }
* { box-sizing: border-box; }
body { font: 18px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 78rem; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.9rem; margin: 0.4rem 0; } h2 { font-size: 1.5rem; margin-top: 2.2rem;
  border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; } h3 { font-size: 1.2rem; margin-top: 1.6rem; }
.lead { font-size: 1.2rem; } .muted, small { color: var(--muted); }
nav ol { columns: 2; padding-left: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: 0.8rem 0; table-layout: fixed; }
th, td { border: 1px solid var(--line); padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td ul { margin: 0; padding-left: 1.1rem; }
.verdict { font-weight: 600; } .v-right { color: var(--right); }
.v-wrong { color: var(--wrong); } .v-partly { color: var(--partly); } .v-other { color: var(--muted); }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.85em; }
pre { background: #f6f6f6; border: 1px solid var(--line); padding: 0.6rem; overflow-x: auto; }
figure { margin: 1rem 0; } figcaption { color: var(--muted); font-size: 0.95rem; }
figure svg, details svg { display: block; width: 100%; height: auto; max-height: 88vh; }
details { margin: 0.5rem 0; } summary { cursor: pointer; color: #0b57d0; }
ol.sentences li { margin: 0.2rem 0; } .missed li { margin: 0.35rem 0; }
a { color: #0b57d0; }
@media print {
  body { font-size: 11pt; max-width: none; padding: 0; } nav { display: none; }
  figure, tr, li { break-inside: avoid; } h2, h3 { break-after: avoid; }
  a[href^="http"]::after { content: " (" attr(href) ")"; font-size: 0.8em; color: var(--muted); }
  summary { color: var(--ink); }
}
"""

_CLASS = {"right": "v-right", "wrong": "v-wrong", "right only when …": "v-partly"}


def _code(text: str) -> str:
    """Escaped text, with `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text, quote=False))


def _link_settings(html: str, settings: tuple[SettingRow, ...]) -> str:
    """Each setting's “label” in escaped text, linked to its row in the table of settings."""
    for row in settings:
        quoted = escape(f"“{row.short}”", quote=False)
        html = html.replace(quoted, f'<a href="#{row.anchor}">{quoted}</a>')
    return html


def inline_svg(svg: str, prefix: str, label: str) -> str:
    """An SVG document as an element of the page: its ids prefixed (several diagrams share Graphviz's ids), its
    fixed size dropped so that it fits the page, named for screen readers."""
    body = svg[svg.index("<svg"):]
    body = re.sub(r'\bid="([^"]*)"', rf'id="{prefix}-\1"', body)
    body = re.sub(r'(href="#|url\(#)', rf"\g<1>{prefix}-", body)
    head_end = body.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", body[:head_end])
    return f'{head} role="img" aria-label="{escape(label)}"{body[head_end:]}'.rstrip() + "\n"


def _figure(f: Figure, caption: str) -> list[str]:
    return ["<figure>", inline_svg(f.simple.svg, f.simple.name, f.simple.title).rstrip(),
            f"<figcaption>{escape(caption)}{' ' + escape(f.note) if f.note else ''}</figcaption>", "</figure>",
            "<details><summary>The detailed diagram, with each rule's guard</summary>",
            inline_svg(f.detailed.svg, f.detailed.name, f.detailed.title).rstrip(), "</details>"]


def _answer_row(a: Answer, cex: set[str], settings: tuple[SettingRow, ...]) -> str:
    claim = f'<a href="#{anchor("counterexample", a.claim)}">{escape(a.claim)}</a>' if a.claim in cex else \
        escape(a.claim)
    css = _CLASS.get(a.words, "v-other")
    if a.condition:
        items = "".join(f"<li>{_link_settings(_code(c), settings)}</li>" for c in a.condition)
        when = f"<ul>{items}</ul>" if len(a.condition) > 1 else _link_settings(_code(a.condition[0]), settings)
    else:
        when = "never" if a.verdict == "violated" else "—"
    sure = f"<b>{a.confidence}</b>: {escape(_sure(a.confidence))}"
    if a.weak_rules:
        sure += f"<br><small>rests on {escape(', '.join(a.weak_rules))}</small>"
    return (f'<tr id="{a.anchor}"><td><b>{claim}</b><br><small>{escape(a.text)}</small></td>'
            f'<td><span class="verdict {css}">{a.mark} {escape(a.words)}</span></td>'
            f"<td>{escape(a.defaults or '—')}</td><td>{when}</td><td>{sure}</td></tr>")


def _sure(level: str) -> str:
    from .words import CONFIDENCE

    return CONFIDENCE.get(level, level)


def _answers(p: Pack) -> list[str]:
    cex = {c.claim for c in p.counterexamples}
    rows = [_answer_row(a, cex, p.settings) for a in p.answers]
    return ['<section id="answer"><h2>1. The answer</h2>',
            "<p>Each claim, decided over every combination of the settings in its scope (not sampled). "
            "“Under the defaults”: with Dynamics 365's documented default settings. Setting names link to where "
            'each one is found (<a href="#settings">the settings named here</a>).</p>',
            '<table><colgroup><col style="width:25%"><col style="width:13%"><col style="width:10%">'
            '<col style="width:33%"><col style="width:19%"></colgroup>'
            "<thead><tr><th>Claim</th><th>Verdict</th><th>Under the defaults</th>"
            "<th>Holds exactly when</th><th>How sure the documentation is</th></tr></thead><tbody>", *rows,
            "</tbody></table></section>"]


def _counterexample(c: Counterexample, settings: tuple[SettingRow, ...]) -> list[str]:
    out = [f'<article id="{c.anchor}"><h3>{escape(c.claim)}: “{escape(c.text)}”</h3>']
    if c.settings:
        out.append("<p>It fails with: " + _link_settings(escape("; ".join(c.settings)), settings)
                   + " (everything else at the defaults).</p>")
    out += ['<ol class="sentences">', *(f"<li>{_code(s.split('. ', 1)[1])}</li>" for s in c.sentences), "</ol>"]
    out += _figure(c.figure, TRACE_CAPTION)
    out += [f"<details><summary>The scenario file to replay it: {escape(c.scenario_file)}</summary>",
            f"<pre><code>{escape(c.scenario)}</code></pre>",
            f"<p>Written beside this page as <code>{escape(c.scenario_file)}</code>; replay with "
            f"<code>trackproof run {escape(c.scenario_file)}</code>.</p></details>"]
    for i, other in enumerate(c.others, 2):
        out.append(f"<p>It also fails another way ({i}): " + _link_settings(escape("; ".join(other)), settings)
                   + ".</p>")
    return [*out, "</article>"]


def _missed_item(m: Missed, settings: tuple[SettingRow, ...]) -> str:
    extra = []
    if m.settings:
        extra.append("with " + _link_settings(escape("; ".join(m.settings)), settings))
    if m.setup:
        extra.append(f"setup {escape(m.setup)}")
    if m.rule_paths > 1:
        extra.append(f"{m.rule_paths} rule paths")
    tail = f" <small>({'; '.join(extra)})</small>" if extra else ""
    return (f'<li value="{m.number}">{_code(m.sentence)}{tail}<details><summary>Scenario: '
            f"{escape(m.scenario_file)}</summary><pre><code>{escape(m.scenario)}</code></pre></details></li>")


def _missed(p: Pack) -> list[str]:
    out = ['<section id="missed"><h2>3. The scenarios the claims missed</h2>', f"<p>{escape(p.coverage)}</p>"]
    if p.setups:
        out += ["<ul>", *(f"<li>{_link_settings(escape(s), p.settings)}</li>" for s in p.setups), "</ul>"]
    for g in p.missed:
        out += [f"<h3>{escape(g.title)}</h3>", '<ol class="missed">',
                *(_missed_item(m, p.settings) for m in g.scenarios), "</ol>"]
    out.append("<p>Rules no claim exercises: " + (escape(", ".join(p.untouched_rules)) or "none") + ".</p>")
    return [*out, "</section>"]


def _consistency(p: Pack) -> list[str]:
    out = ['<section id="consistency"><h2>4. The model\'s own consistency, and its diagrams</h2>',
           "<h3>Can the claims that share a setup all hold at once?</h3>"]
    out += ["<ul>", *(f"<li>{_link_settings(escape(j), p.settings)}</li>" for j in p.joint), "</ul>"] if p.joint \
        else ["<p>No two claims share a setup.</p>"]
    out.append("<h3>The model's rules (every guard over a free world)</h3>")
    out += ["<ul>", *(f"<li>{_code(f)}</li>" for f in p.findings), "</ul>"] if p.findings else \
        ["<p>No overlapping rules, no shadowed or dead rules, no unreachable states.</p>"]
    if p.nothing_happens:
        out += [f"<details><summary>Where nothing happens (the email stays as it is): {len(p.nothing_happens)} "
                "places, per mode, state and trigger</summary><ul>",
                *(f"<li>{_code(g)}</li>" for g in p.nothing_happens), "</ul></details>"]
    if p.notes:
        out += ["<p>Where the documentation disagrees, the model keeps both readings:</p><ul>",
                *(f"<li>{_code(n)}</li>" for n in p.notes), "</ul>"]
    for f in p.modes:
        out += [f'<h3 id="{f.anchor}">{escape(f.title)}</h3>',
                *_figure(f, MODE_CAPTION)]
    return [*out, "</section>"]


def _sources(p: Pack) -> list[str]:
    names = {s.key: s.anchor for s in p.sources}
    rows = []
    for s in p.settings:
        cites = ", ".join(f'<a href="#{names[k]}">{escape(k)}</a>' if k in names else escape(k) for k in s.sources)
        rows.append(f'<tr id="{s.anchor}"><td>“{escape(s.label)}”<br><small><code>'
                    f"{escape(', '.join(s.names))}</code></small></td><td>{escape(s.where or '—')}</td>"
                    f"<td>{escape(s.default or '—')}</td><td>{cites or '—'}</td></tr>")
    out = ['<section id="sources"><h2>5. Sources and confidence</h2>',
           '<h3 id="settings">The settings named here, and where to find them</h3>',
           '<table><colgroup><col style="width:30%"><col style="width:40%"><col style="width:18%">'
           '<col style="width:12%"></colgroup>'
           "<thead><tr><th>Setting</th><th>Where</th><th>Default</th><th>Source</th></tr></thead><tbody>",
           *rows, "</tbody></table>", "<h3>The Microsoft pages (and other sources) the answers rest on</h3><ul>"]
    for src in p.sources:
        title = (f'<a href="{escape(src.url)}">{escape(src.title)}</a>' if src.linked else
                 f"{escape(src.title)} <small>({escape(src.url)})</small>")
        out.append(f'<li id="{src.anchor}"><b>{escape(src.key)}</b> {title}<br><small>cited by '
                   f"{escape(', '.join(src.rules))}</small></li>")
    out += ["</ul>", f"<details><summary>The {len(p.rules)} rules the answers rest on, with their confidence"
            '</summary><table><colgroup><col style="width:18%"><col style="width:9%"><col style="width:14%">'
            '<col style="width:14%"><col style="width:45%"></colgroup>'
            "<thead><tr><th>Rule</th><th>Confidence</th><th>RULES.md</th><th>Sources</th>"
            "<th>Why</th></tr></thead><tbody>"]
    out += [f"<tr><td><code>{escape(r.id)}</code></td><td>{r.confidence}</td><td>{escape(', '.join(r.implements))}"
            f"</td><td>{escape(', '.join(r.sources))}</td><td>{escape(r.reason)}</td></tr>" for r in p.rules]
    out.append("</tbody></table><p>Confidence: <b>H</b> stated in Microsoft's documentation; <b>M</b> older "
               "Microsoft documentation, Microsoft staff blogs, or inferred from two sources; <b>L</b> a single "
               "non-Microsoft source, or inference.</p></details>")
    return [*out, "</section>"]


def to_html(p: Pack) -> str:
    files = ", ".join(f"<code>{escape(f)}</code>" for f in p.claim_files)
    cexs = [line for c in p.counterexamples for line in _counterexample(c, p.settings)]
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f'<meta name="generator" content="trackproof {__version__}">', f"<title>{escape(p.title)}</title>",
             f"<style>{STYLE}</style>", "</head>", "<body>", "<header>", f"<h1>{escape(p.title)}</h1>",
             f'<p class="lead">{escape(p.summary)}</p>', f"<p class=\"muted\">Claims: {files}.</p>",
             '<nav aria-label="Contents"><ol><li><a href="#answer">The answer</a></li>'
             '<li><a href="#counterexamples">Counterexamples</a></li><li><a href="#missed">Missed scenarios</a></li>'
             '<li><a href="#consistency">The model\'s consistency and diagrams</a></li>'
             '<li><a href="#sources">Sources and confidence</a></li></ol></nav>', "</header>", "<main>",
             *_answers(p), '<section id="counterexamples"><h2>2. Each wrong claim: a counterexample</h2>',
             *(cexs or ["<p>No claim is wrong.</p>"]), "</section>", *_missed(p), *_consistency(p), *_sources(p),
             "</main>", f'<footer><p class="muted">Made by trackproof {__version__}: <code>trackproof report '
             f"{' '.join(escape(f) for f in p.claim_files)}</code>. The same inputs give the same page, byte for "
             "byte.</p></footer>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
