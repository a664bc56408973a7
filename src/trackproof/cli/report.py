"""`trackproof report CLAIMS...`: the review pack, one command for the forum reply and the design review: a
self-contained HTML page and a Markdown version (report/pack.py says what is in it and in which order).

It proves the claims and checks the model as `check` does (with the same results cache), finds the missed scenarios
as `gaps` does, and draws the diagrams as `diagrams` does; then it writes, into the folder given:
- report.html: one file, diagrams inline as SVG, no script, no network, a print style;
- report.md: GitHub-flavoured Markdown, with the diagrams as SVG files in diagrams/;
- scenarios/: a scenario file per counterexample and per missed scenario, to replay with `trackproof run`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from ..errors import TrackproofError
from .common import EXIT_OK, add_jobs

if TYPE_CHECKING:
    from ..report.pack import Pack
    from ..spec.ir import Model

HELP = "write the review pack: the answers, counterexamples on diagrams, missed scenarios, sources (HTML, Markdown)"
EXITS = {0: "the review pack was written (wrong claims are its content, not a failure); its pages are printed"}
FORMATS = ("html", "md")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="CLAIMS", help="claim files (YAML)")
    p.add_argument("-o", "--out", metavar="DIR", default="report", help="folder to write to (default: report)")
    p.add_argument("--format", default="html,md", help="comma-separated: html, md (default: both)")
    p.add_argument("--renderer", choices=("auto", "dot", "wasm"), default="auto",
                   help="SVG renderer: Graphviz's dot program or Graphviz in WebAssembly (default: dot if present)")
    p.add_argument("--no-cache", action="store_true", help="prove every claim afresh (as check --no-cache)")
    add_jobs(p, "prove and explore")


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise TrackproofError("E501", f"unknown report format {', '.join(unknown) or '(none)'}",
                              hint="formats: html, md")
    return formats


def build(model: Model, files: list[str], jobs: int, cache_key: str | None, renderer: str) -> Pack:
    """The drawn pack of the claim files: proved, explored, composed, pictures drawn."""
    from ..cache import cached
    from ..explore.gaps import find_gaps, gaps_json
    from ..render.svg import choose, dot_digest, identity, to_svgs
    from ..report.check import check_json
    from ..report.pack import compose, draw
    from ..spec.claims import load_claim_files
    from ..spec.yamlsrc import load_file
    from .check import prove_claims

    claims = load_claim_files(files, model)
    chosen = choose(renderer)  # a renderer asked for by name and missing: said before any work
    verdicts, joint, findings = prove_claims(model, claims, sys.stderr, True, jobs, cache_key)
    check = check_json(model, verdicts, joint, findings)
    claims_key = None if cache_key is None else cache_key + "\n" + "\n".join(digest(f) for f in files)
    gaps = cached("gaps", claims_key, lambda: gaps_json(find_gaps(model, claims, jobs=jobs)))
    first = load_file(files[0])
    title = str(first.get("title", "")) if isinstance(first, dict) and len(files) == 1 else ""
    pack = compose(model, files, check, gaps, f"Review pack: {title}" if title else "Review pack")

    def render(dots: list[str]) -> list[str]:
        print(f"trackproof: drawing {len(dots)} SVG with the {chosen} renderer"
              + (" (Graphviz's dot program)" if chosen == "dot" else " (Graphviz in WebAssembly)"), file=sys.stderr)
        return to_svgs(dots, chosen)

    def drawn(dots: list[str]) -> list[str]:  # the same DOT by the same renderer: the same SVG, kept
        key = None if cache_key is None else identity(chosen) + "\n" + dot_digest("".join(dots))
        fresh: list[bool] = []

        def compute() -> list[str]:
            fresh.append(True)
            return render(dots)

        svgs = cached("svg", key, compute)
        if not fresh:
            print(f"trackproof: {len(dots)} SVG drawn earlier from the same DOT by the {chosen} renderer (from the "
                  "cache)", file=sys.stderr)
        return svgs

    return draw(pack, drawn)


def digest(path: str) -> str:
    import hashlib

    from ..inputs import MAX_YAML_BYTES, read_bytes

    return f"{path} {hashlib.sha256(read_bytes(path, MAX_YAML_BYTES)).hexdigest()}"


def write_pack(pack: Pack, out: str, formats: tuple[str, ...]) -> list[str]:
    """Write the page, the Markdown and the files beside them; files of an earlier pack under scenarios/ and
    diagrams/ that this one no longer has are removed."""
    from ..files import make_folder, write_atomic
    from ..report.pack import DIAGRAMS, MARKDOWN, PAGE, SCENARIOS, files
    from ..report.pack_html import to_html
    from ..report.pack_markdown import to_markdown

    beside = files(pack, "md" in formats)
    for folder in (SCENARIOS, DIAGRAMS):
        for root, _, names in os.walk(os.path.join(out, folder)):
            for name in names:
                path = os.path.join(root, name)
                if name.endswith((".yaml", ".svg")) and os.path.relpath(path, out).replace(os.sep, "/") not in beside:
                    os.remove(path)
    written = []
    documents = {PAGE: to_html(pack) if "html" in formats else None, MARKDOWN: to_markdown(pack) if "md" in formats
                 else None}
    for name, text in [*beside.items(), *documents.items()]:
        if text is None:
            continue
        target = os.path.join(out, *name.split("/"))
        make_folder(os.path.dirname(target) or ".", named=out)  # an error names the folder asked for
        if not _same(target, text):  # an unchanged file is left as it is (and its time with it)
            write_atomic(target, text)
        written.append(target)
    return written


def _same(path: str, text: str) -> bool:
    """Whether the regular file at `path` holds exactly `text`."""
    data = text.encode("utf-8")
    try:
        if not os.path.isfile(path) or os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def execute(args: argparse.Namespace) -> int:
    from ..cache import load_model_cached
    from ..parallel import default_jobs
    from .check import cache_key

    formats = _formats(args.format)
    if os.path.exists(args.out) and not os.path.isdir(args.out):  # said before any work, not after it
        raise TrackproofError("E504", f"'{args.out}' is not a folder", hint="-o names the folder of the pack")
    model = load_model_cached(args.model_dir)
    pack = build(model, args.files, args.jobs or default_jobs(), cache_key(args.model_dir, args.no_cache),
                 args.renderer)
    from ..report.pack import MARKDOWN, PAGE

    written = write_pack(pack, args.out, formats)
    pages = [w for w in written if os.path.basename(w) in (PAGE, MARKDOWN)]
    for path in pages:
        print(path)
    print(f"trackproof: and {len(written) - len(pages)} files beside them (scenarios/, diagrams/)", file=sys.stderr)
    return EXIT_OK
