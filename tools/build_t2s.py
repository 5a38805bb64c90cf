"""Build seekworld/geo/data/t2s.json.gz: a character map Traditional Chinese (and Japanese
shinjitai) -> Simplified Chinese, used by seekworld.geo.normalize.

Source (pinned): opencc-python-reimplemented==0.1.7 (Apache-2.0), files TSCharacters.txt and
JPVariants.txt. Character-level mapping is enough for place names and keeps the runtime free of
third-party imports.

    pip install opencc-python-reimplemented==0.1.7
    python tools/build_t2s.py
"""

from __future__ import annotations

import gzip
import json
from importlib.metadata import version
from pathlib import Path

PINNED = "0.1.7"
OUT = Path(__file__).resolve().parents[1] / "seekworld" / "geo" / "data" / "t2s.json.gz"


def _read(path: Path) -> dict[str, str]:
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        src, targets = line.split("\t", 1)
        # Several targets: OpenCC lists the usual one first.
        table[src] = targets.split()[0]
    return table


def build() -> dict[str, str]:
    import opencc

    found = version("opencc-python-reimplemented")
    if found != PINNED:
        raise SystemExit(f"opencc-python-reimplemented=={PINNED} is pinned; found {found}")
    folder = Path(opencc.__file__).parent / "dictionary"
    t2s = _read(folder / "TSCharacters.txt")
    # Japanese forms (県, 広, 沢) -> Traditional -> Simplified, so 広島県 and 廣島縣 and 广岛县 agree.
    for trad, jp in _read(folder / "JPVariants.txt").items():
        if jp not in t2s and jp != trad:
            simplified = t2s.get(trad, trad)
            if simplified != jp:
                t2s[jp] = simplified
    # Single characters only, never a character mapped to itself.
    return {k: v for k, v in sorted(t2s.items()) if len(k) == 1 and len(v) == 1 and k != v}


def main() -> None:
    table = build()
    payload = {"source": f"opencc-python-reimplemented=={PINNED}", "map": table}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as fh:
        fh.write(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    print(f"wrote {OUT} ({len(table)} characters)")


if __name__ == "__main__":
    main()
