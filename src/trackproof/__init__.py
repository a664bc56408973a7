"""trackproof: will this email end up in Dynamics 365? A model of the documented rules, a simulator and proofs.

The folders are the stages of the pipeline, and imports go down it only (docs/architecture.md):
spec (files -> IR) -> simulate (runs) -> prove (Z3) -> explore (gaps, diff) -> render (diagrams) -> report -> cli.
"""

__version__ = "0.1.0"
