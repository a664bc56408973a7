"""Diagrams as neutral data, drawn from the IR only (never from `transitions`' own graph extension), so that the
picture, the simulation and the proof cannot drift apart. dot.py and mermaid.py turn a `Diagram` into text.

Kinds of diagram:
- one state diagram per machine (synchronization mode): states, transitions labelled with trigger, a short guard and
  the rule id; the initial state marked; states where a lifecycle may rest drawn with a double border;
- the acceptance decision for an incoming email (a flow chart of the rules tried, in order, on a sync cycle and on a
  manual Track), with the definitions it relies on;
- a comparison of two machines, or of one machine under two settings files;
- any machine diagram with a trace drawn on it (numbered, the rest dimmed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..spec.expr import Expr, calls, conjuncts
from ..spec.ir import Machine, Model, Transition

MAX_GUARD = 46


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    classes: tuple[str, ...] = ()
    tooltip: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    classes: tuple[str, ...] = ()
    tooltip: str = ""
    key: str = ""  # what the edge stands for: "rule id:source:dest", used to compare and highlight


@dataclass(frozen=True)
class Diagram:
    name: str
    title: str
    kind: str  # state | flow
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    legend: tuple[tuple[str, str], ...]
    view: str = "detailed"  # detailed | simple: for a projector, larger type, no legend (the page gives it)


def short(text: str, limit: int = MAX_GUARD) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def guard_label(guard: Expr | None) -> str:
    """A short readable guard: the top-level parts, each shortened, on their own lines."""
    if guard is None:
        return ""
    parts = [short(p.text) for p in conjuncts(guard)]
    if len(parts) > 3:
        parts = [*parts[:2], f"… and {len(parts) - 2} more"]
    return "\n∧ ".join(parts)


def edge_key(t: Transition) -> str:
    return f"{t.id}:{t.source}:{t.dest or t.source}"


def _unique(transitions: tuple[Transition, ...]) -> list[Transition]:
    seen: dict[str, Transition] = {}
    for t in transitions:
        seen.setdefault(edge_key(t), t)
    return list(seen.values())


def _state_nodes(model: Model, states: list[str], extra: dict[str, tuple[str, ...]] | None = None) -> list[Node]:
    nodes = [Node("__start", "", ("initial",))]
    for name in states:
        state = model.states[name]
        what = f"activity: {state.status.replace('_', ' ')}" if state.stored and state.status else "no activity"
        classes = ("stored" if state.stored else "not_stored",) + (("final",) if state.final else ())
        nodes.append(Node(name, f"{name}\n{what}", classes + (extra or {}).get(name, ()), state.says))
    return nodes


def rule_tag(t: Transition) -> str:
    """A rule's id as diagrams show it: with its confidence when it is not H, so that an uncertain rule reads as
    one without its colour."""
    return t.id if t.provenance.confidence == "H" else f"{t.id} ({t.provenance.confidence})"


def _transition_edge(t: Transition, machine: str, extra: tuple[str, ...] = (), prefix: str = "",
                     guards: bool = True) -> Edge:
    classes = (("inherited",) if t.machine != machine else ()) + (
        ("uncertain",) if t.provenance.confidence != "H" else ()) + extra
    guard = guard_label(t.guard) if guards else ""
    label = f"{prefix}{t.trigger}" + (f"\n[{guard}]" if guard else "") + f"\n{rule_tag(t)}"
    tooltip = f"{t.id} ({t.provenance.confidence}; {', '.join(t.provenance.implements)}): " + (
        t.guard.text if t.guard else "always")
    return Edge(t.source, t.dest or t.source, label, classes, tooltip, edge_key(t))


LEGEND_STATE = (("stored", "an email activity exists"), ("not_stored", "no email activity"),
                ("final", "double border: a lifecycle may rest here"),
                ("inherited", "dashed: a rule every mode inherits from `none`"),
                ("uncertain", "amber, (M) or (L) after its id: a rule of confidence M or L"))


def _edges(transitions: list[Transition], machine: str, extra: dict[str, tuple[str, ...]] | None = None,
           guards: bool = True) -> list[Edge]:
    """One edge per transition, except that a state's unguarded self-loops (deleting in Outlook, untracking: the
    activity is kept) are drawn as one edge listing them all. Without `guards` (the simplified view), labels give the
    trigger and the rule only, and those self-loops are left out (`kept_as_is` lists them)."""
    edges: list[Edge] = []
    loops: dict[tuple[str, tuple[str, ...]], list[Transition]] = {}
    for t in transitions:
        classes = (extra or {}).get(edge_key(t), ())
        if t.dest is None and t.guard is None and not guards and not classes:
            continue  # the simplified view leaves out what changes nothing (its caption says so)
        if t.dest is None and t.guard is None:
            loops.setdefault((t.source, classes), []).append(t)
        else:
            edges.append(_transition_edge(t, machine, classes, guards=guards))
    for (source, classes), group in loops.items():
        if len(group) == 1:
            edges.append(_transition_edge(group[0], machine, classes, guards=guards))
            continue
        label = ", ".join(t.trigger for t in group) + "\n(activity kept)\n" + ", ".join(rule_tag(t) for t in group)
        own = ("inherited",) if all(t.machine != machine for t in group) else ()
        edges.append(Edge(source, source, label, own + classes, "; ".join(f"{t.id}: {t.provenance.reason}"
                                                                          for t in group),
                          "|".join(edge_key(t) for t in group)))
    return edges


def kept_as_is(machine: Machine) -> list[Transition]:
    """The unguarded self-loops of a machine (deleting in Outlook, untracking: the activity is kept as it is),
    which the simplified view leaves out."""
    return [t for t in _unique(machine.transitions) if t.dest is None and t.guard is None]


def machine_diagram(model: Model, machine: Machine, guards: bool = True) -> Diagram:
    """A mode's state diagram. Without `guards`, the simplified view for a projector: each transition labelled
    with its trigger and rule id only (the guards are in the detailed view and in the tooltips)."""
    nodes = _state_nodes(model, list(machine.states))
    edges = [Edge("__start", model.initial, "", (), "initial state", "initial")]
    edges += _edges(_unique(machine.transitions), machine.name, guards=guards)
    name = machine.name if guards else f"{machine.name}-simple"
    title = machine.title if guards else f"{machine.title} (simplified: rule ids, no guards)"
    return Diagram(name, title, "state", tuple(nodes), tuple(edges), LEGEND_STATE, "detailed" if guards else "simple")


def acceptance_flow(model: Model) -> Diagram:
    """The decision for an email that reached a mailbox: the rules tried on a sync cycle, then by hand."""
    nodes: list[Node] = []
    edges: list[Edge] = []
    used: dict[str, None] = {}
    lanes = (("sync", "A sync cycle runs; the email is in the mailboxes (delivered), not tracked yet"),
             ("track", "The user clicks Track or Set Regarding on it"))
    for trigger, start_text in lanes:
        candidates = sorted((t for t in _unique(model.transitions) if t.source == "delivered" and t.trigger == trigger),
                            key=lambda t: (-t.priority, t.order))
        start = f"start_{trigger}"
        nodes.append(Node(start, start_text, ("start",)))
        stay = f"stay_{trigger}"
        nodes.append(Node(stay, "nothing happens:\nno email activity (stays delivered)", ("outcome_no",)))
        entries: list[str] = []
        for t in candidates:
            parts = conjuncts(t.guard) if t.guard else ()
            ids = [f"{t.id}_{i}" for i in range(len(parts))]
            for node_id, part in zip(ids, parts, strict=True):
                nodes.append(Node(node_id, short(part.text, 60), ("decision",), f"{t.id}: {part.text}"))
                used.update(dict.fromkeys(sorted(calls(part))))
            done = f"{t.id}_done"
            dest = t.dest or "unchanged"
            nodes.append(Node(done, f"{dest}: email activity created\n{t.id} ({t.provenance.confidence}): "
                              f"{_wrap(t.provenance.reason, 50)}", ("outcome_yes",), t.says))
            entries.append(ids[0] if ids else done)
            for a, b in zip(ids, [*ids[1:], done], strict=True):
                edges.append(Edge(a, b, "yes", ("yes",)))
        edges.append(Edge(start, entries[0] if entries else stay, ""))
        for i, t in enumerate(candidates):  # every "no" goes on to the next rule's first question
            nxt = entries[i + 1] if i + 1 < len(candidates) else stay
            parts = conjuncts(t.guard) if t.guard else ()
            edges += [Edge(f"{t.id}_{j}", nxt, "no", ("no",)) for j in range(len(parts))]
    closure = _closure(model, list(used))
    for name in closure:
        d = model.definitions[name]
        params = ", ".join(p for p, _ in d.params)
        refs = f"[{', '.join(d.provenance.implements)}; {d.provenance.confidence}]"
        text = f"{name}({params}) :=\n{_wrap(d.body.text)}\n{refs}"
        nodes.append(Node(f"def_{name}", text, ("note",), d.provenance.reason))
    legend = (("decision", "a question a rule asks; rules are tried top to bottom"),
              ("outcome_yes", "an email activity is created"), ("outcome_no", "nothing happens"),
              ("note", "a definition the questions use, with its RULES.md numbers and confidence"))
    return Diagram("acceptance", "Is an email that reached a mailbox tracked? The decision, rule by rule", "flow",
                   tuple(nodes), tuple(edges), legend)


def _closure(model: Model, names: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen[name] = None
        todo += sorted(calls(model.definitions[name].body))
    return list(seen)


def _wrap(text: str, width: int = 56) -> str:
    words, lines, line = " ".join(text.split()).split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


def compare(model: Model, a: tuple[str, set[str]], b: tuple[str, set[str]], machine: Machine,
            title: str) -> Diagram:
    """Edges (rule keys) on one side only are coloured; common ones are grey. a and b are (name, edge keys)."""
    keys_a, keys_b = a[1], b[1]
    transitions = {edge_key(t): t for m in model.machines.values() for t in _unique(m.transitions)}
    keys = sorted(keys_a | keys_b, key=lambda k: (transitions[k].order, k))
    states_a = {transitions[k].source for k in keys_a} | {transitions[k].dest or transitions[k].source for k in keys_a}
    states_b = {transitions[k].source for k in keys_b} | {transitions[k].dest or transitions[k].source for k in keys_b}
    states = [s for s in model.states if s in states_a | states_b or s == model.initial]

    def side(in_a: bool, in_b: bool) -> tuple[str, ...]:
        return ("common",) if in_a and in_b else (("only_a",) if in_a else ("only_b",))

    extra = {s: side(s in states_a or s == model.initial, s in states_b or s == model.initial) for s in states}
    nodes = _state_nodes(model, states, extra)
    edges = [Edge("__start", model.initial, "", (), "initial state", "initial")]
    edges += _edges([transitions[k] for k in keys], machine.name, {k: side(k in keys_a, k in keys_b) for k in keys})
    legend = (("only_a", f"only in {a[0]}"), ("only_b", f"only in {b[0]}"), ("common", "in both"))
    return Diagram(f"compare-{a[0]}-{b[0]}", title, "state", tuple(nodes), tuple(edges), legend)


def highlight(diagram: Diagram, steps: list[tuple[str, str, str, str]], title: str) -> Diagram:
    """Draw a trace on a machine diagram: steps are (email, rule, source, dest); their edges are emphasised and
    numbered in order, the rest dimmed, and where each email ends is marked."""
    numbers: dict[str, list[int]] = {}
    for i, (_, rule, source, dest) in enumerate(steps, 1):
        numbers.setdefault(f"{rule}:{source}:{dest}", []).append(i)
    visited = {s for _, _, a, b in steps for s in (a, b)}
    nodes = [replace(n, classes=(*n.classes, "highlight" if n.id in visited else "dim")) if n.id != "__start" else n
             for n in diagram.nodes]
    edges = []
    for e in diagram.edges:
        hits = sorted(i for k in e.key.split("|") for i in numbers.get(k, []))
        if hits:
            tag = ", ".join(str(i) for i in hits)
            edges.append(replace(e, label=f"({tag}) {e.label}", classes=(*e.classes, "highlight")))
        else:  # in the simplified view, an edge off the trace keeps its line and loses its words
            edges.append(replace(e, classes=(*e.classes, "dim"), label="" if diagram.view == "simple" else e.label))
    ends: dict[str, str] = {}
    for email, _, _, dest in steps:
        ends[email] = dest
    for email, state in ends.items():
        note = f"end_{email.replace('.', '_')}"
        nodes.append(Node(note, f"{email} ends here: {state}", ("violated",)))
        edges.append(Edge(state, note, "", ("highlight",)))
    legend = (*diagram.legend, ("highlight", "the trace, numbered in order"), ("dim", "not on the trace"),
              ("violated", "where each email of the trace ends"))
    return replace(diagram, name=f"{diagram.name}-highlight", title=title, nodes=tuple(nodes), edges=tuple(edges),
                            legend=legend)
