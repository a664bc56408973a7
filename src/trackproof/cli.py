"""The command line: `trackproof run`, `trackproof validate`.

Exit codes (also in --help): 0 success (every expectation met), 1 an expectation of a scenario was not met,
2 bad input or usage, 4 internal error. Errors on input are printed compiler-style, never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from .errors import TrackproofError, format_error

if TYPE_CHECKING:
    from .diagram import Diagram
    from .swimlanes import Swimlanes

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_UNKNOWN, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

EPILOG = """exit codes:
  0  success: every scenario met its expectations / every claim is proved
  1  some expectation was not met / some claim is violated or vacuous
  2  bad input or usage (a file:line:col: error[CODE] message says where)
  3  some claim is unknown (the solver gave up; never reported as proved)
  4  internal error (a bug in trackproof: please report it)
  130  interrupted (Ctrl-C); nothing half-written is left
"""


class RunOptions(NamedTuple):
    files: tuple[str, ...]
    format: str
    output: str | None
    model: str | None
    watch: str | None = None


COMMANDS = {
    "run": "play scenario files and say, for every email, whether it is stored and why",
    "check": "prove or refute claims with Z3 (default: every claim file under proofs/, and the model)",
    "diagrams": "draw the model: one state diagram per synchronization mode, the acceptance decision, comparisons, "
                "traces",
    "gaps": "find the scenarios a claim file misses, each in one sentence with a scenario file",
    "diff": "tell two settings files (or two modes) apart: every situation whose outcome differs, with scenarios",
    "validate": "load the model (and any scenario files) and report problems",
}


def _arguments(name: str, p: argparse.ArgumentParser) -> None:
    if name == "run":
        p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (YAML)")
    elif name == "check":
        p.add_argument("files", nargs="*", metavar="FILE", help="claim files (YAML)")
    elif name == "validate":
        p.add_argument("files", nargs="*", metavar="FILE", help="scenario files to validate too")
    elif name == "gaps":
        p.add_argument("files", nargs="+", metavar="CLAIMS", help="claim files (YAML)")
        p.add_argument("--scenarios", metavar="DIR", help="also write each missed scenario as a scenario file")
        p.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                       help="explore on N processes (default: the cores available). The output is the same "
                            "whatever N")
    elif name == "diff":
        p.add_argument("a", metavar="A", help="a settings file or a mode: " + ", ".join(
            ("server_side_sync", "outlook_client", "forward_mailbox", "none")))
        p.add_argument("b", metavar="B", help="the other settings file or mode")
    if name == "run":
        p.add_argument("--watch", metavar="EXPR", help="evaluate EXPR over the emails' outcomes after every event, "
                       "e.g. \"E2.stored\" or \"E1.accepted_by == Q\"")
    if name in ("run", "check", "gaps", "diff"):
        p.add_argument("--format", choices=("text", "json", "junit", "sarif") if name == "check" else ("text", "json"),
                       default="text", help="junit, sarif: for CI dashboards and code scanning" if name == "check"
                       else "json: the documented contract")
        p.add_argument("-o", "--output", metavar="PATH", help="write to PATH (atomically) instead of standard output")
    if name == "check":
        p.add_argument("--counterexamples", metavar="DIR", help="also write each counterexample as a scenario file")
        p.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even when claims are violated, vacuous or unknown (bad input still exits 2)")
        p.add_argument("--model", action="store_true",
                       help="check the model's own rules (overlaps, shadowed and dead rules, gaps, unreachable "
                            "states); with no FILE, this and every claim under proofs/ are checked")
        p.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                       help="prove on N processes (default: the cores available; 1: in this process only). The "
                            "output is the same whatever N")
        p.add_argument("--examples", type=_jobs, metavar="N", default=1,
                       help="up to N counterexamples per violated claim, each changing another set of settings "
                            "(a minimal way to break the claim), fewest changes first (default: 1)")
        p.add_argument("--no-cache", action="store_true",
                       help="prove every claim afresh, ignoring and not writing the cache of results (kept per "
                            "claim group, keyed on the model, the claims and trackproof's own code)")
    if name == "diagrams":
        p.add_argument("--out", metavar="DIR", default="diagrams", help="folder to write to (default: diagrams)")
        p.add_argument("--format", default="svg,dot,mermaid", help="comma-separated: svg, dot, mermaid (default: all)")
        p.add_argument("--renderer", choices=("auto", "dot", "wasm"), default="auto",
                       help="SVG renderer: Graphviz's dot program or Graphviz in WebAssembly (default: dot if present)")
        p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                       help="only a comparison: two machine names, or two settings files (with --machine)")
        p.add_argument("--machine", help="the machine for a settings comparison (default: server_side_sync)")
        p.add_argument("--highlight", metavar="TRACE.json",
                       help="only a diagram with this trace drawn on it (the JSON of `check` or `run`)")
        p.add_argument("--claim", metavar="ID", help="with --highlight on check output: which claim's counterexample")
        p.add_argument("--swimlanes", metavar="SCENARIO.yaml",
                       help="only the swimlanes of a scenario's run: a lane per participant and one for Dynamics 365, "
                            "a row per event, with every rule that fired (e.g. a counterexample file of check)")
    p.add_argument("--model-dir", metavar="DIR", help="model directory (default: the model that ships with trackproof)")


def _jobs(text: str) -> int:
    """A whole number, at least 1 (--jobs, --examples)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, at least 1, not {text!r}")
    return value


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the chosen command's options are built (the others are never used in a run)."""
    parser = argparse.ArgumentParser(
        prog="trackproof", description="Will this email end up in Dynamics 365? Answers from a model of the docs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if command in (None, name):
            _arguments(name, p)
    return parser


def write_atomic(path: str, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: a failure never leaves a half-written file."""
    import tempfile

    folder, name = os.path.split(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    except OSError as exc:  # name the file asked for, not the temporary one beside it
        raise OSError(exc.errno, exc.strerror, path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _run(opts: RunOptions) -> int:
    from .cache import load_model_cached
    from .report import compare, to_json, to_text
    from .scenario import load_scenario
    from .simulate import simulate

    model = load_model_cached(opts.model)
    scenarios = [load_scenario(f, model) for f in opts.files]  # validate every file before running any
    chunks: list[str] = []
    failed = False
    watched = []
    if opts.watch is not None:
        from .watch import parse_watch, watch

        expressions = [parse_watch(model, scenario, opts.watch) for scenario in scenarios]
        watched = [(opts.watch, watch(model, s, e)) for s, e in zip(scenarios, expressions, strict=True)]
    for i, scenario in enumerate(scenarios):
        outcomes = simulate(model, scenario)
        mismatches = compare(scenario, outcomes)
        failed = failed or bool(mismatches)
        seen = watched[i] if watched else None
        chunks.append(to_json(scenario, outcomes, mismatches, seen) if opts.format == "json"
                      else to_text(model, scenario, outcomes, mismatches, seen))
    text = "\n".join(chunks) if opts.format == "text" else (
        chunks[0] if len(chunks) == 1 else "[\n" + ",\n".join(c.rstrip("\n") for c in chunks) + "\n]\n")
    if opts.output:
        write_atomic(opts.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_FAILED if failed else EXIT_OK


def _validate(files: list[str], model_dir: str | None) -> int:
    from .loader import load_model
    from .scenario import load_scenario
    from .simulate import simulate

    model = load_model(model_dir)
    for f in files:
        simulate(model, load_scenario(f, model))
    n_rules = len({t.id for t in model.transitions})
    print(f"model: {len(model.machines)} machines, {len(model.states)} states, {n_rules} rules, "
          f"{len(model.definitions)} definitions: OK")
    for note in model.notes:
        print(f"  note: {note}")
    for f in files:
        print(f"{f}: OK")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from . import cache
    from .cache import load_model_cached
    from .check import check_files, default_claim_files
    from .paths import default_model_dir

    model = load_model_cached(args.model_dir)
    files = args.files if args.files else ([] if args.model else default_claim_files())
    with_model = args.model or not args.files
    from .jobs import default_jobs

    key = None
    if cache.enabled() and not args.no_cache:
        key = cache.model_key(args.model_dir or default_model_dir()) + "\n" + cache.engine_key()
    text, status = check_files(model, files, args.format, args.counterexamples, progress=sys.stderr,
                               with_model=with_model, jobs=args.jobs or default_jobs(), cache_key=key,
                               examples=args.examples)
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    if args.exit_zero:
        return EXIT_OK
    return {"proved": EXIT_OK, "failed": EXIT_FAILED, "unknown": EXIT_UNKNOWN}[status]


def _diagrams(args: argparse.Namespace) -> int:
    from .cache import load_model_cached
    from .diagrams import (
        FORMATS,
        compare_machines,
        compare_settings,
        default_diagrams,
        highlighted,
        swimlanes_of,
        write,
    )

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise TrackproofError("E501", f"unknown diagram format {', '.join(unknown) or '(none)'}",
                              hint="formats: svg, dot, mermaid")
    if sum(bool(x) for x in (args.highlight, args.compare, args.swimlanes)) > 1:
        raise TrackproofError("E501", "--highlight, --compare and --swimlanes draw different diagrams: give one")
    if args.claim and not args.highlight:
        raise TrackproofError("E501", "--claim chooses the counterexample to draw with --highlight",
                              hint="trackproof diagrams --highlight CHECK.json --claim ID")
    model = load_model_cached(args.model_dir)
    by_machine = bool(args.compare) and (args.compare[0] in model.machines or args.compare[1] in model.machines)
    if args.machine and (not args.compare or by_machine):
        raise TrackproofError("E501", "--machine chooses the machine for a comparison of two settings files",
                              hint="trackproof diagrams --compare A.yaml B.yaml --machine outlook_client")
    drawings: list[Diagram | Swimlanes]
    if args.swimlanes:
        drawings = [swimlanes_of(model, args.swimlanes)]
    elif args.highlight:
        drawings = [highlighted(model, args.highlight, args.claim)]
    elif args.compare:
        a, b = args.compare
        if by_machine:
            drawings = [compare_machines(model, a, b)]
        else:
            drawings = [compare_settings(model, args.machine or "server_side_sync", a, b)]
    else:
        drawings = list(default_diagrams(model))
    for path in write(drawings, args.out, formats, args.renderer):
        print(path)
    return EXIT_OK


def _gaps(args: argparse.Namespace) -> int:
    import json

    from .cache import load_model_cached
    from .claims import load_claims
    from .gaps import find_gaps, gaps_json, gaps_text

    model = load_model_cached(args.model_dir)
    claims = [c for f in args.files for c in load_claims(f, model)]
    from .jobs import default_jobs

    found = find_gaps(model, claims, jobs=args.jobs or default_jobs())
    if args.scenarios:
        os.makedirs(args.scenarios, exist_ok=True)
        for m in found.missed:
            write_atomic(os.path.join(args.scenarios, f"{m.id.replace('@', '-setup')}.yaml"), m.scenario)
    text = (json.dumps(gaps_json(found), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
            else gaps_text(", ".join(args.files), found))
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    import json

    from .cache import load_model_cached
    from .diff import diff, diff_json, diff_text

    model = load_model_cached(args.model_dir)
    result = diff(model, args.a, args.b)
    text = (json.dumps(diff_json(result), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
            else diff_text(result))
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def entry() -> NoReturn:
    """The `trackproof` command: main(), then leave at once. Everything it writes is complete and closed by then
    (files are written to a temporary file and renamed; the output streams are flushed here); what is left is the
    interpreter's teardown, freeing the model, the claims, Z3's context and every module one by one, which costs
    about a tenth of a `check`. Tests call main() and keep their interpreter."""
    try:
        code = main()
    except KeyboardInterrupt:  # workers are stopped by then (jobs.fork_map); files are written whole or not at all
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
        if args.command == "run":
            return _run(RunOptions(tuple(args.files), args.format, args.output, args.model_dir, args.watch))
        if args.command == "check":
            return _check(args)
        if args.command == "diagrams":
            return _diagrams(args)
        if args.command == "gaps":
            return _gaps(args)
        if args.command == "diff":
            return _diff(args)
        return _validate(args.files, args.model_dir)
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
