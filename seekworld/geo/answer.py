"""Model answers: find the `<answer>` block, split it, resolve it to place IDs.

    extract_answer("<think>...</think><answer>$China,广东省$</answer>") == "$China,广东省$"
    parse_answer("$China,广东省$").place_id == "CN-GD"

One place parses answers; rewards, eval and the agent all call it.

Rules (docs/accuracy-policy.md):
- The content names a country and one first-level region: "Country, Region" (either order),
  ASCII/full-width commas or "、", with or without `$...$`; "中国广东省" (no separator) works too.
- Alternatives ("A or B", "A/B", "A;B", "A或B") are a hedge unless every alternative names the
  same place. Two different regions, or two countries, are a hedge. A hedge resolves to nothing.
- Extra parts that name nothing (a city: "China, Guangdong, Shenzhen") are ignored.
- Coordinates ("30.66, 104.06", "30.66N 104.06E") are read into `coordinates`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from seekworld.errors import SeekworldError
from seekworld.geo.gazetteer import Gazetteer, load_gazetteer
from seekworld.geo.normalize import key, normalize

__all__ = ["AnswerError", "ParsedAnswer", "extract_answer", "parse_answer"]


class AnswerError(SeekworldError, ValueError):
    """The response has no single `<answer>` block."""


_ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_OPEN = re.compile(r"<answer>", re.I)


def extract_answer(response: str) -> str:
    """Content of the one `<answer>...</answer>` block. Raises AnswerError otherwise."""
    blocks = _ANSWER_BLOCK.findall(response)
    opens = len(_OPEN.findall(response))
    if not blocks:
        raise AnswerError("no <answer>...</answer> block")
    if len(blocks) > 1 or opens > 1:
        raise AnswerError(f"{max(len(blocks), opens)} <answer> blocks; exactly one is scored")
    return blocks[0]


@dataclass(frozen=True)
class ParsedAnswer:
    """What an answer names. `place_id` is a region ID ("CN-GD"), or a country ID when the
    answer names a whole territory/city-state ("HK", "SG"); None when it did not resolve."""

    text: str
    country_id: str | None = None
    place_id: str | None = None
    country_text: str | None = None
    region_text: str | None = None
    hedge: bool = False
    error: str | None = None
    coordinates: tuple[float, float] | None = None

    @property
    def resolved(self) -> bool:
        return self.place_id is not None and not self.hedge


# --- splitting ---------------------------------------------------------------------------------

_PARTS = re.compile(r"[,、\n]")
# Alternatives: words and marks that offer a second answer.
_ALTERNATIVES = re.compile(
    r"(?:^|\s+)(?:or|either|and/or|vs\.?|versus|oder|ou|o)\s+|[/|;]|或者|或是|或|还是|還是|抑或", re.I
)
# Conjunctions: "Guangdong and Guangxi" is two places, "Newfoundland and Labrador" is one.
_CONJUNCTIONS = re.compile(r"\s+(?:and|&|und|et|e|y)\s+|和|与|與|及|以及|跟", re.I)
_FIELD_LABEL = re.compile(
    r"^\s*(?:(?:(?:the\s+)?(?:final\s+)?answer(?:\s+is)?|location|country|nation|region|province|state|"
    r"prefecture|administrative[_ ]area[_ ]level[_ ]1|答案|最终答案|位置|地点|国家|國家|地区|地區|省份|"
    r"一级行政区|一級行政區|行政区|省|州)\s*[:：]|(?:the\s+)?(?:final\s+)?answer\s+is\s|答案是|答案为)\s*",
    re.I,
)
# Words of doubt before a name: "possibly Guangdong" names Guangdong; "Guangdong (maybe Fujian)"
# then names two regions, which is a hedge.
_DOUBT = re.compile(
    r"^(?:(?:maybe|possibly|perhaps|probably|likely|most likely|alternatively|otherwise|or|either)\s+|"
    r"(?:也可能是|也可能|可能是|可能|或许是|或许|也许是|也许|大概是|大概|应该是|或者是|或者|或是|或))",
    re.I,
)
_WRAPPERS = " \t\r\n$\"'`*.。:：()[]{}<>「」『』【】“”‘’"
_COORD = re.compile(
    r"(?P<lat>[-+]?\d{1,2}(?:\.\d+)?)\s*°?\s*(?P<ns>[NnSs])?\s*[,，\s]\s*"
    r"(?P<lon>[-+]?\d{1,3}(?:\.\d+)?)\s*°?\s*(?P<ew>[EeWw])?"
)


def _coordinates(text: str) -> tuple[tuple[float, float] | None, str]:
    """Pull one `lat, lon` pair out of the text (decimal degrees, optional N/S/E/W)."""
    for match in _COORD.finditer(text):
        lat, lon = float(match["lat"]), float(match["lon"])
        # Bare integers like "2, 3" are not coordinates; require a decimal point or a hemisphere.
        if "." not in match["lat"] + match["lon"] and not (match["ns"] or match["ew"]):
            continue
        if match["ns"] and match["ns"].upper() == "S":
            lat = -abs(lat)
        if match["ew"] and match["ew"].upper() == "W":
            lon = -abs(lon)
        if abs(lat) <= 90 and abs(lon) <= 180:
            return (lat, lon), text[: match.start()] + "," + text[match.end() :]
    return None, text


_GLOSS = re.compile(r"^(?P<head>[^()]*)\((?P<gloss>[^()]*)\)[\s.。]*$")


def _split(content: str) -> list[str]:
    parts = []
    for raw in _PARTS.split(content):
        part = _FIELD_LABEL.sub("", raw).strip()
        # A parenthesised gloss ("Guangdong (广东)") is one more part to check, not noise.
        gloss = _GLOSS.match(part)
        pieces = (gloss["head"], gloss["gloss"]) if gloss else (part,)
        for piece in pieces:
            piece = _DOUBT.sub("", piece.strip(_WRAPPERS)).strip(_WRAPPERS)
            if piece:
                parts.append(piece)
    return parts


# --- resolving ---------------------------------------------------------------------------------

_HEDGE = "hedge"


def _alternatives(text: str) -> list[str] | None:
    """The pieces of 'A or B' / 'A/B' / 'or B', or None when the text offers no alternative."""
    if not _ALTERNATIVES.search(text):
        return None
    return [p.strip(_WRAPPERS) for p in _ALTERNATIVES.split(text) if p and p.strip(_WRAPPERS)]


def _country_of(gaz: Gazetteer, text: str) -> str | None:
    """Country ID, None (unknown), or _HEDGE (alternatives naming different countries)."""
    found = gaz.resolve_country(text)
    if found is not None:
        return found
    pieces = _alternatives(text)
    if pieces is None:
        return None
    ids = {gaz.resolve_country(p) for p in pieces}
    if len(pieces) > 1 and len(ids) == 1 and None not in ids:
        return ids.pop()
    # Alternatives of which at least one is a country: a hedge. Otherwise not a country at all.
    return _HEDGE if ids - {None} else None


def _places_in(gaz: Gazetteer, country_id: str, text: str) -> set[str] | str:
    """Place IDs a part names within a country: {} unknown, {id}, or _HEDGE."""
    found = gaz.locate(country_id, text)
    if found is not None:
        return {found}
    pieces = _alternatives(text)
    if pieces is not None:
        ids = {gaz.locate(country_id, p) for p in pieces}
        # "Guangdong/广东" names one place; anything else offers a second answer.
        return ids if len(pieces) > 1 and len(ids) == 1 and None not in ids else _HEDGE
    pieces = [p.strip(_WRAPPERS) for p in _CONJUNCTIONS.split(text) if p and p.strip(_WRAPPERS)]
    if len(pieces) > 1:
        ids = {gaz.locate(country_id, p) for p in pieces} - {None}
        if len(ids) > 1:
            return _HEDGE
    return set()


@dataclass
class _Reading:
    country_id: str | None
    country_text: str
    places: set[str]
    unknown: list[str]
    hedge: str | None = None
    texts: list[str] = field(default_factory=list)  # the parts that named the places


def _read(gaz: Gazetteer, country_text: str, rest: list[str]) -> _Reading | None:
    country = _country_of(gaz, country_text)
    if country is None:
        return None
    if country == _HEDGE:
        return _Reading(None, country_text, set(), [], hedge=f"{country_text!r} offers several countries")
    reading = _Reading(country, country_text, set(), [])
    # "Washington, D.C." is one region although it holds a comma: try the rest whole first.
    if len(rest) > 1:
        whole = gaz.locate(country, ", ".join(rest))
        if whole is not None:
            reading.places.add(whole)
            reading.texts.append(", ".join(rest))
            return reading
    names_country_again = False
    for part in rest:
        found = _places_in(gaz, country, part)
        if found == _HEDGE:
            reading.hedge = f"{part!r} offers several places"
            return reading
        if found == {country}:
            # "中国 (China), 广东" or "Singapore, Singapore": the country named again.
            names_country_again = True
            continue
        if found:
            reading.places |= found
            reading.texts.append(part)
            continue
        other = gaz.resolve_country(part)
        if other is not None and other != country and other not in gaz.dependents.get(country, ()):
            reading.hedge = f"names two countries: {country_text!r} and {part!r}"
            return reading
        reading.unknown.append(part)
    if not reading.places and names_country_again:
        reading.places.add(country)
        reading.texts.append(country_text)
    if len(reading.places) > 1:
        reading.hedge = f"names {len(reading.places)} regions: {', '.join(sorted(reading.places))}"
    return reading


def _read_joined(gaz: Gazetteer, part: str) -> _Reading | None:
    """'中国广东省' / 'China - Guangdong Province' / 'Guangdong, China' without the comma: a country
    and a region with no comma between them."""
    words = normalize(part).split()
    whole_country = None
    # Whole words first, so the region keeps its type words for the second pass.
    for cut in range(len(words) - 1, 0, -1):
        for country_words, region_words in ((words[:cut], words[cut:]), (words[-cut:], words[:-cut])):
            country = gaz.resolve_country(" ".join(country_words))
            place = gaz.locate(country, " ".join(region_words)) if country else None
            if place is None:
                continue
            reading = _Reading(country, " ".join(country_words), {place}, [], texts=[" ".join(region_words)])
            if place != country:
                return reading
            whole_country = whole_country or reading  # "Singapore Singapore": only if nothing better
    if whole_country is not None:
        return whole_country
    # Scripts without spaces: cut the key itself.
    k = key(part)
    for cut in range(len(k) - 1, 1, -1):
        country = gaz.country_keys.get(k[:cut])
        if country is None:
            continue
        place = gaz.locate(country, k[cut:])
        if place is not None:
            return _Reading(country, k[:cut], {place}, [], texts=[k[cut:]])
    return None


@lru_cache(maxsize=65536)
def _parse_cached(content: str, gaz: Gazetteer) -> ParsedAnswer:
    text = content if content.isascii() else unicodedata.normalize("NFKC", content)
    coordinates, text = _coordinates(text)
    parts = _split(text)
    if not parts:
        return ParsedAnswer(
            content, error="empty answer" if coordinates is None else None, coordinates=coordinates
        )

    def result(r: _Reading, **kw) -> ParsedAnswer:
        place = next(iter(r.places)) if len(r.places) == 1 and not r.hedge else None
        country = gaz.place_country(place) if place else r.country_id
        region_text = (r.texts or r.unknown or [None])[0]
        return ParsedAnswer(
            content, country, place, r.country_text, region_text, coordinates=coordinates, **kw
        )

    # Country first (the asked format); then country last ("Guangdong, China"); then no separator.
    readings: list[_Reading] = []
    for attempt in (
        lambda: _read(gaz, parts[0], parts[1:]),
        lambda: _read(gaz, parts[-1], parts[:-1]) if len(parts) > 1 else _read_joined(gaz, parts[0]),
    ):
        r = attempt()
        if r is None:
            continue
        # A region wins at once; "the country itself" waits in case the other order names a region
        # ("Washington, USA": Washington is also a name of the US, but here it is the state).
        if r.places and not r.hedge and r.places != {r.country_id}:
            return result(r)
        readings.append(r)
    for r in readings:
        if r.places and not r.hedge:
            return result(r)
    for r in readings:
        if r.hedge:
            return result(r, hedge=True, error=f"hedged answer: {r.hedge}")
    if readings:
        r = readings[0]
        if r.unknown:
            return result(r, error=gaz.explain_region(r.country_id, r.unknown[0]))
        return result(r, error="names a country but no region")
    # Nothing resolved: keep the words in the asked order, so a label whose country is missing from
    # the table can still be compared by name.
    return ParsedAnswer(
        content,
        country_text=parts[0],
        region_text=parts[1] if len(parts) > 1 else None,
        error=f"no country found in {content.strip()!r}",
        coordinates=coordinates,
    )


def parse_answer(content: str, gazetteer: Gazetteer | None = None) -> ParsedAnswer:
    """Resolve the content of an `<answer>` block. Pure; cached on the content string."""
    return _parse_cached(content, gazetteer or load_gazetteer())
