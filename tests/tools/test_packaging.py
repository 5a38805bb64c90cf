"""pyproject.toml: an SPDX licence string, a bounded build backend, the docs extra pinned."""

from __future__ import annotations

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text("utf-8"))


def test_license_is_an_spdx_string_and_the_backend_is_bounded():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"  # a table is deprecated by setuptools
    (setuptools,) = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert re.fullmatch(r"setuptools>=(\d+),<(\d+)", setuptools), setuptools
    assert int(setuptools.split(">=")[1].split(",")[0]) >= 77  # SPDX strings need setuptools 77


def test_tests_run_the_torch_training_uses():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "torch==2.13.0" in extras["test"] and "torchvision==0.28.0" in extras["test"]
    assert any(r.startswith("mkdocs==") for r in extras["docs"])
