"""`trackproof diagrams`: draw the model (one state diagram per mode, the acceptance decision, comparisons), a
counterexample on its diagram, or a scenario's run as swimlanes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import TrackproofError, printable
from .common import EXIT_OK

if TYPE_CHECKING:
    from ..render.model import Diagram
    from ..render.swimlanes import Swimlanes

HELP = "draw the model: one state diagram per synchronization mode, the acceptance decision, comparisons, traces"
EXITS = {0: "the diagrams were written (each path is printed)"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", default="diagrams", help="folder to write to (default: diagrams)")
    p.add_argument("--format", default="svg,dot,mermaid", help="comma-separated: svg, dot, mermaid (default: all)")
    p.add_argument("--renderer", choices=("auto", "dot", "wasm"), default="auto",
                   help="SVG renderer: Graphviz's dot program or Graphviz in WebAssembly (default: dot if present)")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="only a comparison: two machine names, or two settings files (with --machine)")
    p.add_argument("--machine", help="the machine for a settings comparison (default: server_side_sync)")
    p.add_argument("--highlight", metavar="TRACE.json",
                   help="only a diagram with this trace drawn on it (the JSON of `check` or `run`)")
    p.add_argument("--claim", metavar="ID", help="with --highlight on check output: which claim's counterexample")
    p.add_argument("--swimlanes", metavar="SCENARIO.yaml",
                   help="only the swimlanes of a scenario's run: a lane per participant and one for Dynamics 365, "
                        "a row per event, with every rule that fired (e.g. a counterexample file of check)")


def _formats(text: str) -> tuple[str, ...]:
    from ..render.diagrams import FORMATS

    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise TrackproofError("E501", f"unknown diagram format {', '.join(unknown) or '(none)'}",
                              hint="formats: svg, dot, mermaid")
    return formats


def execute(args: argparse.Namespace) -> int:
    from ..cache import load_model_cached
    from ..render.diagrams import compare_machines, compare_settings, default_diagrams, highlighted, swimlanes_of, write

    formats = _formats(args.format)
    if sum(bool(x) for x in (args.highlight, args.compare, args.swimlanes)) > 1:
        raise TrackproofError("E501", "--highlight, --compare and --swimlanes draw different diagrams: give one")
    if args.claim and not args.highlight:
        raise TrackproofError("E501", "--claim chooses the counterexample to draw with --highlight",
                              hint="trackproof diagrams --highlight CHECK.json --claim ID")
    model = load_model_cached(args.model_dir)
    by_machine = bool(args.compare) and (args.compare[0] in model.machines or args.compare[1] in model.machines)
    if args.machine and (not args.compare or by_machine):
        raise TrackproofError("E501", "--machine chooses the machine for a comparison of two settings files",
                              hint="trackproof diagrams --compare A.yaml B.yaml --machine outlook_client")
    drawings: list[Diagram | Swimlanes]
    if args.swimlanes:
        drawings = [swimlanes_of(model, args.swimlanes)]
    elif args.highlight:
        drawings = [highlighted(model, args.highlight, args.claim)]
    elif args.compare:
        a, b = args.compare
        if by_machine:
            drawings = [compare_machines(model, a, b)]
        else:
            drawings = [compare_settings(model, args.machine or "server_side_sync", a, b)]
    else:
        drawings = list(default_diagrams(model))
    for path in write(drawings, args.out, formats, args.renderer):
        print(printable(path))  # a diagram's name comes from the model (a machine's name)
    return EXIT_OK
