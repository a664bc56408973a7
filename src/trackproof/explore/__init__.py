"""Behaviours no claim names: the missed scenarios of a claim set (gaps) and the differences between two
configurations (diff), found with the prover's machinery."""
