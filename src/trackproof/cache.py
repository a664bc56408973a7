"""Caches: the loaded model (so that `trackproof run` does not parse and check model/ on every call) and the
results of `trackproof check` (so that an unchanged claim is not proved again).

An entry stores its whole key and is used only when the key matches exactly, so any change makes a new entry:
- the model's key holds the SHA-256 of the bytes of every spec file under the model directory and of the engine
  modules that build the IR: an edit is seen whatever it does to the files' sizes and times (`cp -p`, `tar` and
  `rsync -t` restore a time); see docs/adr/002-model-cache.md and docs/adr/010-cache-entries-as-data.md;
- a result's key is the model's key, the versions of Python, Z3, transitions, PyYAML and trackproof, the digest of
  every module of trackproof, and the claims proved (their parsed form and the digest of their files' bytes); see
  docs/adr/005-verdict-cache.md.
An entry is data, never code: JSON written and read by codec.py, which builds nothing but trackproof's own records;
an entry that is unknown, malformed, of another key or of classes not loaded is no entry (a miss), never an error.
Only results computed without error are cached, written atomically; at most KEEP entries of each kind are kept,
the least recently used going first. The cache lives in $TRACKPROOF_CACHE, else $XDG_CACHE_HOME/trackproof, else
~/.cache/trackproof; when that cannot be written nothing is cached. TRACKPROOF_NO_CACHE=1 turns both off (and
`check --no-cache` the second).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

from . import __version__
from .codec import Malformed, Unencodable, decode, encode
from .inputs import MAX_JSON_BYTES
from .spec.ir import Model

_ENGINE = ("spec/ir.py", "spec/expr.py", "spec/loader.py", "spec/vocab.py", "spec/readings.py", "spec/structure.py",
           "spec/yamlsrc.py", "spec/shape.py", "spec/model_schema.yaml", "errors.py", "inputs.py", "codec.py",
           "cache.py")
#: A cache entry larger than this is not read (the model's is about 0.3 MiB, a check task's less).
MAX_ENTRY_BYTES = 4 * MAX_JSON_BYTES
T = TypeVar("T")


def cache_dir() -> str:
    explicit = os.environ.get("TRACKPROOF_CACHE")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "trackproof")


def enabled() -> bool:
    return not os.environ.get("TRACKPROOF_NO_CACHE")


def _digests(files: list[str]) -> list[str]:
    """Each file with the SHA-256 of its bytes (about a millisecond for trackproof's modules and the model); a file
    that is not read as input (not a regular file, too large: inputs.py) with why, so the key still differs."""
    from .errors import TrackproofError
    from .inputs import MAX_YAML_BYTES, read_bytes

    out = []
    for path in files:
        try:
            out.append(f"{path}:{hashlib.sha256(read_bytes(path, MAX_YAML_BYTES)).hexdigest()}")
        except TrackproofError as err:
            out.append(f"{path}:{err.code}")
    return out


def _yaml_files(root: str) -> list[str]:
    """Every .yaml file under `root`, in a fixed order, following links to folders but never into a loop."""
    seen: set[tuple[int, int]] = set()
    files = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        try:
            info = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs.sort()
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".yaml")]
    return files


def model_key(root: str) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.join(here, name) for name in _ENGINE] + _yaml_files(root)
    return "\n".join([__version__, os.path.abspath(root), *_digests(files)])


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
                      f"PyYAML {yaml.__version__}", *_digests(files)])


def _entry(kind: str, key: str) -> str:
    return os.path.join(cache_dir(), f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json")


#: Entries kept per kind; storing more removes the least recently used (the cache cannot grow without end as
#: the model, the claims and trackproof change).
KEEP = 64


def load(kind: str, key: str) -> Any:
    """The value stored under `key`, or None (no entry, or one that is not exactly ours: codec.py). A hit counts as
    a use (for KEEP)."""
    from .errors import TrackproofError
    from .inputs import read_text

    path = _entry(kind, key)
    try:
        stored_key, value = decode(read_text(path, MAX_ENTRY_BYTES))
    except (TrackproofError, Malformed, ValueError, TypeError):  # missing, not a regular file, too large, not ours
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
        if name.startswith(f"{kind}-") and name.endswith(".json"):
            path = os.path.join(folder, name)
            try:
                entries.append((os.stat(path).st_mtime_ns, name, path))
            except OSError:
                continue
    for _, _, path in sorted(entries)[:-KEEP]:
        with contextlib.suppress(OSError):
            os.unlink(path)


def store(kind: str, key: str, value: Any) -> None:
    """Write an entry atomically; a cache that cannot be written, or a value the format cannot hold, is no cache.
    The entry is replaced whatever is in its place (a link, a FIFO: the folder is the cache's own), never written
    through as an output file would be (files.py)."""
    import tempfile

    try:
        text = encode((key, value))
        os.makedirs(cache_dir(), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", dir=cache_dir())
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, _entry(kind, key))
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(kind)
    except (OSError, Unencodable, ValueError, RecursionError):
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
