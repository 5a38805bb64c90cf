"""pyproject.toml: an SPDX licence string, a bounded build backend, the test extra's torch pair and
the docs extra pinned."""

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


def test_tests_pin_one_matching_torch_pair():
    # torchvision 0.N is built for torch 2.(N - 15): 0.28 for 2.13, 0.29 for 2.14. Bumping one pin
    # without the other gives a pair pip installs and Python cannot load.
    extras = PYPROJECT["project"]["optional-dependencies"]
    pins = {r.split("==")[0]: r.split("==")[1] for r in extras["test"] if "==" in r}
    torch_minor = int(pins["torch"].split(".")[1])
    vision = pins["torchvision"].split(".")
    assert pins["torch"].startswith("2.") and vision[0] == "0", pins
    assert int(vision[1]) == torch_minor + 15, pins
    assert any(r.startswith("mkdocs==") for r in extras["docs"])
