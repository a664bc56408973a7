"""Where the shipped model lives: inside the installed package (wheel), or at the top of a source checkout.

Plain os.path on purpose: this module is on the path of every `trackproof run`, which pathlib would slow down.
"""

from __future__ import annotations

import os


def default_model_dir() -> str:
    """model/ inside the installed package (wheel) or at the top of a checkout."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # trackproof/
    candidates = (os.path.join(package, "model"), os.path.join(package, os.pardir, os.pardir, "model"))
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "vocabulary.yaml")):
            return os.path.normpath(candidate)
    return os.path.normpath(candidates[1])
