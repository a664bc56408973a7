"""What the bench scripts share: timing a command (best of N) and the command that runs trackproof."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time


def best_of(cmd: list[str], repeat: int) -> float:
    """The shortest wall time of `repeat` runs of `cmd` (output discarded)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def trackproof_command() -> list[str]:
    """The console script when installed (as users run it), else `python -m trackproof`."""
    installed = shutil.which("trackproof")
    return [installed] if installed else [sys.executable, "-m", "trackproof"]


def ensure_bytecode() -> None:
    """Compile trackproof's modules, as `pip install` does: with PYTHONDONTWRITEBYTECODE set (as on some machines)
    an editable install would otherwise recompile every module on every run and the bench would measure that."""
    import compileall
    import importlib.util
    import os

    spec = importlib.util.find_spec("trackproof")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(os.path.dirname(spec.origin), quiet=1)
