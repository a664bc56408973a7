"""`trackproof gaps`: the scenarios a claim file misses, each in one sentence with a scenario file."""

from __future__ import annotations

import argparse
import json
import os

from ..files import write_atomic
from .common import EXIT_OK, add_jobs, add_output, emit

HELP = "find the scenarios a claim file misses, each in one sentence with a scenario file"
EXITS = {0: "the missed scenarios were found (listing them is the answer, not a failure)"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="CLAIMS", help="claim files (YAML)")
    p.add_argument("--scenarios", metavar="DIR", help="also write each missed scenario as a scenario file")
    add_jobs(p, "explore")
    add_output(p, ("text", "json"), "json: the documented contract")


def execute(args: argparse.Namespace) -> int:
    from ..cache import load_model_cached
    from ..explore.gaps import find_gaps, gaps_json, gaps_text
    from ..parallel import default_jobs
    from ..spec.claims import load_claims

    model = load_model_cached(args.model_dir)
    claims = [c for f in args.files for c in load_claims(f, model)]
    found = find_gaps(model, claims, jobs=args.jobs or default_jobs())
    if args.scenarios:
        os.makedirs(args.scenarios, exist_ok=True)
        for m in found.missed:
            write_atomic(os.path.join(args.scenarios, f"{m.id.replace('@', '-setup')}.yaml"), m.scenario)
    text = (json.dumps(gaps_json(found), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
            else gaps_text(", ".join(args.files), found))
    emit(text, args.output)
    return EXIT_OK
