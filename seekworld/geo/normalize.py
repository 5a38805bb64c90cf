"""Text normalisation for place names: one function used for table keys and for answers alike.

normalize("  Baden-Württemberg ") == "baden wurttemberg"
key("中國，廣東省") == "中国广东省"

Steps (order matters; see tests/geo/test_normalize.py for the properties):
the canonical reading (seekworld.text.canonical.read: NFKC, full-width -> ASCII, invisible
characters removed) -> Traditional/Japanese -> Simplified Chinese -> casefold -> accents stripped
on Latin/Greek/Cyrillic letters only (stripping on kana would break Japanese) -> look-alike
letters folded (canonical.fold: a Cyrillic а is an a) and apostrophes dropped -> other
punctuation and symbols -> space -> spaces collapsed.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

from seekworld.geo.cache import byte_bounded_cache
from seekworld.text import canonical

__all__ = ["ASTRAL", "bmp_class", "key", "normalize", "strip_type_words"]

# Letters with no Unicode decomposition that speakers still write without the mark.
_LETTER_FOLDS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "ŀ": "l"}
)
_APOSTROPHES = str.maketrans({c: None for c in "'’‘ʼ`´ʻ"})
_FOLD_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    raw = resources.files("seekworld.geo").joinpath("data/t2s.json.gz").read_bytes()
    mapping = json.loads(gzip.decompress(raw))["map"]
    return {ord(k): v for k, v in mapping.items()}


def _sub_pattern(
    mapping: dict[int, str | None],
) -> tuple[re.Pattern[str], dict[str, str], dict[int, str | None]]:
    """`text.translate(mapping)` as a regex substitution: `translate` looks up every character of a
    non-ASCII string in the dict; the regex (a bitmap over the Basic Multilingual Plane) visits only
    the characters that change. Text with characters past U+FFFF uses `translate`."""
    body = "".join(f"\\u{c:04x}" for c in sorted(mapping) if c < 0x10000)
    return re.compile(f"[{body}]"), {chr(c): v or "" for c, v in mapping.items()}, mapping


@lru_cache(maxsize=1)
def _t2s_sub() -> tuple[re.Pattern[str], dict[str, str], dict[int, str | None]]:
    return _sub_pattern(dict(_t2s_table()))


@lru_cache(maxsize=1)
def _folds_sub() -> tuple[re.Pattern[str], dict[str, str], dict[int, str | None]]:
    return _sub_pattern({**canonical.fold_table(), **_LETTER_FOLDS, **_APOSTROPHES})


def _translate(
    text: str, sub: tuple[re.Pattern[str], dict[str, str], dict[int, str | None]], astral: bool
) -> str:
    pattern, table, mapping = sub
    if astral:
        return text.translate(mapping)
    return pattern.sub(lambda m: table[m[0]], text) if pattern.search(text) else text


def _is_separator(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PSZC"


# ASCII fast path: most answers are plain ASCII.
_ASCII_SEP = re.compile(r"[^a-z0-9]+")


def _strip_marks_slow(text: str) -> str:
    out: list[str] = []
    drop_marks = True
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if drop_marks:
                continue
        else:
            drop_marks = _is_separator(ch) or unicodedata.name(ch, "").startswith(_FOLD_SCRIPTS)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def bmp_class(
    test: Callable[[str], bool], runs: bool = True, start: int = 0, astral: bool = False
) -> re.Pattern[str]:
    """A regex matching characters of the Basic Multilingual Plane (from `start`) for which `test`
    holds: runs of them, or one at a time (`runs=False`, which lets `re` skip through text between
    matches with the class's bitmap). `re` checks such a class with a bitmap; classes reaching past
    U+FFFF are checked range by range, so `astral=True` only adds every character past U+FFFF as
    one range, for the caller to sort out."""
    ranges: list[list[int]] = []
    for cp in range(start, 0x10000):
        if test(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    body = "".join(f"\\u{a:04x}" + (f"-\\u{b:04x}" if b > a else "") for a, b in ranges)
    if astral:
        body += "\\U00010000-\\U0010ffff"
    return re.compile(f"[{body}]" + ("+" if runs else ""))


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    return bmp_class(unicodedata.combining), bmp_class(_is_separator)


ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # a character past U+FFFF


def _strip_marks(text: str, astral: bool) -> str:
    """Drop combining marks that follow a Latin/Greek/Cyrillic letter, or no letter at all (a mark
    after a space or punctuation means nothing); keep the rest (kana dakuten, Indic vowel signs).

    Only the runs of marks are visited (a regex finds them); text beyond U+FFFF takes the
    character-by-character path."""
    if astral:
        return _strip_marks_slow(text)
    nfd = unicodedata.normalize("NFD", text)
    out: list[str] = []
    last = 0
    for run in _patterns()[0].finditer(nfd):
        at = run.start()
        base = nfd[at - 1] if at else " "
        if _is_separator(base) or unicodedata.name(base, "").startswith(_FOLD_SCRIPTS):
            out.append(nfd[last:at])
            last = run.end()
    if not out:
        return unicodedata.normalize("NFC", nfd)
    out.append(nfd[last:])
    return unicodedata.normalize("NFC", "".join(out))


def _separators_to_spaces(text: str, astral: bool) -> str:
    if astral:
        return "".join(" " if _is_separator(ch) else ch for ch in text)
    return _patterns()[1].sub(" ", text)


# Answers are capped at a few hundred characters; longer texts (labels, prose) are not cached.
@byte_bounded_cache(max_bytes=16 << 20, max_key_chars=320, value_size=sys.getsizeof)
def normalize(text: str) -> str:
    """Normalise a place name or answer fragment to lower-case words separated by single spaces."""
    if text.isascii():
        text = text.lower().replace("'", "").replace("`", "").replace("&", " and ")
        return " ".join(_ASCII_SEP.sub(" ", text).split())
    text = canonical.read(text)
    astral = ASTRAL.search(text) is not None
    text = _translate(text, _t2s_sub(), astral).casefold()
    astral = astral or ASTRAL.search(text) is not None  # a simplified form past U+FFFF
    text = _translate(_strip_marks(text, astral), _folds_sub(), astral)
    # casefold and mark stripping can leave forms that NFKC or casefold would change again;
    # one more round of each makes the function idempotent.
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _separators_to_spaces(text.replace("&", " and "), astral)
    return " ".join(text.split())


def key(text: str) -> str:
    """Lookup key: the normalised text without spaces ("New  York" and "NewYork" agree)."""
    return normalize(text).replace(" ", "")


# --- type words (second pass only) -------------------------------------------------------------

# Words naming the kind of region, stripped at either end of a normalised name. The last row: the
# type words CLDR 41's region names carry in Nepali, Amharic, Armenian, Georgian, Sinhala, Tamil,
# Bengali, Khmer and Lao, and Mongolian аймаг/хот (marks stripped as normalize() strips them; the
# look-alike fold is applied in `_type_words`).
_TYPE_WORD_LIST = """
    province provinces provincia provincie provinz provincial prov pref
    state states estado etat stato staat
    region regions regione regiao regio rajon
    prefecture prefectures prefektur
    oblast oblasti krai kray okrug autonomous autonomy avtonomnyy avtonomnaya
    county comte condado contea grafschaft
    voivodeship wojewodztwo vojvodina
    canton kanton cantone
    land bundesland department departement departamento
    governorate muhafazah wilayah vilayet wilaya
    territory territories municipality municipio municipal metropolitan metropolis
    special administrative sar
    shi sheng zizhiqu tebie xingzhengqu
    to fu ken do teukbyeolsi gwangyeoksi teukbyeoljachisi teukbyeoljachido
    emirate community comunidad comunitat communaute autonoma
    district capital city federal freistaat
    kraj zupanija megye judet judetul lan fylke maakunta amt oblys il
    область краи республика округ автономныи автономная автономнои
    περιφερεια νομος
    محافظة ولاية منطقة إقليم اقليم مقاطعة جهة إمارة امارة استان
    מחוז
    प्रदेश अञ्चल क्षेत्र ክልል մարզ მხარე පළාත மாகாணம் மாநிலம் বিভাগ аимаг хот ខេត្ត ແຂວງ
    """.split()


@lru_cache(maxsize=1)
def _type_words() -> frozenset[str]:
    return frozenset(canonical.fold(word) for word in _TYPE_WORD_LIST)


# Type words written before the name without a space (Thai จังหวัด, Khmer ខេត្ត, Lao ແຂວງ:
# "province"), applied to the key.
_UNSPACED_PREFIXES = ("จังหวัด", "ខេត្ត", "ແຂວງ")
# Connectors left dangling after a leading type word: "state of", "provincia di", "comunidad de".
_CONNECTORS = frozenset("of de di del della do da du des la le el the".split())

# CJK type suffixes, longest first. Applied to the key (no spaces), once.
_CJK_SUFFIXES = tuple(
    sorted(
        """
        特别行政区 维吾尔自治区 壮族自治区 回族自治区 自治区 自治共和国 共和国 边疆区 自治州 自治市
        特别市 广域市 特别自治市 特别自治道 大区 地区 行政区 省 市 州 府 都 道 县 邦 区
        특별자치시 특별자치도 특별시 광역시 자치구 도 주 성 부 현 시
        """.split(),
        key=len,
        reverse=True,
    )
)


@byte_bounded_cache(max_bytes=8 << 20, max_key_chars=320, value_size=sys.getsizeof)
def strip_type_words(normalized: str) -> str:
    """Remove region-type words from a normalised name: 'sichuan sheng' -> 'sichuan',
    'state of mexico' -> 'mexico', '广东省' -> '广东'. Returns the key form (no spaces).

    Never strips a name down to nothing or to one character.
    """
    words = normalized.split()
    type_words = _type_words()
    while len(words) > 1 and words[-1] in type_words:
        words.pop()
    while len(words) > 1 and (words[0] in type_words or words[0] in _CONNECTORS):
        words.pop(0)
    # A connector can only stand before the name after a type word was taken away.
    while len(words) > 1 and words[-1] in _CONNECTORS:
        words.pop()
    joined = "".join(words)
    for prefix in _UNSPACED_PREFIXES:
        if joined.startswith(prefix) and len(joined) - len(prefix) >= 2:
            joined = joined[len(prefix) :]
    for suffix in _CJK_SUFFIXES:
        if joined.endswith(suffix) and len(joined) - len(suffix) >= 2:
            return joined[: -len(suffix)]
    return joined
