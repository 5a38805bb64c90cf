"""Checks of the gazetteer's region keys that the build runs over every country (not a list of cases).

Used by tools/build_gazetteer.py, after the keys are built from the sources:

- shared part-names: a key that is a part (a run of whole words) of the names of several regions
  names none of them: "Kordofan" is part of North, South and West Kordofan, and one source giving
  it to South Kordofan must not pay "Sudan, Kordofan" against that label. Such a key becomes
  ambiguous over every region whose names hold it, unless a major source gives it as its own
  region's whole name, with or without its type words ("Virginia" stays Virginia although it is
  part of "West Virginia", 萨克森 stays Saxony although it is part of 下萨克森, and دمشق stays
  Damascus, from محافظة دمشق, although it is part of ريف دمشق).
- type-stripped keys that are another place: stripping type words must not turn a region's name
  into a country's name ("Capital Region of Denmark" -> "Denmark"), a city of another region, or a
  generic word that region names in six or more countries hold ("Central Region" -> "central").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

GENERIC_MIN_COUNTRIES = 6


def word_runs(words: list[str]) -> Iterable[str]:
    """Keys (no spaces) of the contiguous runs of words shorter than the whole name."""
    n = len(words)
    for length in range(1, n):
        for start in range(n - length + 1):
            yield "".join(words[start : start + length])


def shared_part_names(
    names: Iterable[tuple[str, str]],
    keys: dict[str, str],
    own_primary: dict[str, set[str]],
    normalize: Callable[[str], str],
) -> dict[str, list[str]]:
    """Keys of `keys` (key -> region) that are a part of the names of two or more regions, or of
    one region other than the key's own: key -> every region concerned. `names` are (region, name)
    pairs in any language; `own_primary` lists per region the keys of its names from the hand
    aliases, ISO codes and the primary and major sources, which are never taken away."""
    holders: dict[str, set[str]] = defaultdict(set)
    for region, name in names:
        for run in set(word_runs(normalize(name).split())):
            holders[run].add(region)
    out = {}
    for k, region in keys.items():
        found = holders.get(k)
        if not found or k in own_primary.get(region, ()):
            continue
        concerned = found | {region}
        if len(concerned) >= 2:
            out[k] = sorted(concerned)
    return out


def generic_words(names_by_country: dict[str, Iterable[str]], normalize: Callable[[str], str]) -> set[str]:
    """Words that region names in GENERIC_MIN_COUNTRIES or more countries hold ("central",
    "north", "उत्तर"): as a stripped key they name a kind of place, not one place. (Fewer
    countries share proper names: Santa Cruz, Bolívar.)"""
    countries_of: dict[str, set[str]] = defaultdict(set)
    for cc, names in names_by_country.items():
        for name in names:
            for word in set(normalize(name).split()):
                countries_of[word].add(cc)
    return {w for w, ccs in countries_of.items() if len(ccs) >= GENERIC_MIN_COUNTRIES}


def stripped_collisions(
    stripped: dict[str, str],
    country_keys: Iterable[str],
    city_keys: dict[str, str],
    generic: set[str],
    stats: Counter,
) -> dict[str, str]:
    """Type-stripped keys (key -> region) that name something else: key -> why. A city of the same
    region does not count (the city entry is dropped instead: "Quebec City" -> "quebec")."""
    countries = set(country_keys)
    out = {}
    for k, region in stripped.items():
        if k in countries:
            out[k] = "a country's name"
        elif k in city_keys and city_keys[k].split("|", 1)[0] != region:
            out[k] = "a city elsewhere in the country"
        elif k in generic:
            out[k] = "a generic word"
    for why in out.values():
        stats[f"stripped region keys dropped ({why})"] += 1
    return out
