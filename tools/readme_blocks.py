"""Print the shell code of a README section's ```bash blocks, so CI runs them literally.

    python3 tools/readme_blocks.py README.md Quickstart          # bash to stdout
    source <(python3 tools/readme_blocks.py README.md Quickstart)  # what .ci/run does

A section is everything under a `## ` heading that starts with the given word(s) ("Quickstart"
matches "## Quickstart (CPU, sample data)"), up to the next `## ` heading. Its bash blocks are
emitted in order, unchanged, except:
- each section starts outside any virtual environment, as a reader's new terminal would;
- a command whose last line ends in `# gpu` needs a GPU: it is printed as a comment, not run;
- a command sent to the background (`cmd &`) is stopped, by its PID, when the section ends.

Standard library only: CI runs this before anything is installed.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

__all__ = ["GPU_MARK", "ReadmeError", "commands", "section_blocks", "to_script"]

GPU_MARK = "# gpu"
_FENCE = re.compile(r"^```(\w*)\s*$")


class ReadmeError(ValueError):
    """The README lacks the section, or the section has no bash block."""


def section_blocks(markdown: str, heading: str) -> list[str]:
    """The ```bash (or ```sh / ```shell) blocks under the `## heading...` section, in order."""
    lines = markdown.splitlines()
    headings = (i for i, line in enumerate(lines) if line.startswith("## "))
    start = next((i for i in headings if lines[i][3:].strip().startswith(heading)), None)
    if start is None:
        raise ReadmeError(f"no '## {heading}' section")
    blocks: list[str] = []
    current: list[str] | None = None
    keep = False
    for line in lines[start + 1 :]:
        if current is None and line.startswith("## "):
            break
        fence = _FENCE.match(line)
        if fence and current is None:
            current, keep = [], fence.group(1) in ("bash", "sh", "shell")
        elif line.strip() == "```" and current is not None:
            if keep:
                blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    if not blocks:
        raise ReadmeError(f"section '## {heading}' has no ```bash block")
    return blocks


def commands(block: str) -> list[str]:
    """Split a block into logical commands (a trailing backslash continues a line)."""
    out: list[str] = []
    pending: list[str] = []
    for line in block.splitlines():
        pending.append(line)
        if not line.rstrip().endswith("\\"):
            out.append("\n".join(pending))
            pending = []
    if pending:
        out.append("\n".join(pending))
    return [c for c in out if c.strip()]


def _is_gpu(command: str) -> bool:
    return command.rstrip().endswith(GPU_MARK)


def _is_background(command: str) -> bool:
    code = command.split(" #", 1)[0].rstrip() if " #" in command else command.rstrip()
    return code.endswith("&") and not code.endswith("&&")


def to_script(markdown: str, heading: str) -> str:
    """Bash for one section: meant to be sourced (a venv it activates stays active)."""
    out = [f"# ---- README section: {heading}"]
    for block in section_blocks(markdown, heading):
        for command in commands(block):
            if command.lstrip().startswith("#"):
                continue
            if _is_gpu(command):
                out.append("# skipped (needs a GPU): " + command.replace("\n", "\n# "))
                continue
            out.append(f"echo {shlex.quote('+ ' + command.splitlines()[0])}")
            out.append(command)
            if _is_background(command):
                out.append("_readme_bg+=($!)")
    # Stop what the section sent to the background, by PID (only those).
    out.append('for _pid in "${_readme_bg[@]}"; do kill "$_pid" 2>/dev/null || true; done; _readme_bg=()')
    start = "_readme_bg=()\nif declare -F deactivate >/dev/null; then deactivate; fi  # a new terminal\n"
    return start + "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: readme_blocks.py README.md SECTION [SECTION ...]", file=sys.stderr)
        return 2
    markdown = Path(args[0]).read_text(encoding="utf-8")
    try:
        print("".join(to_script(markdown, heading) for heading in args[1:]), end="")
    except ReadmeError as exc:
        print(f"readme_blocks.py: {args[0]}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
