"""Print the requirements that a Dockerfile's `pip install` commands name, one per line, so
`scripts/install_gpu.sh --resolve` resolves them with the train extra (CI: every pip line of
docker/Dockerfile resolves against PyPI).

    python3 tools/dockerfile_requirements.py docker/Dockerfile

Reads RUN instructions (backslash continuations joined, `&&`/`;`-separated commands); in each
`pip install` command, every argument that is not an option is a requirement. Exit 2, naming the
line, for what the resolve check could not cover: an unpinned requirement (every one needs
`==`), a requirements file (`-r`), a path or URL. Standard library only.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

__all__ = ["DockerfileError", "pip_requirements"]

# pip install options that take a value (the value is not a requirement).
_VALUED = {"-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links",
           "-t", "--target", "--prefix", "--root", "--cache-dir", "--python-version", "--platform",
           "--only-binary", "--no-binary", "--progress-bar", "--report", "--upgrade-strategy"}  # fmt: skip
_PINNED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!*-]+")


class DockerfileError(ValueError):
    """A pip line the resolve check cannot cover."""


def _run_commands(text: str) -> list[tuple[int, str]]:
    """(first line number, shell text) of each RUN instruction, continuations joined."""
    out, current, start = [], None, 0
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if current is None:
            if not stripped.upper().startswith("RUN "):
                continue
            current, start = stripped[4:], n
        elif stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        else:
            current += " " + stripped
        if current.endswith("\\"):
            current = current[:-1]
            continue
        out.append((start, current))
        current = None
    return out


def pip_requirements(text: str) -> list[str]:
    """The requirements of every `pip install` in the Dockerfile's RUN instructions. Raises
    DockerfileError for one that cannot be resolved from PyPI by name and pinned version."""
    found: list[str] = []
    for n, run in _run_commands(text):
        run = re.sub(r"^--mount=\S+\s+", "", run)
        for command in re.split(r"&&|;|\|\|", run):
            words = shlex.split(command)
            for i in range(len(words) - 1):
                if words[i] == "pip" or words[i].endswith("/pip") or words[i : i + 2] == ["-m", "pip"]:
                    rest = words[i + 2 :] if words[i] == "-m" else words[i + 1 :]
                    if rest[:1] == ["install"]:
                        found += _requirements(rest[1:], n)
                    break
    return found


def _requirements(args: list[str], line: int) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("-r", "--requirement", "-e", "--editable"):
            raise DockerfileError(f"line {line}: pip install {arg}: list the requirements on the line")
        if arg.startswith("-"):
            skip = arg in _VALUED
            continue
        if not _PINNED.fullmatch(arg):
            raise DockerfileError(f"line {line}: {arg!r} is not NAME==VERSION (pin what a pip line installs)")
        out.append(arg)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: dockerfile_requirements.py DOCKERFILE", file=sys.stderr)
        return 2
    try:
        requirements = pip_requirements(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, DockerfileError) as exc:
        print(f"dockerfile_requirements.py: {argv[0]}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(requirements))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
