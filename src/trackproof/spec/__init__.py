"""What trackproof reads: YAML with locations, the IR, the expression language, the model loader and its
structural checks, and scenario, claim and settings files.

The first stage of the pipeline: everything here turns files into frozen data with a source location on every node,
or refuses them with a `file:line:col` error. Nothing here plays an event or asks a solver.
"""
