"""`trackproof schema`: write the JSON Schemas of scenario, claim and settings files (spec/schema.py), generated
from the vocabulary, for editors with a YAML language server (`# yaml-language-server: $schema=...`)."""

from __future__ import annotations

import argparse
import json
import os

from .common import EXIT_OK

HELP = "write JSON Schemas of scenario, claim and settings files, from the vocabulary (for editors)"
EXITS = {0: "the schemas were written (each path is printed)"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", metavar="DIR", default="schemas", help="folder to write to (default: schemas)")


def texts(model_dir: str | None) -> dict[str, str]:
    """Each schema file's name and text."""
    from ..cache import load_model_cached
    from ..spec.schema import KINDS, NAMES, schema

    model = load_model_cached(model_dir)
    return {NAMES[k]: json.dumps(schema(model, k), indent=2, ensure_ascii=False) + "\n" for k in KINDS}


def execute(args: argparse.Namespace) -> int:
    from ..files import make_folder, write_atomic

    make_folder(args.out)
    for name, text in texts(args.model_dir).items():
        target = os.path.join(args.out, name)
        write_atomic(target, text)
        print(target)
    return EXIT_OK
