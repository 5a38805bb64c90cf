"""The suite stops with one line when torchvision cannot load beside torch (tests/helpers/torch_pair).

The failing import is played by a test that raises torchvision's own error text; the conftest hook
under test is the repository's, run by a real pytest in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.torch_pair import is_pair_error, pinned_pair

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent

CONFTEST = f"""
import importlib.util
import sys

sys.path.insert(0, {str(TESTS)!r})
spec = importlib.util.spec_from_file_location("suite_conftest", {str(TESTS / "conftest.py")!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
pytest_exception_interact = suite.pytest_exception_interact  # the hook under test
"""


def _run(tmp_path: Path, error: str) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_inner.py").write_text(
        f"def test_first():\n    raise RuntimeError({error!r})\n\ndef test_second():\n    pass\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_pair_error_stops_the_run_with_the_pinned_fix(tmp_path):
    result = _run(tmp_path, "operator torchvision::nms does not exist")
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [ln for ln in result.stdout.splitlines() if "cannot load its operators" in ln]
    torch_pin, vision_pin = pinned_pair(REPO / "pyproject.toml")
    assert f"'{torch_pin}' '{vision_pin}'" in line
    assert "1 passed" not in result.stdout  # stopped at the first failure: test_second never ran


def test_another_runtime_error_is_an_ordinary_failure(tmp_path):
    result = _run(tmp_path, "operator aten::nms does not exist")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout and "cannot load its operators" not in result.stdout


def test_the_signature():
    assert is_pair_error("RuntimeError: operator torchvision::roi_align does not exist")
    assert not is_pair_error("operator torchvision::nms exists")
