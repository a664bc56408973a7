"""Settings files: a YAML file whose `settings: {org: {...}}` gives organisation settings (what it leaves out is at
the documented default). `diff` and `diagrams --compare` read them; a scenario file is a settings file too."""

from __future__ import annotations

from typing import Any

from ..errors import Loc
from .ir import Model
from .scenario import parse_settings
from .yamlsrc import Mapping, check_keys, expect_mapping, load_file


def load_settings_file(model: Model, path: str) -> dict[str, Any]:
    """The organisation settings of a settings file (or of a scenario file), validated like a scenario's."""
    doc = expect_mapping(load_file(path), Loc(path, 1, 1), "a settings file")
    check_keys(doc, {"name", "description", "settings", "participants", "events", "expect"}, {"settings"},
               "a settings file")
    settings = expect_mapping(doc["settings"], doc.locs["settings"], "settings")
    check_keys(settings, {"org"}, set(), "settings")
    if "org" not in settings or settings["org"] is None:
        return {}
    org = expect_mapping(settings["org"], settings.locs["org"], "org settings")
    return parse_settings(model, org if isinstance(org, Mapping) else Mapping(), ("org",), "the organisation")
