"""Names in free text: which places the words of prose after an answer (or of an answer's extra
parts) may be. The answer parser (seekworld.geo.answer) calls `other_places`: a name there that
cannot be the answer's own place makes the answer a hedge (docs/accuracy-policy.md, rules 3 and 8).

    other_places(gaz, "US", "US-UT", "Maybe AZ.") == {"US-AZ"}
    other_places(gaz, "US", "US-ME", "near Portland") == set()   # a Portland lies in Maine
"""

from __future__ import annotations

import re

from seekworld.geo.gazetteer import Gazetteer
from seekworld.geo.normalize import normalize
from seekworld.text import canonical

__all__ = ["mentions", "names_any_place", "other_places"]


def _unspaced(word: str) -> bool:
    """A word of a script written without spaces (Han, kana, Hangul, Thai): names hide inside it."""
    ch = word[0]
    return "\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\u0e00" <= ch <= "\u0e7f"


_MAX_NAME_WORDS = 4
_MAX_NAME_CHARS = 8  # in unspaced scripts


def _words(text: str) -> tuple[list[str], list[bool], list[bool]]:
    """The normalised words of `text`, and for each whether the text wrote it capitalised (or in a
    script without case) and whether all in capitals ("AZ")."""
    if text.isascii():
        tokens = _ASCII_WORD.findall(text.replace("'", "").replace("`", "").replace("&", " and "))
        return (
            [t.lower() for t in tokens],
            [not t[0].islower() for t in tokens],
            [t.isupper() for t in tokens],
        )
    words: list[str] = []
    capital: list[bool] = []
    upper: list[bool] = []
    for token in text.split():
        first = next((ch for ch in token if ch.isalpha()), "")
        for word in normalize(token).split():
            words.append(word)
            capital.append(not first.islower())
            upper.append(token.isupper())
    return words, capital, upper


_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def mentions(gaz: Gazetteer, country_id: str, text: str) -> list[tuple[str, ...]]:
    """The places that names in free text may be, one tuple per name (whole words; substrings in
    unspaced scripts): a region or country (one ID), a city or a shared name (every region it may
    be). Linear in the text: at most 4-word and 8-character windows, the longest name at a word
    wins ("Panama City" is the city, not Panama; a continent's name names nothing). Latin keys
    shorter than 4 letters count only written in capitals ("AZ", not "in", "or"); cities only
    capitalised ("Nice", not "nice")."""
    regions = gaz.region_keys.get(country_id, {})
    stripped = gaz.region_keys_stripped.get(country_id, {})
    cities = gaz.city_keys.get(country_id, {})
    shared = gaz.ambiguous_region_keys.get(country_id, {})
    territories = gaz.territories
    found: list[tuple[str, ...]] = []

    def look(k: str, city_ok: bool) -> tuple[str, ...] | None:
        for table in (regions, stripped):
            hit = table.get(k)
            if hit is not None:
                return (territories.get(hit, hit),)
        if city_ok and k in cities:
            city = gaz.city(country_id, k)
            assert city is not None
            return city.regions
        if k in shared:
            return tuple(territories.get(r, r) for r in shared[k])
        hit = gaz.country_keys.get(k)
        if hit is not None:
            return (hit,)
        return () if k in gaz.continent_keys else None  # "South America" is not America

    words, capital, upper = _words(text)
    prefixes = gaz.key_prefixes
    i = 0
    while i < len(words):
        k, best, end = "", None, i + 1
        for j in range(i, min(i + _MAX_NAME_WORDS, len(words))):
            k += words[j]
            if k.isascii() and len(k) < 4 and not (j == i and upper[i] and k.isalpha()):
                continue
            hit = look(k, capital[i])
            if hit is not None:
                best, end = hit, j + 1
        if best:
            found.append(best)
        word = words[i]
        if not word.isascii() and _unspaced(word):
            for a in range(len(word) - 1):
                if word[a : a + 2] not in prefixes:
                    continue  # no key starts here: skip its windows
                for b in range(a + 2, min(a + _MAX_NAME_CHARS, len(word)) + 1):
                    hit = look(word[a:b], False)
                    if hit is not None:
                        found.append(hit)
        i = end
    return found


def other_places(gaz: Gazetteer, country_id: str, place_id: str, text: str) -> set[str]:
    """Places and countries named in `text` other than the answer's own place and country (a name
    that may be the answer's place, such as a city in several regions one of which it is, is not
    another place)."""
    allowed = {country_id, place_id, gaz.place_country(place_id), *gaz.dependents.get(country_id, ())}
    return {"/".join(ids) for ids in _read_both_ways(gaz, country_id, text) if allowed.isdisjoint(ids)}


def _read_both_ways(gaz: Gazetteer, country_id: str, text: str) -> list[tuple[str, ...]]:
    """The names in `text`, as written and as a reader sees its look-alike capitals ("Вerlin" with
    a Cyrillic В is Berlin to a reader, though a Cyrillic в reads as no Latin letter)."""
    found = mentions(gaz, country_id, text)
    shown = canonical.looks(text)
    return found if shown == text else found + mentions(gaz, country_id, shown)


def names_any_place(gaz: Gazetteer, country_ids: tuple[str, ...], text: str) -> list[str]:
    """The places (of these countries, or any country) that `text` names, read both ways."""
    out: list[str] = []
    for country_id in dict.fromkeys(country_ids):
        out += ("/".join(ids) for ids in _read_both_ways(gaz, country_id, text))
    return sorted(set(out))
