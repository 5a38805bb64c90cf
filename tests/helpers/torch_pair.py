"""The suite's one-line stop for a torch / torchvision pair that cannot load together.

torchvision's compiled operators are built for one torch build. A machine whose pip offers a local
torch build (a CPU-only wheel in its find-links, say) beside PyPI's torchvision gets a pair whose
versions match and whose binaries do not: `import torchvision` then raises "operator
torchvision::nms does not exist", and every test that touches a processor fails with it. The
conftest turns the first such failure into one line naming the installed pair and the fix.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["is_pair_error", "pair_message", "pinned_pair"]

_SIGNATURE = re.compile(r"operator torchvision::\w+ does not exist")


def is_pair_error(text: str) -> bool:
    """True when a failure's text is torchvision's operators failing to load beside torch."""
    return _SIGNATURE.search(text) is not None


def pinned_pair(pyproject: Path) -> tuple[str, str]:
    """The `torch==X` and `torchvision==Y` requirements of the test extra."""
    extras = tomllib.loads(pyproject.read_text("utf-8"))["project"]["optional-dependencies"]["test"]
    pins = {r.split("==")[0]: r for r in extras if r.startswith(("torch==", "torchvision=="))}
    return pins["torch"], pins["torchvision"]


def _installed(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def pair_message(pyproject: Path) -> str:
    """One line: what is installed, why it fails, and the install command that fixes it."""
    torch_pin, vision_pin = pinned_pair(pyproject)
    return (
        f"torchvision {_installed('torchvision')} cannot load its operators beside torch "
        f"{_installed('torch')} (built for another torch build); install the pair the test extra pins, "
        f"both from the same index: pip install --force-reinstall '{torch_pin}' '{vision_pin}' "
        "(a local CPU-only torch in pip's find-links needs its torchvision from the same place)"
    )
