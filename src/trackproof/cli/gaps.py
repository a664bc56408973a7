"""`trackproof gaps`: the scenarios a claim file misses, each in one sentence with a scenario file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
from typing import TYPE_CHECKING

from ..files import is_temporary, make_folder, write_atomic
from .common import EXIT_OK, add_jobs, add_output, emit

if TYPE_CHECKING:
    from ..spec.claims import Claim
    from ..spec.ir import Model

HELP = "find the scenarios a claim file misses, each in one sentence with a scenario file"
EXITS = {0: "the missed scenarios were found (listing them is the answer, not a failure)"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="CLAIMS", help="claim files (YAML)")
    p.add_argument("--scenarios", metavar="DIR", help="also write each missed scenario as a scenario file")
    add_universe_options(p)


def add_universe_options(p: argparse.ArgumentParser) -> None:
    """The options of the commands that explore gaps' universe (`gaps`, `diff`): who takes part, or a universe
    file, the cache, the cores, the output."""
    p.add_argument("--with", dest="extras", action="append", choices=("user", "queue"), default=[],
                   help="add a participant to the universe explored: a colleague Y, a queue Q (repeatable)")
    p.add_argument("--universe", metavar="FILE",
                   help="explore the universe claims of FILE (their participants, prefix and alphabet) instead")
    p.add_argument("--no-cache", action="store_true",
                   help="explore afresh, neither reading nor writing the results cache (see docs/gaps.md)")
    add_jobs(p, "explore")
    add_output(p, ("text", "json"), "json: the documented contract")


def explored_key(args: argparse.Namespace, named: list[str], inputs: list[str]) -> str | None:
    """The cache key of an exploration of gaps' universe (None: no cache): the model, trackproof's code, the
    `inputs` files' bytes, the `named` arguments and the options, nothing else."""
    from .check import cache_key
    from .report import digest

    key = cache_key(args.model_dir, args.no_cache)
    if key is None:
        return None
    files = [*inputs, *([args.universe] if args.universe else [])]
    return "\n".join([key, *named, *(digest(f) for f in files), f"with {','.join(dict.fromkeys(args.extras))}",
                      f"universe {args.universe or ''}"])


def execute(args: argparse.Namespace) -> int:
    from ..cache import load_model_cached
    from ..explore.gaps import find_gaps, gaps_json, gaps_text
    from ..parallel import default_jobs
    from ..spec.claims import load_claim_files

    model = load_model_cached(args.model_dir)
    claims = load_claim_files(args.files, model)
    universe = universe_claims(model, args.universe) if args.universe else None
    from ..cache import cached

    extras = tuple(dict.fromkeys(args.extras))
    key = explored_key(args, [], list(args.files))
    found = cached("gaps-explored", key, lambda: find_gaps(model, claims, extras, universe,
                                                           jobs=args.jobs or default_jobs()))
    if args.scenarios:
        write_scenarios(args.scenarios, {f"gap-{m.id}.yaml": m.scenario for m in found.missed})
    text = (json.dumps(gaps_json(found), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
            else gaps_text(", ".join(args.files), found))
    emit(text, args.output)
    return EXIT_OK


def universe_claims(model: Model, path: str) -> list[Claim]:
    """The universe claims of a `--universe` file (E105 if it has none)."""
    from ..spec.claims import load_claims

    universe = [c for c in load_claims(path, model) if c.universe is not None]
    if not universe:
        from ..errors import Loc, TrackproofError

        raise TrackproofError("E105", "the universe file has no universe claim", Loc(path, 1, 1))
    return universe


def write_scenarios(folder: str, files: dict[str, str]) -> None:
    """Write each missed scenario file (name -> text) into `folder`, and remove the files of earlier runs that this
    run did not write: only those whose names gaps gives (gap-G<number>.yaml) and the temporary files a killed run
    left beside them (files.py); nothing else in the folder is touched."""
    make_folder(folder)
    owned = re.compile(r"gap-G\d+\.yaml")
    for name in sorted(os.listdir(folder)):
        temporary = name.startswith(".")
        base = name[1:].rsplit(".", 1)[0] if temporary else name
        if owned.fullmatch(base) and (is_temporary(name, base) if temporary else name not in files):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, name))
    for name, text in files.items():
        write_atomic(os.path.join(folder, name), text)
