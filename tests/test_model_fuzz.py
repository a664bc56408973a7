"""Every value of every shipped model file turned into other YAML types (and every key removed): the model loads, or
it is refused with a code; it never crashes (issue 11: about 30 such crash sites before the model files' shapes were
checked, spec/model_schema.yaml). In-process for speed: each place of each file once, with one of the mutations in
turn; TRACKPROOF_FUZZ=all tries every mutation at every place (about 3,000 loads, a few minutes). A model that
loads also plays a scenario, where a value of the wrong type would show too."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from trackproof.errors import TrackproofError
from trackproof.simulate.engine import simulate
from trackproof.spec.loader import load_model
from trackproof.spec.scenario import load_scenario

from .hostile import ROOT, SCENARIO, assert_refused, trackproof

MODEL = ROOT / "model"
FILES = ["vocabulary.yaml", "lifecycle.yaml", "definitions.yaml", "sources.yaml", "rulebook.yaml",
         *(f"machines/{p.name}" for p in sorted((MODEL / "machines").glob("*.yaml")))]
#: Mappings whose keys are names (of settings, states, definitions...): one of their entries stands for all.
REGISTRIES = {"definitions", "states", "types", "org", "mailbox", "party", "copy", "email", "event", "scope",
              "triggers", "actions", "sources", "rules", "participants", "side_destinations"}
REMOVED = object()
MUTATIONS: list[Any] = [None, 7, "zz", True, [], ["zz"], {}, {"zz": 1}, 1.5, [{"a": 1}], REMOVED]


def _places(doc: Any, path: tuple[Any, ...] = (), shape: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Each place in `doc` whose shape (the path with list items and registry entries as one) is new."""
    seen: set[tuple[Any, ...]] = set()
    stack = [(doc, path, shape)]
    while stack:
        value, where, form = stack.pop(0)
        if form in seen:
            continue
        seen.add(form)
        yield where
        if isinstance(value, dict):
            for key, item in value.items():
                one = len(where) == 1 and where[0] in REGISTRIES
                stack.append((item, (*where, key), (*form, "*" if one else key)))
        elif isinstance(value, list):
            stack += [(item, (*where, i), (*form, "#")) for i, item in enumerate(value)]


def _mutated(doc: Any, where: tuple[Any, ...], value: Any) -> Any:
    if not where:
        return {} if value is REMOVED else value
    out = copy.deepcopy(doc)
    parent = out
    for step in where[:-1]:
        parent = parent[step]
    if value is REMOVED:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    return out


def _cases() -> list[tuple[str, tuple[Any, ...], int]]:
    every = os.environ.get("TRACKPROOF_FUZZ") == "all"
    cases, turn = [], 0
    for name in FILES:
        doc = yaml.safe_load((MODEL / name).read_text(encoding="utf-8"))
        for where in _places(doc):
            chosen = range(len(MUTATIONS)) if every else [turn % len(MUTATIONS)]
            cases += [(name, where, m) for m in chosen if where or MUTATIONS[m] is not REMOVED]
            turn += 1
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "model"
    shutil.copytree(MODEL, folder)
    return folder


def test_the_fuzzer_reaches_every_file_and_many_places() -> None:
    assert {name for name, _, _ in CASES} == set(FILES)
    assert len(CASES) > 200


@pytest.mark.parametrize("chunk", range(8))
def test_every_mutation_of_a_model_file_loads_or_is_refused_with_a_code(model_folder: Path, chunk: int) -> None:
    crashes = []
    for name, where, m in CASES[chunk::8]:
        original = (MODEL / name).read_text(encoding="utf-8")
        doc = yaml.safe_load(original)
        (model_folder / name).write_text(yaml.safe_dump(_mutated(doc, where, MUTATIONS[m]), sort_keys=False),
                                         encoding="utf-8")
        try:
            model = load_model(model_folder)
            simulate(model, load_scenario(SCENARIO, model))
        except TrackproofError:
            pass
        except Exception as exc:  # noqa: BLE001 - the finding: a crash instead of an error with a code
            crashes.append(f"{name} {where} -> {MUTATIONS[m]!r}: {type(exc).__name__}: {exc}")
        finally:
            (model_folder / name).write_text(original, encoding="utf-8")
    assert crashes == []


@pytest.mark.parametrize(("name", "before", "after", "code"), [
    ("sources.yaml", None, "", "E105"),  # an empty sources.yaml
    ("machines/none.yaml", "    trigger: send\n", "    trigger: []\n", "E104"),
    ("definitions.yaml", "    confidence: H\n", "    confidence: [H]\n", "E104"),
    ("lifecycle.yaml", None, "initial: composed\nstates: 7\n", "E104"),
    ("vocabulary.yaml", "{type: bool, default: true, rules: [R41, R43]",
     "{type: [bool], default: true, rules: [R41, R43]", "E104"),
    ("rulebook.yaml", None, "rules:\n  R1: {}\n", "E105"),
    ("machines/forward_mailbox.yaml", "    priority: 1\n", "    priority: one\n", "E104"),
    ("lifecycle.yaml", "  composed: {side: both,", "  composed: {sides: both,", "E106"),
])
def test_the_crashes_issue_11_names_are_errors_with_a_code(tmp_path: Path, name: str, before: str | None,
                                                           after: str, code: str) -> None:
    folder = tmp_path / "model"
    shutil.copytree(MODEL, folder)
    text = (folder / name).read_text(encoding="utf-8")
    assert before is None or before in text
    (folder / name).write_text(after if before is None else text.replace(before, after, 1), encoding="utf-8")
    assert_refused(trackproof(["validate", "--model-dir", str(folder)], tmp_path), code, where=str(folder / name))
