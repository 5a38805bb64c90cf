"""tools/readme_blocks.py: the README's Quickstart and Tests blocks, as CI runs them."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("readme_blocks", REPO / "tools" / "readme_blocks.py")
rb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rb)

DOC = """# x
## Quickstart (CPU)
text
```bash
echo one > out.txt
echo two \\
    >> out.txt
sleep 30 &   # a server
echo $! > bg.pid
touch gpu-ran  # gpu
```
```json
{"not": "shell"}
```
## Tests
```bash
echo tests >> out.txt
```
"""


def run(script: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", 'set -euo pipefail; source "$0"', script], cwd=cwd, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def test_sections_run_in_order_gpu_lines_skipped_background_stopped(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text(rb.to_script(DOC, "Quickstart") + rb.to_script(DOC, "Tests"), encoding="utf-8")
    done = run(str(script), tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.txt").read_text().split() == ["one", "two", "tests"]
    assert not (tmp_path / "gpu-ran").exists()
    assert "# skipped (needs a GPU): touch gpu-ran  # gpu" in script.read_text()
    pid = int((tmp_path / "bg.pid").read_text())
    for _ in range(100):  # the section's background job was stopped by its PID
        if not os.path.exists(f"/proc/{pid}") or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the background command was left running")


def test_a_failing_command_fails_the_run(tmp_path):
    doc = "## Quickstart\n```bash\nfalse\necho after > after.txt\n```\n"
    script = tmp_path / "s.sh"
    script.write_text(rb.to_script(doc, "Quickstart"), encoding="utf-8")
    assert run(str(script), tmp_path).returncode != 0
    assert not (tmp_path / "after.txt").exists()


def test_a_missing_section_or_block_is_an_error():
    with pytest.raises(rb.ReadmeError, match="no '## Usage' section"):
        rb.section_blocks(DOC, "Usage")
    with pytest.raises(rb.ReadmeError, match="has no ```bash block"):
        rb.section_blocks("## Tests\nprose only\n", "Tests")
    assert rb.main(["README.md", "NoSuchSection"]) == 2


def test_the_readme_starts_both_sections_with_a_venv_and_ci_runs_them():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for section in ("Quickstart", "Tests"):
        first = rb.commands(rb.section_blocks(readme, section)[0])[0]
        assert first.startswith("python3 -m venv .venv && . .venv/bin/activate"), section
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "tools/readme_blocks.py README.md Quickstart" in ci
    assert "tools/readme_blocks.py README.md Tests" in ci


def test_ci_runs_the_blocks_with_nothing_the_readme_does_not_say():
    # An exported PIP_* variable (a constraints file, an emptied find-links) would make CI pass a
    # Tests block that fails for a reader on the same machine.
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    code = [line.split("#", 1)[0] for line in ci.splitlines()]
    assert not [line for line in code if re.search(r"\bexport\b|\bPIP_[A-Z_]+=", line)]
