"""Benchmark `trackproof diagrams` (every default diagram, all formats) with Graphviz's `dot` and with the WebAssembly
renderer, in one run, next to the import floor `python -c "import transitions, yaml"`.
Target (issue #4): all diagrams in under 3x the floor with `dot`. Also, for ADR 008: what importing the `graphviz`
package adds to the floor, and one `dot` process per diagram (what trackproof does: deterministic) against one
process drawing every diagram in a row (what ADR 004 did: its SVG changed from run to run).
Usage: python bench/bench_diagrams.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_of, ensure_bytecode, trackproof_command


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ensure_bytecode()
    command = trackproof_command()
    floor = best_of([sys.executable, "-c", "import transitions, yaml"], args.repeat)
    print(f"floor (import transitions, yaml): {floor * 1000:.0f} ms")
    package = best_of([sys.executable, "-c", "import transitions, yaml, graphviz"], args.repeat)
    print(f"floor and the graphviz package: {package * 1000:.0f} ms (+{(package - floor) * 1000:.0f} ms)")
    out = tempfile.mkdtemp()
    text_only = best_of([*command, "diagrams", "--format", "dot,mermaid", "--out", out], args.repeat)
    print(f"diagrams, DOT and Mermaid only: {text_only * 1000:.0f} ms = {text_only / floor:.1f}x the floor")
    ok = True
    for renderer in ("dot", "wasm"):
        if renderer == "dot" and not shutil.which("dot"):
            print("dot renderer: Graphviz's dot is not installed here; not measured")
            ok = False
            continue
        spent = best_of([*command, "diagrams", "--renderer", renderer, "--out", out], args.repeat)
        target = " (target: under 3x)" if renderer == "dot" else ""
        print(f"diagrams with the {renderer} renderer, all formats: {spent * 1000:.0f} ms = {spent / floor:.1f}x the "
              f"floor{target}")
        if renderer == "dot":
            ok = ok and spent < 3 * floor
            processes(Path(out), args.repeat)
    shutil.rmtree(out, ignore_errors=True)
    return 0 if ok else 1


def processes(out: Path, repeat: int) -> None:
    """Graphviz alone on the default diagrams' DOT: one process per diagram, a few at a time (as trackproof runs
    it), against one process for them all."""
    import subprocess
    import time
    from concurrent.futures import ThreadPoolExecutor

    dots = [p.read_bytes() for p in sorted(out.glob("*.dot"))]

    def one(dot: bytes) -> bytes:
        return subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, check=True).stdout

    def timed(work: Callable[[], object]) -> float:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - start)
        return best

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        each = timed(lambda: list(pool.map(one, dots)))
    together = timed(lambda: one(b"".join(dots)))
    print(f"  dot alone, {len(dots)} diagrams: one process each, side by side {each * 1000:.0f} ms; "
          f"one process for all {together * 1000:.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
