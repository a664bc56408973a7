"""What every command shares: exit codes, the options every command takes, writing the output."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from typing import Any

from ..errors import TrackproofError, printable
from ..files import write_atomic

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_UNKNOWN, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process that signal ended

#: What each exit code means, in --help; each command lists the codes it can give.
EXIT_TEXT = {
    EXIT_OK: "success",
    EXIT_FAILED: "a finding",
    EXIT_INPUT: "bad input or usage (a file:line:col: error[CODE] message says where)",
    EXIT_UNKNOWN: "some claim is unknown (the solver gave up; never reported as proved)",
    EXIT_INTERNAL: "internal error (a bug in trackproof: please report it)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); nothing half-written is left",
    EXIT_TERMINATED: "terminated (SIGTERM; SIGHUP gives 129); nothing half-written is left",
}


def epilog(exits: dict[int, str]) -> str:
    """The exit codes a command can give, for its --help; `exits` says what 0 and 1 mean for it."""
    lines = ["exit codes:"]
    for code in sorted({EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED, *exits}):
        lines.append(f"  {code:<3} {exits.get(code, EXIT_TEXT[code])}")
    return "\n".join(lines) + "\n"


def whole_number(text: str) -> int:
    """A whole number, at least 1 (--jobs, --examples)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, at least 1, not {text!r}")
    return value


class Once(argparse.Action):
    """An option that may be given once: given twice, the first would be dropped without a word."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error(f"{option_string} may be given once")
        setattr(namespace, self.dest, values)


def add_output(p: argparse.ArgumentParser, formats: tuple[str, ...], help_text: str) -> None:
    p.add_argument("--format", choices=formats, default="text", help=help_text)
    p.add_argument("-o", "--output", metavar="PATH", help="write to PATH (atomically) instead of standard output")


def add_jobs(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-j", "--jobs", type=whole_number, metavar="N",
                   help=f"{what} on N processes (default: the cores available; 1: in this process only). The output "
                        "is the same whatever N")


#: The options that name where a command writes: a file (-o of run, check, gaps, diff) or a folder.
OUTPUT_FILE = "output"
OUTPUT_FOLDERS = ("out", "counterexamples", "scenarios")
#: The options that name files a command reads.
INPUTS = ("files", "a", "b", "universe", "compare", "swimlanes", "highlight")


def refuse_unsafe_outputs(args: argparse.Namespace) -> None:
    """Before any work: an output named by an empty path (E501: it would silently mean standard output, or
    nothing), an output folder that is something else (E504), and an output file that is one of the command's input
    files (E504: writing it would destroy the input; `run s.yaml -o s.yaml`). `-o -` is standard output, as in most
    tools. The two E504s are raised as the OSError writing would give, so that they are said as every E504 is, with
    the path given (cli.main)."""
    if getattr(args, OUTPUT_FILE, None) == "-":
        setattr(args, OUTPUT_FILE, None)
    for name in (OUTPUT_FILE, *OUTPUT_FOLDERS):
        if getattr(args, name, None) == "":
            option = "-o" if name == OUTPUT_FILE else f"--{name}"
            raise TrackproofError("E501", f"{option} names no path (an empty string)")
    for name in OUTPUT_FOLDERS:
        folder = getattr(args, name, None)
        if folder and os.path.lexists(folder) and not os.path.isdir(folder):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", folder)
    output = getattr(args, OUTPUT_FILE, None)
    if not output or not os.path.exists(output):
        return
    for name in INPUTS:
        given = getattr(args, name, None)
        for path in [given] if isinstance(given, str) else (given or []):
            try:
                same = os.path.samefile(path, output)
            except OSError:
                same = False
            if same:
                raise FileExistsError(errno.EEXIST, "it is also an input file: writing it would destroy it", output)


def emit(text: str, output: str | None) -> None:
    """The command's result: to `output` (atomically) or to standard output, with every character a terminal would
    act on escaped (errors.printable: the same text in a JSON string, so JSON stays valid): a report echoes names and
    sentences from its input files, which must not be able to retitle or clear the terminal it is shown in."""
    text = printable(text)
    if output:
        write_atomic(output, text)
    else:
        sys.stdout.write(text)
