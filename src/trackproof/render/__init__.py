"""Diagrams: the diagram model drawn from the IR, DOT, Mermaid, SVG, swimlanes and their style (as data)."""
