"""`trackproof diff A B`: tell two settings files (or two modes) apart, over every event sequence of a universe."""

from __future__ import annotations

import argparse
import json

from .common import EXIT_OK, emit
from .gaps import add_universe_options

HELP = "tell two settings files (or two modes) apart: every situation whose outcome differs, with scenarios"
EXITS = {0: "the differences were found (none, or some: both are answers)"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="a settings file, or a synchronization mode: the name of one of the "
                   "model's machines that gives its `mode` (model/machines/), e.g. server_side_sync")
    p.add_argument("b", metavar="B", help="the other settings file or mode")
    add_universe_options(p)


def execute(args: argparse.Namespace) -> int:
    from ..cache import cached, load_model_cached
    from ..explore.diff import diff, diff_json, diff_text, modes, setup_of
    from ..parallel import default_jobs
    from .gaps import explored_key, universe_claims

    model = load_model_cached(args.model_dir)
    setup_of(model, args.a), setup_of(model, args.b)  # each a mode or a readable settings file, said before any work
    universe = universe_claims(model, args.universe) if args.universe else None
    extras = tuple(dict.fromkeys(args.extras))
    key = explored_key(args, [f"a {args.a}", f"b {args.b}"], [s for s in (args.a, args.b) if s not in modes(model)])
    result = cached("diff-explored", key, lambda: diff(model, args.a, args.b, extras, universe,
                                                       jobs=args.jobs or default_jobs(), where=args.universe or ""))
    text = (json.dumps(diff_json(result), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
            else diff_text(result))
    emit(text, args.output)
    return EXIT_OK

