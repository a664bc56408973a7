"""The command line: one module per command (its options beside its logic), and here what ties them together:
the parser, `main` (what tests call) and `entry` (the installed `trackproof` command).

Errors on input are printed compiler-style (`file:line:col: error[CODE]: ...`), never as a traceback; the exit
codes are a contract, listed in each command's --help (cli/common.py) and in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from types import ModuleType
from typing import NoReturn

from ..errors import TrackproofError, format_error
from . import check, diagrams, diff, gaps, report, run, schema, validate
from .common import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, epilog

#: The commands, in the order --help lists them; each module has HELP, EXITS, add_arguments and execute.
COMMANDS: dict[str, ModuleType] = {"run": run, "check": check, "report": report, "diagrams": diagrams, "gaps": gaps,
                                   "diff": diff, "validate": validate, "schema": schema}


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the chosen command's options are built (the others are never used in a run)."""
    every = {code: text for module in COMMANDS.values() for code, text in module.EXITS.items()}
    overall = {0: "success (every expectation met, every claim proved)",
               1: "a finding: an expectation not met, a claim violated or vacuous, a model fault", **{
                   k: v for k, v in every.items() if k not in (0, 1)}}
    parser = argparse.ArgumentParser(
        prog="trackproof", description="Will this email end up in Dynamics 365? Answers from a model of the docs.",
        epilog=epilog(overall), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP, epilog=epilog(module.EXITS),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if command in (None, name):
            module.add_arguments(p)
            p.add_argument("--model-dir", metavar="DIR",
                           help="model directory (default: the model that ships with trackproof)")
    return parser


def entry() -> NoReturn:
    """The `trackproof` command: main(), then leave at once. Everything it writes is complete and closed by then
    (files are written to a temporary file and renamed; the output streams are flushed here); what is left is the
    interpreter's teardown, freeing the model, the claims, Z3's context and every module one by one, which costs
    about a tenth of a `check`. Tests call main() and keep their interpreter."""
    try:
        code = main()
    except KeyboardInterrupt:  # workers are stopped by then (parallel.fork_map); files are written whole or not at all
        print("trackproof: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # piped into a reader that has gone (e.g. head): nobody is left to tell
        pass
    except OSError as exc:  # what is still buffered cannot be written (a full disk): never a silent success
        print(f"output: error[E504]: cannot write: {exc.strerror or exc}", file=sys.stderr)
        code = EXIT_INPUT
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in given if not a.startswith("-")), None)
    args = _parser(chosen if chosen in COMMANDS else None).parse_args(given)
    try:
        code: int = COMMANDS[args.command].execute(args)
        return code
    except TrackproofError as err:
        print(format_error(err), file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return EXIT_OK
    except OSError as exc:  # an output path that cannot be written (missing folder, a folder, no permission)
        where = exc.filename or "output"
        print(f"{where}: error[E504]: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        print(f"trackproof: internal error: {type(exc).__name__}: {exc}. Please report this with the input files.",
              file=sys.stderr)
        return EXIT_INTERNAL
