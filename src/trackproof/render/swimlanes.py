"""A scenario's run as swimlanes: one lane per participant and one for Dynamics 365, a row per event.

Each row shows what the event does (who sends what to whom, who tracks or deletes what) and what changed in
Dynamics 365 because of it: every rule that fired, on which email, from which lifecycle state to which. The last row
gives each email's outcome. Drawn from a run of the simulator, so it shows only what happened, in the order it
happened: for a design review ("walk me through this case") or a support case ("why wasn't this email tracked?").
Written as Mermaid (a sequence diagram) and as Graphviz DOT (a grid: lanes are columns, events are rows).
"""

from __future__ import annotations

import itertools
import os
import textwrap
from dataclasses import dataclass

import graphviz

from ..simulate.narrate import activity_fields, describe_event
from ..simulate.outcomes import Outcome
from ..spec.scenario import CREATES_EMAIL, Event, Scenario
from .dot import attributes, digraph, style, text

CRM = "dynamics"


@dataclass(frozen=True)
class Message:
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Row:
    title: str  # the event, in a sentence (or "Outcome")
    actor: str  # the lane the event belongs to
    messages: tuple[Message, ...]
    notes: tuple[tuple[str, str], ...]  # (lane, text): what changed there


@dataclass(frozen=True)
class Swimlanes:
    name: str
    title: str
    lanes: tuple[tuple[str, str], ...]  # (id, label), participants in the scenario's order, then Dynamics 365
    rows: tuple[Row, ...]


def _actor(e: Event) -> str:
    p = e.params
    if e.kind in ("send", "auto_reply"):
        return str(p["from"])
    if e.kind in ("outlook_start", "outlook_stop"):
        return str(p["user"])
    if e.kind == "reset_processing_date":
        return str(p["mailbox"])
    if e.kind == "delete" and p.get("in") == "crm":
        return CRM
    return str(p["by"]) if "by" in p else CRM


def _recipients(e: Event, source: str) -> list[Message]:
    """The copies of a sent email reaching its recipients, from `source` (the sender, or Dynamics 365 sending)."""
    p = e.params
    how = " (reply to {})".format(p["reply_to"]) if "reply_to" in p else (
        " (forward of {})".format(p["forward_of"]) if "forward_of" in p else "")
    out = []
    for key, word in (("to", ""), ("cc", " (Cc)"), ("bcc", " (Bcc)")):
        names = p.get(key) or []
        for name in names if isinstance(names, list) else [names]:
            out.append(Message(source, str(name), f"{p['id']}{how}{word}"))
    return out


def _messages(e: Event, sends: dict[str, Event]) -> tuple[Message, ...]:
    """What an event sends: an email sent from Dynamics 365 goes to it first (and to the recipients when a rule
    sends it, see swimlanes); any other goes to the recipients at once (an automatic reply to the sender of the
    email it answers)."""
    p = e.params
    if e.kind == "auto_reply":
        original = sends.get(str(p["to_email"]))
        to = str(original.params["from"]) if original is not None else CRM
        return (Message(str(p["from"]), to, f"{p['id']} (automatic reply to {p['to_email']})"),)
    if e.kind != "send":
        return ()
    if p.get("via") == "crm":
        return (Message(str(p["from"]), CRM, f"{'Save' if p.get('draft') else 'Send'} {p['id']}"),)
    return tuple(_recipients(e, str(p["from"])))


def _outcome(o: Outcome) -> str:
    if not o.stored:
        return f"{o.key}: not stored" + (f" ({activity_fields(o)})" if o.categories else "")
    details = [o.status or "stored"]
    if o.accepted_by:
        details.append(f"accepted by {o.accepted_by}")
    if o.tracked_by:
        details.append(f"tracked by {o.tracked_by}")
    if o.regarding:
        details.append(f"Regarding {o.regarding}")
    if o.correlated_to:
        details.append(f"correlated to {o.correlated_to}")
    recorded = activity_fields(o)
    return f"{o.key}: stored ({', '.join(details)}; {recorded})" if recorded else \
        f"{o.key}: stored ({', '.join(details)})"


def swimlanes(scenario: Scenario, outcomes: list[Outcome], name: str | None = None) -> Swimlanes:
    lanes = (*((pid, f"{pid} ({p.kind})") for pid, p in scenario.participants.items()), (CRM, "Dynamics 365"))
    sends = {str(e.params["id"]): e for e in scenario.events if e.kind in CREATES_EMAIL}
    rows = []
    for e in scenario.events:
        changed = []
        messages = list(_messages(e, sends))
        for o in outcomes:
            fired = [s for s in o.steps if s.rule and s.event == e.number]
            changed += [f"{o.key}: {s.source} → {s.dest} ({s.rule})" for s in fired]
            sent = o.message in sends and sends[o.message].params.get("via") == "crm"
            if sent and any(s.source == "pending_send" and s.dest == "sent" for s in fired):
                # an email sent from Dynamics 365 leaves now: by server-side sync, or through the user's Outlook
                # (the legacy client, at outlook_start or outlook_sync)
                messages += _recipients(sends[o.message], CRM if e.kind in ("sync", "resend") else _actor(e))
            if not fired and o.why_not and o.why_not_event == e.number:
                changed.append(f"{o.key}: no rule fired ({', '.join(dict.fromkeys(r for r, _ in o.why_not))})")
        for m in list(messages):  # a distribution list passes the email on to its members
            members = scenario.participants[m.target].members if m.target in scenario.participants else ()
            messages += [Message(m.target, member, m.label) for member in members]
        notes = ((CRM, "\n".join(changed)),) if changed else ()
        rows.append(Row(f"{e.number}. {describe_event(e)}", _actor(e), tuple(messages), notes))
    rows.append(Row("Outcome", CRM, (), ((CRM, "\n".join(_outcome(o) for o in outcomes)),)))
    base = name or os.path.splitext(os.path.basename(scenario.path))[0]
    return Swimlanes(f"swimlanes-{base}", f"Swimlanes: {scenario.name}", lanes, tuple(rows))


