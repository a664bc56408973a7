"""`trackproof validate`: load the model (and any scenario files) and report problems."""

from __future__ import annotations

import argparse

from ..errors import printable
from .common import EXIT_OK

HELP = "load the model (and any scenario files) and report problems"
EXITS = {0: "the model (and every file) is valid"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE", help="scenario files to validate too")


def execute(args: argparse.Namespace) -> int:
    from ..simulate.engine import simulate
    from ..spec.loader import load_model
    from ..spec.scenario import load_scenario

    model = load_model(args.model_dir)
    for f in args.files:
        simulate(model, load_scenario(f, model))
    n_rules = len({t.id for t in model.transitions})
    print(f"model: {len(model.machines)} machines, {len(model.states)} states, {n_rules} rules, "
          f"{len(model.definitions)} definitions: OK")
    for point, reading in model.readings.items():
        print(printable(f"  reading: {point} ({reading.question}) defaults to {reading.default}; also "
                        + ", ".join(c for c in reading.choices if c != reading.default)))
    proposed = [n for n, r in model.rulebook.items() if r.proposed]
    if proposed:
        print(printable(f"  proposed: {len(proposed)} rules are proposed for RULES.md and not yet in it "
                        f"(tools/proposed-rules.md): {', '.join(proposed)}"))
    for note in model.notes:  # rule ids and names come from the model's files: shown with control characters escaped
        print(printable(f"  note: {note}"))
    for f in args.files:
        print(printable(f"{f}: OK"))
    return EXIT_OK
