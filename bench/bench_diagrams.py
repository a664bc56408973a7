"""Benchmark `trackproof diagrams` (every default diagram, all formats) with Graphviz's `dot` and with the WebAssembly
renderer, in one run, next to the import floor `python -c "import transitions, yaml"`.
Target (issue #4): all diagrams in under 3x the floor with `dot`.
Usage: python bench/bench_diagrams.py [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
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
    shutil.rmtree(out, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
