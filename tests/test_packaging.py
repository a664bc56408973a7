"""A plain (not editable) install works outside the checkout: the wheel carries model/, proofs/ and examples/."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import ROOT


def test_wheel_carries_the_model_the_claims_and_the_examples(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("trackproof-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("trackproof/model/vocabulary.yaml", "trackproof/model/machines/server_side_sync.yaml",
                 "trackproof/proofs/forum-claims.yaml", "trackproof/proofs/invariants.yaml",
                 "trackproof/examples/sss-send-from-crm.yaml", "trackproof/py.typed", "trackproof/cli/__init__.py"):
        assert path in names, path
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "trackproof = trackproof.cli:entry" in zipfile.ZipFile(wheel).read(entry).decode()
