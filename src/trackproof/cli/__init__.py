"""The command line: one module per command (its options beside its logic), and here what ties them together:
the parser, `main` (what tests call) and `entry` (the installed `trackproof` command).

Errors on input are printed compiler-style (`file:line:col: error[CODE]: ...`), never as a traceback; the exit
codes are a contract, listed in each command's --help (cli/common.py) and in the README.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from types import ModuleType
from typing import NoReturn

from ..errors import TrackproofError, format_error, printable
from . import check, diagrams, diff, gaps, report, run, schema, validate
from .common import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, epilog, refuse_unsafe_outputs

#: The commands, in the order --help lists them; each module has HELP, EXITS, add_arguments and execute.
COMMANDS: dict[str, ModuleType] = {"run": run, "check": check, "report": report, "diagrams": diagrams, "gaps": gaps,
                                   "diff": diff, "validate": validate, "schema": schema}


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with a command chosen, only its subcommand is built (the others are never used in a
    run: building them was a twentieth of `run`), else every one, for --help and for an unknown command's error."""
    every = {code: text for module in COMMANDS.values() for code, text in module.EXITS.items()}
    overall = {0: "success (every expectation met, every claim proved)",
               1: "a finding: an expectation not met, a claim violated or vacuous, a model fault", **{
                   k: v for k, v in every.items() if k not in (0, 1)}}
    parser = argparse.ArgumentParser(
        prog="trackproof", description="Will this email end up in Dynamics 365? Answers from a model of the docs.",
        epilog=epilog(overall), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")
    for name, module in COMMANDS.items():
        if command not in (None, name):
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP, epilog=epilog(module.EXITS),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.add_argument("--model-dir", metavar="DIR",
                       help="model directory (default: the model that ships with trackproof)")
    return parser


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised in the main thread, so that what is under way is undone (a temporary file
    removed, the workers of `--jobs` stopped: files.py, parallel.py) before the command exits 128 + the signal's
    number (143 for SIGTERM, 129 for SIGHUP), as a shell reports a process the signal ended."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The signal that is stopping the command, once one arrived (entry installs the handler that records it).
_stopping: list[int] = []
_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _stop(signum: int, frame: object) -> NoReturn:
    """The handler of SIGINT, SIGTERM and SIGHUP: KeyboardInterrupt or Terminated, raised where the command is, and
    the signal recorded, because a library may turn the exception into another on its way out (ctypes, under Z3,
    reports it as an ArgumentError of the call it interrupted); from now on, the errors of objects left half-built
    by the interruption (a destructor's) are not shown."""
    if not _stopping:
        _stopping.append(signum)
        sys.unraisablehook = lambda unraisable: None
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _stopped() -> BaseException:
    """The exception of the signal that stopped the command (_stopping is not empty)."""
    return KeyboardInterrupt() if _stopping[0] == signal.SIGINT else Terminated(_stopping[0])


def _say(text: str) -> None:
    """A line on standard error; one that cannot be written (a full disk) is lost, never a traceback."""
    with contextlib.suppress(OSError):
        print(text, file=sys.stderr)


def entry() -> NoReturn:
    """The `trackproof` command: main(), then leave at once. Everything it writes is complete and closed by then
    (files are written to a temporary file and renamed; the output streams are flushed here); what is left is the
    interpreter's teardown, freeing the model, the claims, Z3's context and every module one by one, which costs
    about a tenth of a `check`. Tests call main() and keep their interpreter. Ctrl-C exits 130, SIGTERM 143 and
    SIGHUP 129, each with one line and no traceback."""
    for name in _SIGNALS:
        signal.signal(getattr(signal, name), _stop)
    try:
        code = main()
        if _stopping:  # the signal's exception was caught and dropped on its way: the command did not finish
            raise _stopped()
    except KeyboardInterrupt:  # workers are stopped by then (parallel.fork_map); files are written whole or not at all
        _say("trackproof: interrupted")
        code = EXIT_INTERRUPTED
    except Terminated as stop:
        _say(f"trackproof: terminated ({signal.Signals(stop.signum).name})")
        code = 128 + stop.signum
    except SystemExit as done:  # --help, or a usage error the argument parser reported
        code = done.code if isinstance(done.code, int) else EXIT_INPUT
    except OSError:  # the argument parser's message could not be written (standard error on a full disk)
        code = EXIT_INPUT
    for name in _SIGNALS:  # what is left is flushing: a signal now ends the process as it would
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # piped into a reader that has gone (e.g. head): nobody is left to tell
        pass
    except OSError as exc:  # what is still buffered cannot be written (a full disk): never a silent success
        _say(f"output: error[E504]: cannot write: {exc.strerror or exc}")
        code = EXIT_INPUT
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    chosen = given[0] if given and given[0] in COMMANDS else None  # an option first (-h): every command
    args = _parser(chosen).parse_args(given)
    try:
        refuse_unsafe_outputs(args)
        code: int = COMMANDS[args.command].execute(args)
        return code
    except TrackproofError as err:
        _say(format_error(err))
        return EXIT_INPUT
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return EXIT_OK
    except OSError as exc:  # an output path that cannot be written (missing folder, a folder, no permission)
        where = printable(str(exc.filename)) if exc.filename else "output"
        _say(f"{where}: error[E504]: cannot write: {exc.strerror or exc}")
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if _stopping:  # a signal's exception, turned into another by a library on its way out
            raise _stopped() from None
        _say(printable(f"trackproof: internal error: {type(exc).__name__}: {exc}. Please report this with the input "
                       "files."))
        return EXIT_INTERNAL
