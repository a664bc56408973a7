"""Playing events through the model: expressions evaluated in a world of parties and messages, the `transitions`
machines, what each event does, the outcomes, and why a rule did not fire.

It reads only the IR (spec/); it never imports Z3. The prover drives it through the hooks of `hooks.py`.
"""
