"""The review pack's content, in a consultant's order: the answer in one table, each wrong claim's counterexample
drawn on its mode's diagram with the scenario file to replay it, the scenarios the claims missed, the model's own
consistency and the diagrams of every mode, and the sources the answers rest on.

What it is: a composition of records trackproof already produces, read through their contracts (the JSON of
`check`, the JSON of `gaps`) and the model's IR (diagrams, vocabulary, sources), into frozen records that
pack_html.py and pack_markdown.py lay out. What it is not: a prover or a renderer; nothing here decides a verdict,
and the pictures are drawn by render/ (`draw`). Why from the JSON: the pack says exactly what `check --format json`
and `gaps --format json` say, and it does not move when the prover's internals do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..render.dot import to_dot
from ..render.model import Diagram, kept_as_is, machine_diagram
from ..spec.ir import Machine, Model
from . import words
from .check import condition_text

#: Where the pack's files go inside its folder.
PAGE, MARKDOWN, DIAGRAMS, SCENARIOS = "report.html", "report.md", "diagrams", "scenarios"
MODE_ORDER = ("server_side_sync", "outlook_client", "forward_mailbox", "none")
MODE_CAPTION = ("Each state says whether an email activity exists (green: it does); double border: a lifecycle may "
                "rest there; each arrow gives its trigger and rule id; (M) or (L) after an id: a rule of lower "
                "confidence (amber); dashed: a rule every mode inherits from “none”.")
TRACE_CAPTION = ("The failing path, numbered in order and drawn thick; the arrows off the path are faint and "
                 "unlabelled; a dark note says where each email ends.")


@dataclass(frozen=True)
class Picture:
    """One diagram: its DOT, and its SVG once drawn."""

    name: str  # file stem under diagrams/
    title: str
    dot: str
    svg: str = ""


@dataclass(frozen=True)
class Figure:
    """A diagram for a projector (simplified: no guard text, rule ids) with the detailed one behind it."""

    anchor: str
    title: str
    simple: Picture
    detailed: Picture
    note: str = ""  # what the simplified view leaves out


@dataclass(frozen=True)
class Answer:
    claim: str
    anchor: str
    text: str
    reading: str
    verdict: str  # the contract's word: proved | violated | vacuous | unknown
    words: str  # right | wrong | right only when ... | ...
    mark: str  # a symbol beside the words
    defaults: str  # yes | no | (blank)
    condition: tuple[str, ...]  # the alternatives under which it holds, in words
    condition_formal: str  # the same as `check` writes it
    confidence: str
    weak_rules: tuple[str, ...]  # rules of confidence M or L it rests on
    location: str


@dataclass(frozen=True)
class Counterexample:
    claim: str
    anchor: str
    text: str
    sentences: tuple[str, ...]
    settings: tuple[str, ...]  # the settings changed from the defaults, in words
    scenario_file: str  # relative to the pack's folder
    scenario: str
    figure: Figure
    others: tuple[tuple[str, ...], ...] = ()  # more ways it fails: their settings, in words


@dataclass(frozen=True)
class Missed:
    number: int
    sentence: str
    settings: tuple[str, ...]
    setup: str  # which setup of the claim file ("" when there is one)
    rule_paths: int
    scenario_file: str
    scenario: str


@dataclass(frozen=True)
class MissedGroup:
    title: str
    scenarios: tuple[Missed, ...]


@dataclass(frozen=True)
class Source:
    key: str
    anchor: str
    title: str
    url: str  # an address, or where the document is when RULES.md gives no address
    rules: tuple[str, ...]  # "S-accept (M)": the rules of the answers that cite it

    @property
    def linked(self) -> bool:
        return self.url.startswith(("https://", "http://"))


@dataclass(frozen=True)
class Rule:
    id: str
    confidence: str
    implements: tuple[str, ...]
    sources: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class SettingRow:
    """A setting of the vocabulary the pack names (under one or more participants' names)."""

    anchor: str
    names: tuple[str, ...]  # as trackproof writes it: org.use_correlation, X.filter, Q.filter
    label: str
    short: str  # as conditions name it
    where: str
    sources: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class Pack:
    title: str
    claim_files: tuple[str, ...]
    summary: str
    answers: tuple[Answer, ...]
    counterexamples: tuple[Counterexample, ...]
    coverage: str
    setups: tuple[str, ...]
    missed: tuple[MissedGroup, ...]
    untouched_rules: tuple[str, ...]
    joint: tuple[str, ...]  # can the claims that share a setup all hold at once, in words
    findings: tuple[str, ...]  # the model check's faults, in words
    nothing_happens: tuple[str, ...]  # where the model says nothing happens (its gaps)
    modes: tuple[Figure, ...]
    settings: tuple[SettingRow, ...]
    sources: tuple[Source, ...]
    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = field(default=())  # the model's own notes (documented disagreements)

    def pictures(self) -> list[Picture]:
        figures = [*(c.figure for c in self.counterexamples), *self.modes]
        return [p for f in figures for p in (f.simple, f.detailed)]


def anchor(prefix: str, name: str) -> str:
    return f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def _answer(model: Model, c: dict[str, Any]) -> Answer:
    cubes = c.get("holds_when_cubes")
    defaults = {True: "yes", False: "no"}.get(c.get("holds_under_defaults"), "")  # type: ignore[arg-type]
    weak = tuple(f"{r['id']} ({r['confidence']})" for r in c.get("rules", []) if r["confidence"] != "H")
    return Answer(c["id"], anchor("claim", c["id"]), c["text"], c.get("reading") or "", c["verdict"],
                  words.verdict_words(c["verdict"], cubes), words.verdict_mark(c["verdict"], cubes), defaults,
                  tuple(words.alternatives(model, cubes)) if c["verdict"] in ("proved", "violated") else (),
                  condition_text(cubes), c["confidence"], weak, c.get("location", ""))


def _trace_figure(model: Model, claim: str, steps: list[dict[str, Any]]) -> Figure:
    from ..render.diagrams import trace_diagram, trace_machine

    trace = [(str(s["email"]), str(s["rule"]), str(s["from"]), str(s["to"])) for s in steps]
    title = f"The counterexample to {claim}, on its mode's diagram"
    pictures = []
    for guards in (False, True):
        d = trace_diagram(model, trace, title + ("" if guards else " (simplified)"), guards)
        name = stem(f"{claim}-counterexample" + ("" if guards else "-simple"))
        pictures.append(Picture(name, d.title, to_dot(replace(d, name=name))))
    return Figure(anchor("figure", claim), title, pictures[0], pictures[1], _left_out(trace_machine(model, trace)))


def _counterexample(model: Model, c: dict[str, Any]) -> Counterexample:
    cex = c["counterexample"]
    settings = tuple(words.assignment(model, k, v) for k, v in cex["settings"].items())
    others = tuple(tuple(words.assignment(model, k, v) for k, v in o["settings"].items())
                   for o in c.get("more_counterexamples", []))
    return Counterexample(c["id"], anchor("counterexample", c["id"]), c["text"], tuple(cex["sentences"]), settings,
                          f"{SCENARIOS}/{stem(c['id'])}.yaml", cex["scenario"], _trace_figure(model, c["id"],
                                                                                            cex["trace"]), others)


def _setup_words(model: Model, setup: dict[str, Any]) -> str:
    return "; ".join(words.assignment(model, k, v) for k, v in setup.items()) or "no fixed settings"


def _missed(model: Model, gaps: dict[str, Any]) -> tuple[MissedGroup, ...]:
    groups: dict[str, list[Missed]] = {}
    several = len(gaps.get("setups", [])) > 1
    for number, m in enumerate(gaps["missed"], 1):
        setup = str(m["setup"]) if several else ""
        entry = Missed(number, m["sentence"], tuple(words.assignment(model, k, v) for k, v in m["settings"].items()),
                       setup, 1, f"{SCENARIOS}/missed/{stem(m['id'])}.yaml", m["scenario"])
        groups.setdefault(m["group"], []).append(entry)
    return tuple(MissedGroup(g[0].upper() + g[1:], tuple(items)) for g, items in groups.items())


def _joint(model: Model, check: dict[str, Any]) -> tuple[str, ...]:
    by_id = {c["id"]: c for c in check["claims"]}
    out = []
    for j in check.get("consistency", []):
        setup = _setup_words(model, j["setup"])
        if j["consistent"]:
            out.append(f"{', '.join(j['claims'])} (with {setup}): all of them hold at once when "
                       f"{words.condition(model, j['together_when'])}.")
        else:
            parts = [f"{cid} holds only when {words.condition(model, by_id[cid]['holds_when_cubes'])}"
                     for cid in j["conflict"]]
            out.append(f"{', '.join(j['claims'])} (with {setup}): they cannot all hold under any settings; "
                       f"{', '.join(j['conflict'])} conflict (a minimal set): " + "; ".join(parts) + ".")
    return tuple(out)


_FAULT = {"overlap": "can both fire", "shadowed": "never fires: rules tried before it always fire first",
          "dead": "can never fire", "unreachable": "is unreachable"}


def _findings(check: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    faults, gaps = [], []
    for f in check.get("model", {}).get("findings", []):
        where = f"{f['machine']}: {f['state']}" + (f" on {f['trigger']}" if f["trigger"] else "")
        if f["kind"] == "gap":
            gaps.append(f"{where}: nothing happens when {'; '.join(f['witness'])}")
        else:
            subject = " and ".join(f["rules"]) if f["rules"] else "the state"
            faults.append(f"{f['kind']} in {where}: {subject} {_FAULT.get(f['kind'], f['kind'])}"
                          + (f" (for example {', '.join(f['witness'])})" if f["witness"] else ""))
    return tuple(faults), tuple(gaps)


def _modes(model: Model) -> tuple[Figure, ...]:
    names = [n for n in MODE_ORDER if n in model.machines] + [n for n in model.machines if n not in MODE_ORDER]
    out = []
    for name in names:
        machine = model.machines[name]
        simple, detailed = (machine_diagram(model, machine, guards) for guards in (False, True))
        out.append(Figure(anchor("mode", name), machine.title, _picture(simple), _picture(detailed),
                          _left_out(machine)))
    return tuple(out)


def _left_out(machine: Machine) -> str:
    loops: dict[str, dict[str, None]] = {}
    for t in kept_as_is(machine):
        loops.setdefault(f"{t.trigger} ({t.id})", {})[t.source] = None
    if not loops:
        return ""
    return "Not drawn in the simplified view (they keep the email as it is): " + "; ".join(
        f"{what} in {', '.join(states)}" for what, states in loops.items()) + "."


def _picture(d: Diagram) -> Picture:
    return Picture(d.name, d.title, to_dot(d))


def _rules_and_sources(model: Model, check: dict[str, Any], settings: tuple[SettingRow, ...],
                       ) -> tuple[tuple[Rule, ...], tuple[Source, ...]]:
    """The rules the answers rest on, and every document they cite, with the documents that say where the named
    settings are."""
    rules: dict[str, Rule] = {}
    sources: dict[str, tuple[str, str]] = {}
    cited: dict[str, dict[str, None]] = {}
    for row in settings:
        for key in row.sources:
            if key in model.sources:
                sources.setdefault(key, (model.sources[key].title, model.sources[key].url))
                cited.setdefault(key, {})[f"where “{row.short}” is"] = None
    for c in check["claims"]:
        for r in c.get("rules", []):
            keys = tuple(s["key"] for s in r["sources"])
            rules.setdefault(r["id"], Rule(r["id"], r["confidence"], tuple(r["implements"]), keys, r["reason"]))
            for s in r["sources"]:
                sources.setdefault(s["key"], (s["title"], s["url"]))
                cited.setdefault(s["key"], {})[f"{r['id']} ({r['confidence']})"] = None
    ordered = sorted(sources, key=lambda k: (k[0], int(k[1:]) if k[1:].isdigit() else 0, k))
    return (tuple(sorted(rules.values(), key=lambda r: r.id)),
            tuple(Source(k, anchor("source", k), *sources[k], tuple(cited[k])) for k in ordered))


def _named_settings(model: Model, check: dict[str, Any], gaps: dict[str, Any]) -> tuple[SettingRow, ...]:
    """Every setting the pack names, in the order it first appears, with where to find it."""
    names: dict[str, None] = {}
    for c in check["claims"]:
        names.update(dict.fromkeys(words.names_in(c.get("holds_when_cubes"))))
        for run in [c["counterexample"], *c.get("more_counterexamples", [])] if c.get("counterexample") else []:
            names.update(dict.fromkeys(run["settings"]))
    for j in check.get("consistency", []):
        names.update(dict.fromkeys([*j["setup"], *words.names_in(j.get("together_when"))]))
    for m in gaps["missed"]:
        names.update(dict.fromkeys(m["settings"]))
    for setup in gaps.get("setups", []):
        names.update(dict.fromkeys(setup))
    rows: dict[str, SettingRow] = {}
    for name in names:
        s = words.setting(model, name)
        a = s.attribute
        if s.anchor in rows:
            rows[s.anchor] = replace(rows[s.anchor], names=(*rows[s.anchor].names, name))
            continue
        default = words.value_words(model, s, a.default) if a is not None and a.group != "party" else ""
        if a is not None and a.default_for_queue is not None:
            default += f" (queues: {words.value_words(model, s, a.default_for_queue)})"
        rows[s.anchor] = SettingRow(s.anchor, (name,), s.label, s.short, a.where if a else "",
                                    a.where_sources if a else (), default)
    return tuple(rows.values())


def _summary(answers: tuple[Answer, ...]) -> str:
    """How many claims are right, wrong, right only under some settings (and of those, how many fail under the
    defaults), never happen, or are undecided."""
    kinds = {"right": "right", "wrong": "wrong", "right only when …": "right only under some settings"}
    counts: dict[str, int] = {}
    for a in answers:
        word = kinds.get(a.words, a.words.split(" (")[0])
        counts[word] = counts.get(word, 0) + 1
    parts = [f"{n} {w}" for w, n in counts.items()]
    failing = sum(1 for a in answers if a.defaults == "no")
    tail = f"; {failing} of them do not hold under Dynamics 365's defaults" if failing else ""
    return f"{len(answers)} claims: " + ", ".join(parts) + tail + "."


def compose(model: Model, claim_files: list[str], check: dict[str, Any], gaps: dict[str, Any],
            title: str = "") -> Pack:
    """The pack from the JSON of `check` (with the model check) and of `gaps` on the same claim files."""
    answers = tuple(_answer(model, c) for c in check["claims"])
    cexs = tuple(_counterexample(model, c) for c in check["claims"] if c.get("counterexample"))
    faults, nothing = _findings(check)
    settings = _named_settings(model, check, gaps)
    rules, sources = _rules_and_sources(model, check, settings)
    coverage = (f"{gaps['classes']} behaviour classes over every sequence of up to {gaps['depth']} events after "
                f"each of {gaps['stories']} first messages, every mailbox and org setting free; {gaps['covered']} "
                f"covered by a claim, {gaps['no_effect']} where the last action changes nothing, "
                f"{len(gaps['missed'])} missed.")
    setups = tuple(f"Setup {i}: {_setup_words(model, s)}" for i, s in enumerate(gaps.get("setups", []), 1))
    return Pack(title or "Review pack", tuple(claim_files), _summary(answers), answers, cexs, coverage, setups,
                _missed(model, gaps), tuple(gaps.get("rules_untouched", [])), _joint(model, check), faults, nothing,
                _modes(model), settings, sources, rules, tuple(model.notes))


def draw(pack: Pack, render: Callable[[list[str]], list[str]]) -> Pack:
    """The pack with every picture drawn: `render` maps DOT texts to SVG texts (render.svg.to_svgs)."""
    pictures = pack.pictures()
    unique = list(dict.fromkeys(p.dot for p in pictures))
    svgs = dict(zip(unique, render(unique), strict=True))

    def drawn(f: Figure) -> Figure:
        return replace(f, simple=replace(f.simple, svg=svgs[f.simple.dot]),
                       detailed=replace(f.detailed, svg=svgs[f.detailed.dot]))

    return replace(pack, counterexamples=tuple(replace(c, figure=drawn(c.figure)) for c in pack.counterexamples),
                   modes=tuple(drawn(f) for f in pack.modes))


def files(pack: Pack, markdown: bool) -> dict[str, str]:
    """The files beside the page: scenario files to replay, and (for the Markdown) the diagrams as SVG files."""
    out = {c.scenario_file: c.scenario for c in pack.counterexamples}
    out.update({m.scenario_file: m.scenario for g in pack.missed for m in g.scenarios})
    if markdown:
        out.update({os.path.join(DIAGRAMS, p.name + ".svg").replace(os.sep, "/"): p.svg for p in pack.pictures()})
    return out
