"""Where users already work: the shipped files validate against the JSON Schemas `trackproof schema` generates
(and the committed ones are fresh); SARIF validates against the official SARIF 2.1.0 schema and JUnit XML against
Jenkins' JUnit XSD (both vendored in tests/schemas/, see its README)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from trackproof.cli.schema import texts

from .conftest import ROOT, cli

SCHEMAS = ROOT / "schemas"
VENDORED = ROOT / "tests" / "schemas"
DIGESTS = {"sarif-schema-2.1.0.json": "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e",
           "junit-10.xsd": "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"}
SHIPPED = {"scenario": sorted((ROOT / "examples").glob("*.yaml")),
           "settings": sorted((ROOT / "examples" / "settings").glob("*.yaml")),
           "claims": sorted((ROOT / "proofs").glob("*.yaml"))}


def _schema(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return loaded


def _errors(kind: str, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft7Validator(_schema(kind)).iter_errors(doc)]


def test_committed_schemas_are_fresh() -> None:
    for name, text in texts(None).items():
        assert (SCHEMAS / name).read_text(encoding="utf-8") == text, f"schemas/{name} is stale: run trackproof schema"
        jsonschema.Draft7Validator.check_schema(json.loads(text))


@pytest.mark.parametrize(("kind", "path"), [(k, p) for k, paths in SHIPPED.items() for p in paths],
                         ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_shipped_file_is_valid_and_names_its_schema(kind: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), f"{path}: no schema comment on its first line"
    target = (path.parent / first.split("=", 1)[1]).resolve()
    assert target == (SCHEMAS / f"{kind}.schema.json").resolve(), f"{path} names {target}"
    assert _errors(kind, yaml.safe_load(text)) == []


SCENARIO = {"participants": {"X": {"kind": "user", "filter": "all"}, "C": {"kind": "contact"}},
            "events": [{"send": {"id": "E1", "from": "C", "to": ["X"]}}, "sync"],
            "expect": {"E1": {"stored": True}}}


@pytest.mark.parametrize(("change", "why"), [
    (lambda d: d["participants"]["X"].update(filtr="all"), "a misspelt setting"),
    (lambda d: d["participants"]["X"].update(filter="everything"), "a value the setting does not take"),
    (lambda d: d["participants"]["C"].update(filter="all"), "a mailbox setting on a contact"),
    (lambda d: d.update(settings={"org": {"use_corelation": True}}), "a misspelt organisation setting"),
    (lambda d: d["events"].append("snyc"), "an unknown event"),
    (lambda d: d["events"].append({"send": {"id": "E2", "from": "X", "too": ["C"]}}), "an unknown parameter"),
    (lambda d: d["expect"]["E1"].update(store=True), "an unknown outcome field"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_the_schema_flags_what_the_loader_refuses(change: Any, why: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert _errors("scenario", SCENARIO) == []
    doc = copy.deepcopy(SCENARIO)
    change(doc)
    assert _errors("scenario", doc), why
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert cli(capsys, "run", str(path))[0] == 2, why  # the loader agrees


def test_settings_are_described_as_dynamics_names_them() -> None:
    org = _schema("scenario")["properties"]["settings"]["properties"]["org"]["oneOf"][1]["properties"]
    assert org["use_correlation"]["description"].startswith("“Use correlation to track email conversations”")
    assert "Settings > Email > Tracking" in org["use_correlation"]["description"]
    participant = _schema("scenario")["properties"]["participants"]["additionalProperties"]["oneOf"][1]
    assert participant["properties"]["filter"]["enum"][0] == "all"
    assert "All email messages" in participant["properties"]["filter"]["description"]


def test_vendored_schemas_are_the_published_ones() -> None:
    for name, digest in DIGESTS.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name


@pytest.fixture(scope="module")
def forum_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from trackproof.cli import main

    out = tmp_path_factory.mktemp("formats")
    found = {}
    for fmt in ("sarif", "junit"):
        target = out / f"check.{fmt}"
        assert main(["check", str(ROOT / "proofs" / "forum-claims.yaml"), "--model", "--format", fmt, "--exit-zero",
                     "-o", str(target)]) == 0
        found[fmt] = target.read_text(encoding="utf-8")
    return found


def test_sarif_is_valid_sarif_2_1_0(forum_outputs: dict[str, str]) -> None:
    official = json.loads((VENDORED / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    doc = json.loads(forum_outputs["sarif"])
    validator = jsonschema.Draft4Validator(official, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(doc)] == []
    assert doc["runs"][0]["results"], "the forum claims have violated ones: results expected"
    broken = copy.deepcopy(doc)
    broken["runs"][0]["results"][0]["level"] = "fatal"  # the schema is not blind
    assert list(validator.iter_errors(broken))


def test_junit_is_valid_against_the_xsd(forum_outputs: dict[str, str]) -> None:
    import xmlschema

    xsd = xmlschema.XMLSchema10(str(VENDORED / "junit-10.xsd"))
    xsd.validate(forum_outputs["junit"])
    assert "<failure" in forum_outputs["junit"]
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xsd.validate(forum_outputs["junit"].replace("<testcase ", "<testcase bogus=\"1\" ", 1))


def test_the_pre_commit_hooks_run_trackproof_commands() -> None:
    from trackproof.cli import COMMANDS

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"trackproof-check", "trackproof-validate"}
    for h in hooks:
        assert {"id", "name", "entry", "language"} <= set(h) and h["language"] == "python"
        program, command = h["entry"].split()[:2]
        assert program == "trackproof" and command in COMMANDS


def test_the_ci_example_is_a_workflow_of_valid_commands() -> None:
    import shlex

    from trackproof.cli import _parser

    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])
    steps = workflow["jobs"]["check"]["steps"]
    runs = [part.strip() for s in steps if "run" in s for part in s["run"].split("&&")]
    commands = [shlex.split(r) for r in runs if r.startswith("trackproof ")]
    assert [c[1] for c in commands] == ["check", "check", "report"]
    for argv in commands:
        _parser(argv[1]).parse_args(argv[1:])  # exits (SystemExit) on an option trackproof does not have
    assert any("upload-sarif" in s.get("uses", "") for s in steps)
