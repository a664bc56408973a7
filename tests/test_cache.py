"""The cache of `check` results (docs/adr/005-verdict-cache.md): a hit gives byte-identical output, any change to a
claim file proves again, and a broken or unwritable cache is no cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trackproof.prove import batch

from .conftest import ROOT, cli

SMALL = ROOT / "tests" / "claims" / "small.yaml"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.delenv("TRACKPROOF_NO_CACHE", raising=False)
    monkeypatch.setenv("TRACKPROOF_CACHE", str(folder))
    return folder


def _no_proofs(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> object:
        raise AssertionError("proved again although nothing changed")

    monkeypatch.setattr(batch, "prove_claim", refuse)


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif"])
def test_a_hit_gives_the_same_bytes_without_proving(capsys: pytest.CaptureFixture[str], cache: Path,
                                                    monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    args = ("check", str(SMALL), "--format", fmt, "--jobs", "1")
    fresh = cli(capsys, *args, "--no-cache")
    assert not list(cache.glob("check-*"))  # --no-cache: no result read or written (the loaded model is cached)
    first = cli(capsys, *args)
    assert list(cache.glob("check-*"))
    _no_proofs(monkeypatch)
    again = cli(capsys, *args)
    assert fresh[:2] == first[:2] == again[:2]


def test_model_check_is_cached_too(capsys: pytest.CaptureFixture[str], cache: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = cli(capsys, "check", "--model", "--format", "json")
    from trackproof.prove import modelcheck

    def refuse(*args: object) -> object:
        raise AssertionError("model checked again although nothing changed")

    monkeypatch.setattr(modelcheck, "check_model", refuse)
    assert cli(capsys, "check", "--model", "--format", "json")[:2] == first[:2]


def test_an_edited_claim_file_is_proved_again(capsys: pytest.CaptureFixture[str], cache: Path,
                                              tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    shutil.copy(SMALL, claims)
    before = cli(capsys, "check", str(claims), "--jobs", "1")[1]
    assert "small-always: PROVED" in before
    text = claims.read_text(encoding="utf-8")
    start = text.index("- id: small-always")
    end = text.index("conclusion:", start)
    line_end = text.index("\n", end)
    claims.write_text(text[:end] + 'conclusion: "not (' + text[end + len("conclusion: "):line_end].strip().strip('"')
                      + ')"' + text[line_end:], encoding="utf-8")
    after = cli(capsys, "check", str(claims), "--jobs", "1")[1]
    assert "small-always: VIOLATED" in after


def test_a_broken_or_unwritable_cache_is_no_cache(capsys: pytest.CaptureFixture[str], cache: Path,
                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    args = ("check", str(SMALL), "--format", "json", "--jobs", "1")
    first = cli(capsys, *args)
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    assert cli(capsys, *args)[:2] == first[:2]
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("TRACKPROOF_CACHE", str(blocked))  # a file where the folder should be: nothing is written
    assert cli(capsys, *args)[:2] == first[:2]


def test_the_number_of_examples_is_part_of_the_key(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    forum = str(ROOT / "proofs" / "forum-claims.yaml")
    assert "Also fails" not in cli(capsys, "check", forum, "--jobs", "1")[1]
    assert "Also fails" in cli(capsys, "check", forum, "--jobs", "1", "--examples", "2")[1]


def test_the_same_claims_in_another_order_get_their_own_verdicts(capsys: pytest.CaptureFixture[str], cache: Path,
                                                                 tmp_path: Path) -> None:
    """A cached group is found by its claims, whatever their place among the files given (and a file alone)."""
    # behaviours.yaml rather than invariants.yaml: the same question, without the universes' minutes of exploration
    forum, invariants = str(ROOT / "proofs" / "forum-claims.yaml"), str(ROOT / "proofs" / "behaviours.yaml")
    fresh = {}
    for files in ([forum], [invariants], [forum, invariants]):
        doc = json.loads(cli(capsys, "check", *files, "--format", "json", "--no-cache", "--jobs", "1")[1])
        fresh.update({c["id"]: c for c in doc["claims"]})
    for files in ([forum, invariants], [invariants, forum], [invariants], [forum]):
        for count in ("1", "2"):
            doc = json.loads(cli(capsys, "check", *files, "--format", "json", "--jobs", count)[1])
            assert {c["id"]: c for c in doc["claims"]} == {c["id"]: fresh[c["id"]] for c in doc["claims"]}


def test_the_cache_keeps_the_most_recently_used_entries(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from trackproof import cache as store

    monkeypatch.setattr(store, "KEEP", 3)
    for i in range(5):
        store.store("check", f"key {i}", i)
        os.utime(store._entry("check", f"key {i}"), ns=(i * 10**9, i * 10**9))  # an order the clock cannot blur
    assert sorted(p.name for p in cache.glob("check-*")) == sorted(
        os.path.basename(store._entry("check", f"key {i}")) for i in (2, 3, 4))
    assert store.load("check", "key 2") == 2  # a hit is a use: key 2 is now the most recent
    store.store("check", "key 5", 5)
    assert store.load("check", "key 2") == 2 and store.load("check", "key 3") is None


# --- entries are data, never code; the model's key is its content (issue 11) -------------------------------------

class _RunsCode:
    """What a hostile pickle holds: unpickling it runs `touch MARKER`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_hostile_entry_in_the_cache_folder_runs_nothing_and_is_a_miss(capsys: pytest.CaptureFixture[str],
                                                                        cache: Path, tmp_path: Path) -> None:
    import pickle

    args = ("check", str(SMALL), "--format", "json", "--jobs", "1")
    first = cli(capsys, *args)
    entries = sorted(cache.glob("*.json"))
    assert entries and not list(cache.glob("*.pickle"))  # entries are JSON now
    marker = tmp_path / "code-ran"
    hostile = [pickle.dumps(_RunsCode(marker)),  # a pickle: what the cache used to read
               b'{"format":"trackproof-cache 1","classes":[["os","system",[]]]}\n{"r":[0,"touch ' +
               str(marker).encode() + b'"]}',  # JSON that names os.system
               b'{"format":"trackproof-cache 1","classes":[["trackproof.__main__","entry",[]]]}\n{"r":[0]}',
               b'{"format":"trackproof-cache 1","classes":[["trackproof.errors","TrackproofError",[]]]}\n{"r":[0]}',
               b'{"format":"trackproof-cache 1","classes":[]}\n' + b"[" * 100_000,  # deeper than any decoder goes
               b'{"format":"trackproof-cache 1","classes":[]}\n{"t":[1],"x":2}']
    for payload in hostile:
        for entry in entries:
            entry.write_bytes(payload)
            (entry.parent / (entry.stem + ".pickle")).write_bytes(pickle.dumps(_RunsCode(marker)))
        assert cli(capsys, *args)[:2] == first[:2]
        assert not marker.exists(), "an entry ran code"
        for entry in entries:
            entry.unlink(missing_ok=True)
        cli(capsys, *args)  # written afresh, for the next round


