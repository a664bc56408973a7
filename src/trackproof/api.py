"""The Python API, for notebooks and scripts: the same answers as the commands, as the same records as their JSON
(docs/api.md). `import trackproof` loads nothing of this; each function imports what it needs when called, so
`trackproof.run` never loads Z3 and `import trackproof` stays as cheap as the command's start.

What it is not: a second implementation. Each function calls what the command calls and returns what
`--format json` prints, parsed (dicts, lists, strings, numbers, booleans, None); bad input raises
`trackproof.errors.TrackproofError`, whose `code` and `loc` are the command's `error[CODE]` and `file:line:col`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .render.model import Diagram
    from .spec.ir import Model

Path = str | os.PathLike[str]


def _model(model_dir: Path | None) -> Model:
    from .cache import load_model_cached

    return load_model_cached(os.fspath(model_dir) if model_dir is not None else None)


def _plain(doc: Any) -> Any:
    """The record exactly as the JSON contract has it (tuples as lists, keys as strings)."""
    return json.loads(json.dumps(doc, ensure_ascii=False))


def run(*scenarios: Path, watch: str | None = None, model_dir: Path | None = None) -> list[dict[str, Any]]:
    """Play scenario files: one record per file, as `trackproof run --format json` gives it (docs/scenarios.md,
    "Output"): its emails' outcomes, why, the rules, and the expectations met or not."""
    from .report.run import compare, to_json
    from .simulate.engine import simulate
    from .spec.scenario import load_scenario

    model = _model(model_dir)
    loaded = [load_scenario(os.fspath(p), model) for p in scenarios]  # every file is validated before any runs
    records = []
    for scenario in loaded:
        seen = None
        if watch is not None:
            from .simulate.watch import parse_watch
            from .simulate.watch import watch as watched

            seen = (watch, watched(model, scenario, parse_watch(model, scenario, watch)))
        outcomes = simulate(model, scenario)
        records.append(json.loads(to_json(model, scenario, outcomes, compare(scenario, outcomes), seen)))
    return records


def check(*claim_files: Path, model: bool = False, examples: int = 1, jobs: int = 1, cache: bool = True,
          model_dir: Path | None = None) -> dict[str, Any]:
    """Prove or refute the claims of the files (with `model=True`, also check the model's own rules): the record of
    `trackproof check --format json` (docs/claims.md): {"claims": [...], "consistency": [...], "summary": {...}}."""
    from .cli.check import cache_key, prove_claims
    from .report.check import check_json
    from .spec.claims import load_claim_files

    loaded = _model(model_dir)
    claims = load_claim_files(claim_files, loaded)
    key = cache_key(os.fspath(model_dir) if model_dir is not None else None, not cache)
    verdicts, joint, findings = prove_claims(loaded, claims, None, model, jobs, key, examples)
    doc: dict[str, Any] = _plain(check_json(loaded, verdicts, joint, findings))
    return doc


def gaps(*claim_files: Path, jobs: int = 1, model_dir: Path | None = None) -> dict[str, Any]:
    """The scenarios the claims miss: the record of `trackproof gaps --format json` (docs/gaps.md)."""
    from .explore.gaps import find_gaps, gaps_json
    from .spec.claims import load_claim_files

    loaded = _model(model_dir)
    claims = load_claim_files(claim_files, loaded)
    doc: dict[str, Any] = _plain(gaps_json(find_gaps(loaded, claims, jobs=jobs)))
    return doc


@dataclass
class Drawing:
    """A diagram of the model, shown inline by Jupyter (`_repr_svg_`), with its DOT and Mermaid text. The SVG is
    drawn on first use, by Graphviz's dot when it is installed, else by Graphviz in WebAssembly."""

    diagram: Diagram
    renderer: str = "auto"
    _svg: str = field(default="", repr=False)

    @property
    def name(self) -> str:
        return self.diagram.name

    @property
    def dot(self) -> str:
        from .render.dot import to_dot

        return to_dot(self.diagram)

    @property
    def mermaid(self) -> str:
        from .render.mermaid import to_mermaid

        return to_mermaid(self.diagram)

    @property
    def svg(self) -> str:
        if not self._svg:
            from .render.svg import choose, to_svg

            self._svg = to_svg(self.dot, choose(self.renderer))
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: Path) -> None:
        """Write the drawing; the format follows the name's extension: .svg, .dot or .mmd."""
        from .files import write_atomic

        name = os.fspath(path)
        text = {".svg": lambda: self.svg, ".dot": lambda: self.dot, ".mmd": lambda: self.mermaid}
        ext = os.path.splitext(name)[1]
        if ext not in text:
            from .errors import TrackproofError

            raise TrackproofError("E501", f"unknown diagram format '{ext}'", hint="save as .svg, .dot or .mmd")
        write_atomic(name, text[ext]())


def diagram(mode: str, trace: list[dict[str, Any]] | None = None, simple: bool = False, renderer: str = "auto",
            model_dir: Path | None = None) -> Drawing:
    """A mode's state diagram (`simple`: the projector view, without guards), or with a trace drawn on it: the
    `trace` of a counterexample in `check(...)`'s record, or the `steps` of an email in `run(...)`'s."""
    from .errors import TrackproofError
    from .render.model import highlight, machine_diagram

    model = _model(model_dir)
    if mode not in model.machines:
        raise TrackproofError("E303", f"unknown machine '{mode}'", hint="machines: " + ", ".join(model.machines))
    drawn = machine_diagram(model, model.machines[mode], guards=not simple)
    if trace is not None:
        steps = [(str(s.get("email", "email")), str(s["rule"]), str(s["from"]), str(s["to"])) for s in trace
                 if s.get("rule")]
        drawn = highlight(drawn, steps, f"{drawn.title}: a trace")
    return Drawing(drawn, renderer)
