"""`trackproof check`: load claim files, prove every claim, report them all (never stopping at the first failure)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, TextIO

from ..spec.shipped import default_model_dir
from .common import EXIT_FAILED, EXIT_OK, EXIT_TEXT, EXIT_UNKNOWN, add_jobs, add_output, emit, whole_number

if TYPE_CHECKING:  # the command's own imports are made when it runs: `trackproof run` never loads Z3
    from ..prove.consistency import Consistency
    from ..prove.modelcheck import Finding
    from ..prove.records import Verdict
    from ..spec.claims import Claim
    from ..spec.ir import Model

HELP = "prove or refute claims with Z3 (default: every claim file under proofs/, and the model)"
EXITS = {0: "every claim is proved (and the model has no fault)",
         1: "some claim is violated or vacuous, or the model has a fault", 3: EXIT_TEXT[EXIT_UNKNOWN]}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", metavar="FILE", help="claim files (YAML)")
    add_output(p, ("text", "json", "junit", "sarif", "markdown"),
               "junit, sarif: for CI dashboards and code scanning; markdown: a table of the verdicts")
    p.add_argument("--counterexamples", metavar="DIR", help="also write each counterexample as a scenario file")
    p.add_argument("--exit-zero", action="store_true",
                   help="exit 0 even when claims are violated, vacuous or unknown (bad input still exits 2)")
    p.add_argument("--model", action="store_true",
                   help="check the model's own rules (overlaps, shadowed and dead rules, gaps, unreachable "
                        "states); with no FILE, this and every claim under proofs/ are checked")
    add_jobs(p, "prove")
    p.add_argument("--examples", type=whole_number, metavar="N", default=1,
                   help="up to N counterexamples per violated claim, each changing another set of settings "
                        "(a minimal way to break the claim), fewest changes first (default: 1)")
    p.add_argument("--reading", action="append", default=[], metavar="POINT=READING",
                   help="decide the claims under this reading of a disputed point (model/readings.yaml), e.g. "
                        "R91=gates_filters, instead of its default; claims that choose one themselves keep theirs "
                        "(repeatable)")
    p.add_argument("--no-cache", action="store_true",
                   help="prove every claim afresh, ignoring and not writing the cache of results (kept per "
                        "claim group, keyed on the model, the claims and trackproof's own code)")


def execute(args: argparse.Namespace) -> int:
    from ..cache import load_model_cached
    from ..parallel import default_jobs

    model = load_model_cached(args.model_dir)
    files = args.files if args.files else ([] if args.model else default_claim_files())
    with_model = args.model or not args.files
    key = cache_key(args.model_dir, args.no_cache)
    text, status = check_files(model, files, args.format, args.counterexamples, progress=sys.stderr,
                               with_model=with_model, jobs=args.jobs or default_jobs(), cache_key=key,
                               examples=args.examples, readings=args.reading)
    emit(text, args.output)
    if args.exit_zero:
        return EXIT_OK
    return {"proved": EXIT_OK, "failed": EXIT_FAILED, "unknown": EXIT_UNKNOWN}[status]


def cache_key(model_dir: str | None, no_cache: bool) -> str | None:
    """What the results cache is keyed on besides the claims (the model and the engine), or None without it."""
    from .. import cache

    if not cache.enabled() or no_cache:
        return None
    return cache.model_key(model_dir or default_model_dir()) + "\n" + cache.engine_key()


def default_claim_files() -> list[str]:
    """Every claim file under proofs/ (shipped beside model/)."""
    folder = os.path.join(os.path.dirname(default_model_dir()), "proofs")
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".yaml")]


def check_files(model: Model, files: list[str], fmt: str, cex_dir: str | None,
                progress: TextIO | None = None, with_model: bool = False, jobs: int = 1,
                cache_key: str | None = None, examples: int = 1, readings: list[str] | None = None) -> tuple[str, str]:
    """Prove every claim of `files` and report. `cache_key`: what the results depend on besides the claims (the
    model and the engine, cache.py), or None to prove everything afresh. `examples`: counterexamples per violated
    claim, each for another reason. `readings`: POINT=READING choices of disputed points for every claim."""
    from ..report.check import summary
    from ..spec.claims import load_claim_files, with_readings

    claims = load_claim_files(files, model)
    claims = with_readings(model, claims, readings or [])
    verdicts, joint, findings = prove_claims(model, claims, progress, with_model, jobs, cache_key, examples)
    if cex_dir:
        write_counterexamples(cex_dir, verdicts)
    faults = [f for f in findings or [] if f.kind != "gap"]
    text = render(model, fmt, verdicts, joint, findings)
    counts = summary(verdicts)
    status = "unknown" if counts["unknown"] else (
        "failed" if counts["violated"] or counts["vacuous"] or faults else "proved")
    return text, status


def prove_claims(model: Model, claims: list[Claim], progress: TextIO | None = None, with_model: bool = False,
                 jobs: int = 1, cache_key: str | None = None, examples: int = 1,
                 ) -> tuple[list[Verdict], list[Consistency], list[Finding] | None]:
    """Prove the claims (and check the model's rules when `with_model`), with the results cache when `cache_key`
    is given; a progress line on a terminal."""
    from ..cache import cached
    from ..prove.batch import prove_all
    from ..prove.modelcheck import check_model

    done = [0]

    def on_done(claim: Claim) -> None:
        done[0] += 1
        if progress is not None and progress.isatty():
            progress.write(f"\r[{done[0]}/{len(claims)}] {claim.id}\033[K")
            progress.flush()

    def model_check() -> list[Finding]:
        return cached("modelcheck", cache_key, lambda: check_model(model))

    from ..prove.limits import report_progress_to

    report_progress_to(progress if progress is not None and progress.isatty() else None)
    try:
        verdicts, joint, findings = prove_all(model, claims, jobs, model_check if with_model else None, on_done,
                                              cache_key, examples)
    finally:
        report_progress_to(None)
    if progress is not None and progress.isatty():
        progress.write("\r\033[K")
    return verdicts, joint, findings


def write_counterexamples(folder: str, verdicts: list[Verdict]) -> None:
    """Each counterexample as a scenario file CLAIM.yaml (and CLAIM-2.yaml ... for --examples); the files an earlier
    run wrote for these claims that this one does not (the claim holds now, fewer --examples) are removed, and the
    temporary files a killed run left beside them (files.py)."""
    import contextlib

    from ..files import is_temporary, make_folder, write_atomic
    from ..report.check import scenario_yaml

    make_folder(folder)
    ours = {v.claim.id for v in verdicts}
    writes = {f"{v.claim.id}.yaml" for v in verdicts if v.counterexample is not None} | {
        f"{v.claim.id}-{n}.yaml" for v in verdicts for n in range(2, len(v.others) + 2)}
    for name in os.listdir(folder):  # files of an earlier run: of a claim that now holds, or a larger --examples
        base = name[1:].rsplit(".", 1)[0] if name.startswith(".") else name
        stem, _, number = base.removesuffix(".yaml").rpartition("-")
        claims = {base.removesuffix(".yaml"), *([stem] if number.isdigit() and int(number) >= 2 else [])}
        if not base.endswith(".yaml") or not claims & ours:
            continue
        if (is_temporary(name, base) if name.startswith(".") else name not in writes):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, name))
    for v in verdicts:
        if v.counterexample is not None:
            write_atomic(os.path.join(folder, f"{v.claim.id}.yaml"), scenario_yaml(v, v.counterexample))
        for n, run in enumerate(v.others, 2):
            write_atomic(os.path.join(folder, f"{v.claim.id}-{n}.yaml"), scenario_yaml(v, run))


def render(model: Model, fmt: str, verdicts: list[Verdict], joint: list[Consistency],
           findings: list[Finding] | None) -> str:
    """The verdicts (and the model check's findings, when it ran) in the format asked for."""
    from ..report.check import check_json, consistency_text, model_text, to_text
    from ..report.junit import junit
    from ..report.sarif import sarif
    from ..report.table import markdown

    if fmt == "json":
        text = json.dumps(check_json(model, verdicts, joint, findings), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "junit":
        text = junit(model, verdicts, findings or [])
    elif fmt == "sarif":
        text = json.dumps(sarif(model, verdicts, findings or []), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        text = markdown(model, verdicts)
    else:
        text = (to_text(model, verdicts) if verdicts else "") + consistency_text(verdicts, joint)
        if findings is not None:
            text += model_text(findings)
    return text


