"""A cache of the loaded model, so that `trackproof run` does not parse and check model/ on every call.

The key lists the size and modification time of every spec file under the model directory and of the engine modules
that build the IR (stat calls only, so a cache hit costs no hashing); the entry stores the whole key and is used
only when it matches exactly, so any change to either makes a new entry. Only a model that loaded without error is
cached. The cache lives in $TRACKPROOF_CACHE, else $XDG_CACHE_HOME/trackproof, else ~/.cache/trackproof; when
that cannot be written the model is simply loaded each time. TRACKPROOF_NO_CACHE=1 turns it off.
See docs/adr/002-model-cache.md.
"""

from __future__ import annotations

import os
import pickle
import zlib

from . import __version__
from .ir import Model

_ENGINE = ("ir.py", "expr.py", "loader.py", "vocab.py", "checks.py", "yamlsrc.py", "errors.py", "cache.py")


def cache_dir() -> str:
    explicit = os.environ.get("TRACKPROOF_CACHE")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "trackproof")


def _key(root: str) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.join(here, name) for name in _ENGINE]
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".yaml")]
    parts = [__version__, os.path.abspath(root)]
    for path in files:
        stat = os.stat(path)
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts)


def load_model_cached(root: str | os.PathLike[str] | None = None) -> Model:
    """The model under `root` (default: the shipped one), from the cache when the files are unchanged."""
    from .paths import default_model_dir

    directory = os.fspath(root) if root is not None else default_model_dir()
    if os.environ.get("TRACKPROOF_NO_CACHE") or not os.path.isfile(os.path.join(directory, "vocabulary.yaml")):
        from .loader import load_model

        return load_model(directory)
    key = _key(directory)
    entry = os.path.join(cache_dir(), f"model-{zlib.crc32(key.encode()):08x}.pickle")
    try:
        with open(entry, "rb") as handle:
            stored_key, model = pickle.loads(handle.read())
        if stored_key == key and isinstance(model, Model):
            return model
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        pass
    from .loader import load_model

    model = load_model(directory)
    try:
        import tempfile

        os.makedirs(cache_dir(), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model-", dir=cache_dir())
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((key, model), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except OSError:
        pass
    return model
