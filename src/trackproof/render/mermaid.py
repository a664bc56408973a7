"""A `Diagram` as Mermaid text (stateDiagram-v2 for machines, flowchart for decisions), written by the project."""

from __future__ import annotations

import re

from .dot import style
from .model import Diagram

_SAFE = re.compile(r"[^A-Za-z0-9_]")


def _id(name: str) -> str:
    return "n_" + _SAFE.sub("_", name)


def _text(text: str) -> str:
    return text.replace('"', "'").replace("\n", "<br/>").replace(":", "&#58;").replace(";", "&#59;")


def to_mermaid(d: Diagram) -> str:
    classes = style()["mermaid"]
    lines = ["---", f"title: {d.title}", "---"]
    used = sorted({c for n in d.nodes for c in n.classes if c in classes})
    if d.kind == "state":
        lines.append("stateDiagram-v2")
        for n in d.nodes:
            if n.id != "__start":
                lines.append(f'    state "{_text(n.label)}" as {_id(n.id)}')
        for e in d.edges:
            source = "[*]" if e.source == "__start" else _id(e.source)
            label = f" : {_text(e.label)}" if e.label else ""
            lines.append(f"    {source} --> {_id(e.target)}{label}")
    else:
        lines.append("flowchart TD")
        for n in d.nodes:
            shape = ("{", "}") if "decision" in n.classes else (("[/", "/]") if "note" in n.classes else ("[", "]"))
            lines.append(f'    {_id(n.id)}{shape[0]}"{_text(n.label)}"{shape[1]}')
        for e in d.edges:
            label = f"|{_text(e.label)}|" if e.label else ""
            lines.append(f"    {_id(e.source)} -->{label} {_id(e.target)}")
    for c in used:
        lines.append(f"    classDef {c} {classes[c]}")
    for n in d.nodes:
        mine = [c for c in n.classes if c in classes]
        if mine and n.id != "__start":
            lines.append(f"    class {_id(n.id)} {mine[-1]}")
    return "\n".join(lines) + "\n"
