"""trackproof: will this email end up in Dynamics 365? A model of the documented rules, a simulator and proofs.

The folders are the stages of the pipeline, and imports go down it only (docs/architecture.md):
spec (files -> IR) -> simulate (runs) -> prove (Z3) -> explore (gaps, diff) -> render (diagrams) -> report -> cli,
and at the top the Python API (api.py, docs/api.md): the same answers as the commands, as the records of their JSON:
    trackproof.run("examples/sss-send-from-crm.yaml")       # [{"scenario": ..., "emails": {...}}]
    trackproof.check("proofs/forum-claims.yaml")            # {"claims": [...], "consistency": [...], ...}
    trackproof.gaps("proofs/forum-claims.yaml")             # {"missed": [...], ...}
    trackproof.diagram("server_side_sync")                  # shown inline in Jupyter
Importing trackproof loads none of it: each function loads what it needs when called, so a script that only runs
scenarios never loads Z3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Drawing, Path

__version__ = "0.1.0"
__all__ = ["__version__", "check", "diagram", "gaps", "run"]


def run(*scenarios: Path, watch: str | None = None, model_dir: Path | None = None) -> list[dict[str, Any]]:
    """Play scenario files: a record per file, as `trackproof run --format json` gives it."""
    from . import api

    return api.run(*scenarios, watch=watch, model_dir=model_dir)


def check(*claim_files: Path, model: bool = False, examples: int = 1, jobs: int = 1, cache: bool = True,
          model_dir: Path | None = None) -> dict[str, Any]:
    """Prove or refute claims: the record of `trackproof check --format json`."""
    from . import api

    return api.check(*claim_files, model=model, examples=examples, jobs=jobs, cache=cache, model_dir=model_dir)


def gaps(*claim_files: Path, jobs: int = 1, model_dir: Path | None = None) -> dict[str, Any]:
    """The scenarios the claims miss: the record of `trackproof gaps --format json`."""
    from . import api

    return api.gaps(*claim_files, jobs=jobs, model_dir=model_dir)


def diagram(mode: str, trace: list[dict[str, Any]] | None = None, simple: bool = False, renderer: str = "auto",
            model_dir: Path | None = None) -> Drawing:
    """A mode's state diagram, or a trace drawn on it; Jupyter shows it inline."""
    from . import api

    return api.diagram(mode, trace, simple, renderer, model_dir)
