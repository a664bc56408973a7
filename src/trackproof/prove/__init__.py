"""Deciding claims with Z3: the settings as variables, Z3 terms of the model's expressions along a run, rule paths,
regions and holds_when, verdicts, the consistency of claims, the model check and the brute-force reference.

It plays the premise through the simulator (simulate/) and never renders or prints anything.
"""
