"""trackproof: will this email end up in Dynamics 365? A model of the documented rules, a simulator and proofs.

Architecture, one line a module (see docs/architecture.md):
errors (codes, messages) -> yamlsrc (YAML with locations) -> vocab, expr, loader, checks (spec -> IR) ->
evaluate (IR expressions -> Python) -> world, simulate, events (transitions machines) -> report -> cli.
"""

__version__ = "0.1.0"