def _wrap(text: str, width: int = 44) -> str:
    return "\n".join(line for part in text.split("\n") for line in textwrap.wrap(part, width) or [""])


_ENTITIES = {"#": "#35;", ";": "#59;", ":": "#58;"}


def _mermaid_text(text: str) -> str:
    """Text Mermaid shows as it is: its separators written as entities, line breaks as <br/>."""
    return "".join(_ENTITIES.get(c, c) for c in text).replace("\n", "<br/>")


def to_mermaid(s: Swimlanes) -> str:
    ids = {lane: f"p_{i}" for i, (lane, _) in enumerate(s.lanes)}
    title = s.title.replace("\\", "\\\\").replace('"', '\\"')
    lines = ["---", f'title: "{title}"', "---", "sequenceDiagram"]
    lines += [f"    participant {ids[lane]} as {label}" for lane, label in s.lanes]
    first, last = ids[s.lanes[0][0]], ids[s.lanes[-1][0]]
    for row in s.rows:
        lines.append(f"    Note over {first},{last}: {_mermaid_text(row.title)}")
        for m in row.messages:
            lines.append(f"    {ids[m.source]}->>{ids[m.target]}: {_mermaid_text(m.label)}")
        for lane, note in row.notes:
            lines.append(f"    Note over {ids[lane]}: {_mermaid_text(note)}")
    return "\n".join(lines) + "\n"


def to_dot(s: Swimlanes) -> str:
    """A grid: an events column and a column per lane; a row per event; lifelines keep the columns straight."""
    st = style()
    classes = st["classes"]
    lanes = [("events", ""), *s.lanes]
    graph = {**st["graph"], "label": s.title, "labelloc": "t", "rankdir": "TB", "newrank": "true", "nodesep": "0.5",
             "ranksep": "0.3", "ratio": "auto"}
    g = digraph(s.name, graph, st["node"], st["edge"])
    header = []
    for lane, label in lanes:
        node = f"h {lane}"
        if lane == "events":
            g.node(text(node), **attributes({"label": "", "shape": "plaintext", "style": ""}))
        else:
            look = classes["start"] if lane != CRM else classes["stored"]
            g.node(text(node), **attributes({"label": label, **look}))
        header.append(node)
    _row(g, header)
    previous = {lane: f"h {lane}" for lane, _ in lanes}
    for i, row in enumerate(s.rows, 1):
        cells = []
        notes = dict(row.notes)
        for lane, _ in lanes:
            node = f"r{i} {lane}"
            g.node(text(node), **attributes(_cell(row, lane, notes, classes)))
            cells.append(node)
            g.edge(text(previous[lane]), text(node), **attributes(
                {"style": "invis" if lane == "events" else "dashed", "arrowhead": "none", "color": "#bdbdbd",
                 "weight": 100}))
            previous[lane] = node
        _row(g, cells)
        for m in row.messages:
            g.edge(text(f"r{i} {m.source}"), text(f"r{i} {m.target}"),
                   **attributes({"label": m.label, "constraint": "false", "color": "#283593"}))
    source: str = g.source
    return source


def _cell(row: Row, lane: str, notes: dict[str, str], classes: dict[str, dict[str, object]]) -> dict[str, object]:
    """How one lane looks in one row: the event's sentence, what changed there, the actor's dot, or a lifeline."""
    if lane == "events":
        return {"label": _wrap(row.title, 38), "shape": "plaintext", "style": "", "fontsize": 10}
    if lane in notes:
        return {"label": _wrap(notes[lane]), **classes["note"]}
    if lane == row.actor and not row.messages:
        return {"label": "", "shape": "circle", "width": 0.12, "style": "filled", "fillcolor": "#283593",
                "color": "#283593"}
    return {"label": "", "shape": "point", "width": 0.04, "color": "#9e9e9e"}


def _row(g: graphviz.Digraph, nodes: list[str]) -> None:
    """Nodes side by side on one rank, in order (invisible edges keep the order)."""
    with g.subgraph() as same:
        same.attr(rank="same")
        for node in nodes:
            same.node(text(node))
    for a, b in itertools.pairwise(nodes):
        g.edge(text(a), text(b), style="invis")
