"""`trackproof diff A B`: tell two settings files (or two modes) apart, proved over every rule path."""

from __future__ import annotations

import argparse
import json

from .common import EXIT_OK, add_output, emit

HELP = "tell two settings files (or two modes) apart: every situation whose outcome differs, with scenarios"
EXITS = {0: "the differences were found (none, or some: both are answers)"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="a settings file, or a synchronization mode: the name of one of the "
                   "model's machines that gives its `mode` (model/machines/), e.g. server_side_sync")
    p.add_argument("b", metavar="B", help="the other settings file or mode")
    add_output(p, ("text", "json"), "json: the documented contract")


def execute(args: argparse.Namespace) -> int:
    from ..cache import load_model_cached
    from ..explore.diff import diff, diff_json, diff_text

    model = load_model_cached(args.model_dir)
    result = diff(model, args.a, args.b)
    text = (json.dumps(diff_json(result), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
            else diff_text(result))
    emit(text, args.output)
    return EXIT_OK
