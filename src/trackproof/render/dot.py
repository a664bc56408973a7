"""A `Diagram` as Graphviz DOT text, built with the `graphviz` package's `Digraph` (deterministic: same diagram, same
bytes). The package does the quoting and the layout of the text; this module only says what the graph holds and
how it looks (style.yaml). It is not the renderer: svg.py turns the text into pictures.

The `graphviz` package is imported here and in svg.py only (docs/adr/008-graphviz-package.md).
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any

import graphviz
import yaml

from .model import Diagram, Node


@functools.cache
def style() -> dict[str, Any]:
    """The diagram style (style.yaml next to this module)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "style.yaml")
    with open(path, encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def text(value: object) -> str:
    """A value as DOT shows it: line breaks as `\\n`, backslashes kept, never read as an HTML-like label (the
    package quotes it and escapes its double quotes)."""
    escaped = str(value).replace("\\", "\\\\").replace("\n", "\\n")
    kept: str = graphviz.nohtml(escaped)
    return kept


def attributes(values: dict[str, Any]) -> dict[str, str]:
    """Attribute values as DOT text, in the order given (the package writes them in that order)."""
    return {k: text(v) for k, v in values.items()}


def digraph(name: str, graph: dict[str, Any], node: dict[str, Any] | None = None,
            edge: dict[str, Any] | None = None) -> graphviz.Digraph:
    """An empty graph with its graph, node and edge defaults."""
    return graphviz.Digraph(text(name), graph_attr=attributes(graph), node_attr=attributes(node or {}),
                            edge_attr=attributes(edge or {}))


def merged_style(classes: tuple[str, ...]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for c in classes:
        merged.update(style()["classes"].get(c, {}))
    return merged


def _node(g: graphviz.Digraph, n: Node) -> None:
    attrs = {"label": n.label, **merged_style(n.classes)}
    if n.tooltip:
        attrs["tooltip"] = n.tooltip
    g.node(text(n.id), **attributes(attrs))


def _definitions(g: graphviz.Digraph, notes: list[Node]) -> None:
    """The definitions a flow relies on: a block of columns beside it, chained invisibly to stay compact."""
    with g.subgraph(name="cluster_definitions") as sub:
        sub.attr("graph", label="Definitions used", style="dashed", color="#9e9d24")
        for n in notes:
            _node(sub, n)
        columns = max(1, round(len(notes) ** 0.5))
        for i in range(len(notes) - columns):
            sub.edge(text(notes[i].id), text(notes[i + columns].id), style="invis")


def _legend(g: graphviz.Digraph, legend: tuple[tuple[str, str], ...]) -> None:
    with g.subgraph(name="cluster_legend") as sub:
        sub.attr("graph", label="Legend", style="rounded", color="#bdbdbd", fontsize="10")
        for i, (c, words) in enumerate(legend):
            look = {**style()["node"], **merged_style((c,))}
            look = {k: v for k, v in look.items() if k not in ("shape", "width", "peripheries")}
            sub.node(f"__legend_{i}", **attributes({"label": words, **look, "shape": "box", "fontsize": "9"}))
        for i in range(len(legend) - 1):
            sub.edge(f"__legend_{i}", f"__legend_{i + 1}", style="invis")


def to_digraph(d: Diagram) -> graphviz.Digraph:
    st = style()
    simple = st["simple"] if d.view == "simple" else {}
    graph = {**st["graph"], **simple.get("graph", {}), "label": d.title, "labelloc": "t",
             "rankdir": "LR" if d.kind == "state" else "TB"}
    g = digraph(d.name, graph, {**st["node"], **simple.get("node", {})}, {**st["edge"], **simple.get("edge", {})})
    notes = [n for n in d.nodes if "note" in n.classes]
    for n in d.nodes:
        if "note" not in n.classes:
            _node(g, n)
    for e in d.edges:
        attrs = {"label": e.label, **{k: v for k, v in merged_style(e.classes).items() if k != "fillcolor"}}
        if e.tooltip:
            attrs["tooltip"] = e.tooltip
        g.edge(text(e.source), text(e.target), **attributes(attrs))
    if notes:
        _definitions(g, notes)
    if d.legend and d.view != "simple":
        _legend(g, d.legend)
    return g


def to_dot(d: Diagram) -> str:
    source: str = to_digraph(d).source
    return source


# What the tests read back from the DOT text: a node or edge statement at the top level of the graph (one tab).
_ID = r'("(?:[^"\\]|\\.)*"|[^\s"\[\]]+)'


def _unquote(identifier: str) -> str:
    if not identifier.startswith('"'):
        return identifier
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), identifier[1:-1])


def edges_of(dot: str) -> set[tuple[str, str, str]]:
    """(source, target, label) of every top-level edge in DOT text written by to_dot (the tests read diagrams
    with it)."""
    pattern = re.compile(rf"^\t{_ID} -> {_ID} \[label={_ID}", re.MULTILINE)
    return {(_unquote(a), _unquote(b), _unquote(c)) for a, b, c in pattern.findall(dot)}


def nodes_of(dot: str) -> set[str]:
    """The top-level nodes (not the legend's or the definitions' blocks) of DOT text written by to_dot."""
    pattern = re.compile(rf"^\t{_ID} \[label=", re.MULTILINE)
    return {_unquote(a) for a in pattern.findall(dot)}
