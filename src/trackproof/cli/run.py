"""`trackproof run`: play scenario files and say, for every email, whether it is stored and why."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from .common import EXIT_FAILED, EXIT_OK, Once, add_output, emit

HELP = "play scenario files and say, for every email, whether it is stored and why"
EXITS = {0: "every scenario met its expectations", 1: "some expectation was not met"}


@dataclass(frozen=True)
class RunOptions:
    files: tuple[str, ...]
    format: str
    output: str | None
    model: str | None
    watch: str | None = None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")
    p.add_argument("--watch", metavar="EXPR", action=Once,
                   help="evaluate EXPR over the emails' outcomes after every event, e.g. \"E2.stored\" or "
                        "\"E1.accepted_by == Q\" (given once)")
    add_output(p, ("text", "json"), "json: the documented contract")


def execute(args: argparse.Namespace) -> int:
    return run(RunOptions(tuple(args.files), args.format, args.output, args.model_dir, args.watch))


def run(opts: RunOptions) -> int:
    from ..cache import load_model_cached
    from ..report.run import compare, to_json, to_text
    from ..simulate.engine import simulate
    from ..spec.scenario import load_scenario

    model = load_model_cached(opts.model)
    scenarios = [load_scenario(f, model) for f in opts.files]  # validate every file before running any
    chunks: list[str] = []
    failed = False
    watched = []
    if opts.watch is not None:
        from ..simulate.watch import parse_watch, watch

        expressions = [parse_watch(model, scenario, opts.watch) for scenario in scenarios]
        watched = [(opts.watch, watch(model, s, e)) for s, e in zip(scenarios, expressions, strict=True)]
    for i, scenario in enumerate(scenarios):
        outcomes = simulate(model, scenario)
        mismatches = compare(scenario, outcomes)
        failed = failed or bool(mismatches)
        seen = watched[i] if watched else None
        chunks.append(to_json(model, scenario, outcomes, mismatches, seen) if opts.format == "json"
                      else to_text(model, scenario, outcomes, mismatches, seen))
    text = "\n".join(chunks) if opts.format == "text" else (
        chunks[0] if len(chunks) == 1 else "[\n" + ",\n".join(c.rstrip("\n") for c in chunks) + "\n]\n")
    emit(text, opts.output)
    return EXIT_FAILED if failed else EXIT_OK