def test_a_fifo_or_a_huge_file_in_place_of_an_entry_is_a_miss(capsys: pytest.CaptureFixture[str],
                                                              cache: Path) -> None:
    import os

    args = ("check", str(SMALL), "--format", "json", "--jobs", "1")
    first = cli(capsys, *args)
    entries = sorted(cache.glob("check-*.json"))
    for entry in entries:
        entry.unlink()
    os.mkfifo(entries[0])  # reading it would block for ever
    with open(entries[-1], "wb") as handle:
        handle.truncate(1 << 30)
    assert cli(capsys, *args)[:2] == first[:2]


def test_an_edit_that_keeps_size_and_time_is_a_new_model(capsys: pytest.CaptureFixture[str], cache: Path,
                                                         tmp_path: Path) -> None:
    """A same-size edit with the old modification time restored (cp -p, tar, rsync -t): the cache sees it."""
    import os

    model = tmp_path / "model"
    shutil.copytree(ROOT / "model", model)
    scenario = str(ROOT / "examples" / "sss-contact-emails-filter-all.yaml")
    before = cli(capsys, "run", scenario, "--model-dir", str(model))[1]
    assert list(cache.glob("model-*.json"))
    machine = model / "machines" / "server_side_sync.yaml"
    text, info = machine.read_text(encoding="utf-8"), machine.stat()
    old = "filter accepted it"
    assert old in before and old in text
    machine.write_text(text.replace(old, old.upper(), 1), encoding="utf-8")
    os.utime(machine, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert machine.stat().st_size == info.st_size and machine.stat().st_mtime_ns == info.st_mtime_ns
    after = cli(capsys, "run", scenario, "--model-dir", str(model))[1]
    assert old.upper() in after and old not in after


def test_the_format_rebuilds_records_by_field_name_dataclasses_too() -> None:
    """The lead moves records from NamedTuple to frozen dataclasses: both are rebuilt, shared objects stay shared,
    and a class whose fields changed since the entry was written is a miss."""
    import dataclasses
    import enum
    import sys
    import types

    from trackproof import codec

    module = types.ModuleType("trackproof._codec_probe")
    sys.modules[module.__name__] = module
    try:
        class Kind(enum.Enum):
            PROVED = "proved"

        @dataclasses.dataclass(frozen=True)
        class Record:
            name: str
            kind: Kind
            parts: tuple[int, ...]
            extra: dict[tuple[str, str], frozenset[str]]
            later: int = dataclasses.field(default=0, init=False)

        for cls in (Kind, Record):
            cls.__module__ = module.__name__
            cls.__qualname__ = cls.__name__
            setattr(module, cls.__name__, cls)
        shared = (1, 2)
        value = Record("a", Kind.PROVED, shared, {("X", "filter"): frozenset({"all"})})
        object.__setattr__(value, "later", 5)
        back = codec.decode(codec.encode([value, shared, {1: None, (2, 3): [True, 1.5]}]))
        assert back == [value, shared, {1: None, (2, 3): [True, 1.5]}] and back[0].later == 5
        assert back[0].parts is back[1]  # one object written once, read back as one
        text = codec.encode(value)

        @dataclasses.dataclass(frozen=True)
        class Record2:  # the same name, other fields: a stale entry
            name: str

        Record2.__module__, Record2.__qualname__ = module.__name__, "Record"
        module.Record = Record2  # type: ignore[attr-defined]
        with pytest.raises(codec.Malformed):
            codec.decode(text)
    finally:
        del sys.modules[module.__name__]
    with pytest.raises(codec.Unencodable):
        codec.encode(object())


def test_a_cached_model_is_not_checked_again(cache: Path) -> None:
    """The model files' shapes (spec/shape.py, with jsonschema) are checked when the model is loaded afresh; with the
    model from the cache, not again."""
    import subprocess
    import sys

    code = ("import sys; from trackproof.cli import main; "
            "rc = main(['diff', 'server_side_sync', 'server_side_sync', '-o', sys.argv[1]]); assert rc == 0, rc; "
            "print('jsonschema' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", code, str(cache.parent / f"out{i}")], capture_output=True, text=True,
                           check=True) for i in range(2)]
    assert [r.stdout.strip() for r in runs] == ["True", "False"]  # afresh: checked; from the cache: not again
