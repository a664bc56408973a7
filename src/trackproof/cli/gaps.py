"""`trackproof gaps`: the scenarios a claim file misses, each in one sentence with a scenario file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re

from ..files import is_temporary, write_atomic
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
    from ..explore.situations import load_situations
    from ..parallel import default_jobs
    from ..spec.claims import load_claims

    model = load_model_cached(args.model_dir)
    claims = [c for f in args.files for c in load_claims(f, model)]
    found = find_gaps(model, claims, jobs=args.jobs or default_jobs())
    if args.scenarios:
        write_scenarios(args.scenarios, {f"{m.id.replace('@', '-setup')}.yaml": m.scenario for m in found.missed},
                        [s.id for s in load_situations(model)])
    text = (json.dumps(gaps_json(found), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
            else gaps_text(", ".join(args.files), found))
    emit(text, args.output)
    return EXIT_OK


def write_scenarios(folder: str, files: dict[str, str], situations: list[str]) -> None:
    """Write each missed scenario file (name -> text) into `folder`, and remove the files of earlier runs that this
    run did not write: only those whose names gaps gives (a situation of the catalogue, a number, a setup) and the
    temporary files a killed run left beside them (files.py); nothing else in the folder is touched."""
    os.makedirs(folder, exist_ok=True)
    owned = re.compile("(?:" + "|".join(re.escape(s) for s in situations) + r")-\d+-setup\d+\.yaml")
    for name in sorted(os.listdir(folder)):
        temporary = name.startswith(".")
        base = name[1:].rsplit(".", 1)[0] if temporary else name
        if owned.fullmatch(base) and (is_temporary(name, base) if temporary else name not in files):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, name))
    for name, text in files.items():
        write_atomic(os.path.join(folder, name), text)
