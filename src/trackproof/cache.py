"""Caches: the loaded model (so that `trackproof run` does not parse and check model/ on every call) and the
results of `trackproof check` (so that an unchanged claim is not proved again).

An entry stores its whole key and is used only when the key matches exactly, so any change makes a new entry:
- the model's key lists the size and modification time of every spec file under the model directory and of the
  engine modules that build the IR (stat calls only, so a hit costs no hashing); see docs/adr/002-model-cache.md;
- a result's key is the model's key, the versions of Python, Z3, transitions, PyYAML and trackproof, the size and
  modification time of every module of trackproof, and the claims proved (their parsed form and the digest of
  their files' bytes); see docs/adr/005-verdict-cache.md.
Only results computed without error are cached, written atomically; at most KEEP entries of each kind are kept,
the least recently used going first. The cache lives in $TRACKPROOF_CACHE, else
$XDG_CACHE_HOME/trackproof, else ~/.cache/trackproof; when that cannot be written nothing is cached.
TRACKPROOF_NO_CACHE=1 turns both off (and `check --no-cache` the second).
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable
from typing import Any, TypeVar

from . import __version__
from .spec.ir import Model

_ENGINE = ("spec/ir.py", "spec/expr.py", "spec/loader.py", "spec/vocab.py", "spec/readings.py", "spec/structure.py",
           "spec/yamlsrc.py", "errors.py", "cache.py")
T = TypeVar("T")


def cache_dir() -> str:
    explicit = os.environ.get("TRACKPROOF_CACHE")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "trackproof")


def enabled() -> bool:
    return not os.environ.get("TRACKPROOF_NO_CACHE")


def _stats(files: list[str]) -> list[str]:
    out = []
    for path in files:
        stat = os.stat(path)
        out.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return out


def model_key(root: str) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.join(here, name) for name in _ENGINE]
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs.sort()
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".yaml")]
    return "\n".join([__version__, os.path.abspath(root), *_stats(files)])


def engine_key() -> str:
    """Everything besides the model and the claims that a proof's result depends on: every module of trackproof
    and the versions of Python and the libraries it runs on."""
    import sys

    import transitions
    import yaml
    import z3

    here = os.path.dirname(os.path.abspath(__file__))
    files = []
    for folder, dirs, names in os.walk(here):
        dirs[:] = sorted(d for d in dirs if d != "model" and not d.startswith((".", "__")))
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith((".py", ".yaml"))]
    return "\n".join([__version__, sys.version, z3.get_version_string(), f"transitions {transitions.__version__}",
                      f"PyYAML {yaml.__version__}", *_stats(files)])


def _entry(kind: str, key: str) -> str:
    import hashlib

    return os.path.join(cache_dir(), f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.pickle")


#: Entries kept per kind; storing more removes the least recently used (the cache cannot grow without end as
#: the model, the claims and trackproof change).
KEEP = 64


def load(kind: str, key: str) -> Any:
    """The value stored under `key`, or None. A hit counts as a use (for KEEP)."""
    path = _entry(kind, key)
    try:
        with open(path, "rb") as handle:
            stored_key, value = pickle.loads(handle.read())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError,
            IndexError):
        return None
    if stored_key != key:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return value


def _prune(kind: str) -> None:
    folder = cache_dir()
    entries = []
    for name in os.listdir(folder):
        if name.startswith(f"{kind}-") and name.endswith(".pickle"):
            path = os.path.join(folder, name)
            try:
                entries.append((os.stat(path).st_mtime_ns, name, path))
            except OSError:
                continue
    for _, _, path in sorted(entries)[:-KEEP]:
        with contextlib.suppress(OSError):
            os.unlink(path)


def store(kind: str, key: str, value: Any) -> None:
    """Write an entry atomically; a cache that cannot be written is no cache."""
    try:
        import tempfile

        os.makedirs(cache_dir(), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", dir=cache_dir())
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump((key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, _entry(kind, key))
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(kind)
    except (OSError, pickle.PicklingError):
        pass


def cached(kind: str, key: str | None, compute: Callable[[], T]) -> T:
    """compute(), or its stored value for `key` (None: no cache)."""
    if key is None:
        return compute()
    found = load(kind, key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    value = compute()
    store(kind, key, value)
    return value


def load_model_cached(root: str | os.PathLike[str] | None = None) -> Model:
    """The model under `root` (default: the shipped one), from the cache when the files are unchanged."""
    from .spec.shipped import default_model_dir

    directory = os.fspath(root) if root is not None else default_model_dir()

    def fresh() -> Model:
        from .spec.loader import load_model

        return load_model(directory)

    if not enabled() or not os.path.isfile(os.path.join(directory, "vocabulary.yaml")):
        return fresh()
    model = cached("model", model_key(directory), fresh)
    return model if isinstance(model, Model) else fresh()
