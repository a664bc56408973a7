"""A `Diagram` as Graphviz DOT text, written by the project (deterministic: same diagram, same bytes)."""

from __future__ import annotations

import functools
import os
import re
from typing import Any

import yaml

from .model import Diagram, Node


@functools.cache
def style() -> dict[str, Any]:
    """The diagram style (style.yaml next to this module)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "style.yaml")
    with open(path, encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _attrs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={quote(str(v))}" for k, v in values.items())


def merged_style(classes: tuple[str, ...]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for c in classes:
        merged.update(style()["classes"].get(c, {}))
    return merged


def _node(n: Node) -> str:
    attrs = {"label": n.label, **merged_style(n.classes)}
    if n.tooltip:
        attrs["tooltip"] = n.tooltip
    return f"{quote(n.id)} [{_attrs(attrs)}];"


def to_dot(d: Diagram) -> str:
    st = style()
    graph = {**st["graph"], "label": d.title, "labelloc": "t", "rankdir": "LR" if d.kind == "state" else "TB"}
    lines = [f"digraph {quote(d.name)} {{", f"  graph [{_attrs(graph)}];", f"  node [{_attrs(st['node'])}];",
             f"  edge [{_attrs(st['edge'])}];"]
    notes = [n for n in d.nodes if "note" in n.classes]
    for n in d.nodes:
        if "note" not in n.classes:
            lines.append(f"  {_node(n)}")
    for e in d.edges:
        attrs = {"label": e.label, **{k: v for k, v in merged_style(e.classes).items() if k != "fillcolor"}}
        if e.tooltip:
            attrs["tooltip"] = e.tooltip
        lines.append(f"  {quote(e.source)} -> {quote(e.target)} [{_attrs(attrs)}];")
    if notes:  # the definitions a flow relies on: a block of columns beside it, chained invisibly to stay compact
        lines.append('  subgraph "cluster_definitions" {')
        lines.append('    graph [label="Definitions used", style="dashed", color="#9e9d24"];')
        lines += [f"    {_node(n)}" for n in notes]
        columns = max(1, round(len(notes) ** 0.5))
        for i in range(len(notes) - columns):
            lines.append(f'    {quote(notes[i].id)} -> {quote(notes[i + columns].id)} [style="invis"];')
        lines.append("  }")
    if d.legend:
        lines.append('  subgraph "cluster_legend" {')
        lines.append('    graph [label="Legend", style="rounded", color="#bdbdbd", fontsize="10"];')
        for i, (c, text) in enumerate(d.legend):
            look = {**style()["node"], **merged_style((c,))}
            look = {k: v for k, v in look.items() if k not in ("shape", "width", "peripheries")}
            described = _attrs({"label": text, **look, "shape": "box", "fontsize": "9"})
            lines.append(f"    {quote(f'__legend_{i}')} [{described}];")
        for i in range(len(d.legend) - 1):
            lines.append(f'    {quote(f"__legend_{i}")} -> {quote(f"__legend_{i + 1}")} [style="invis"];')
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


_ID = r'"((?:[^"\\]|\\.)*)"'


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def edges_of(dot: str) -> set[tuple[str, str, str]]:
    """(source, target, label) of every edge in DOT text written by to_dot (the tests parse diagrams with it)."""
    pattern = re.compile(rf"^  {_ID} -> {_ID} \[label={_ID}", re.MULTILINE)
    return {(_unquote(a), _unquote(b), _unquote(c)) for a, b, c in pattern.findall(dot)}


def nodes_of(dot: str) -> set[str]:
    pattern = re.compile(rf"^  {_ID} \[label=", re.MULTILINE)
    return {_unquote(a) for a in pattern.findall(dot)}
