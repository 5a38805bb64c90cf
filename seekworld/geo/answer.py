"""Model answers: find the `<answer>` block (seekworld.geo.zone), split it, resolve it to place IDs.

    extract_answer("<think>...</think><answer>$China,广东省$</answer>") == "$China,广东省$"
    parse_answer("$China,广东省$").place_id == "CN-GD"

One place parses answers; rewards, eval and the agent all call it.

Rules (docs/accuracy-policy.md):
- The content names a country and one first-level region: "Country, Region" (either order),
  ASCII/full-width commas or "、", with or without `$...$`; "中国广东省" (no separator) works too.
- Alternatives ("A or B", "A/B", "A;B", "A或B") are a hedge unless every alternative names the
  same place. Two different regions, or two countries, are a hedge. A hedge resolves to nothing.
- Extra parts that name nothing are ignored; a continent ("…, Brazil, South America") too. A city
  ("Sapporo, Hokkaido, Japan") must lie in the region named; alone it names its region when its
  name is not shared ("Japan, Sapporo"). A city in another region is a second place (a hedge).
- Coordinates ("30.66, 104.06", "30.66N 104.06E") are read into `coordinates`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace

from seekworld.geo.cache import byte_bounded_cache
from seekworld.geo.gazetteer import City, Gazetteer, load_gazetteer
from seekworld.geo.mentions import other_places as _other_places
from seekworld.geo.normalize import key, normalize
from seekworld.geo.zone import (
    MAX_ANSWER_CHARS,
    SECOND_ANSWER,
    TOO_LONG,
    AnswerError,
    AnswerTooLong,
    AnswerZone,
    answer_zone,
    extract_answer,
)
from seekworld.text import canonical

__all__ = [
    "MAX_ANSWER_CHARS",
    "SECOND_ANSWER",
    "TOO_LONG",
    "AnswerError",
    "AnswerTooLong",
    "AnswerZone",
    "ParsedAnswer",
    "answer_zone",
    "extract_answer",
    "parse_answer",
]


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


# Markup a person reads through: HTML tags, markdown emphasis/code marks, bullets and headings at the
# start of a line, the `$` wrappers. Brackets of other shapes become round ones (a gloss).
_HTML_TAG = re.compile(r"</?[a-z][a-z0-9]{0,15}(?:\s[^<>]{0,200})?/?>", re.I)
_LINE_MARK = re.compile(r"^[ \t]*(?:#{1,6}|[-+*•·>]|\d{1,2}[.)])[ \t]+", re.M)
_MARKS = str.maketrans({"*": " ", "_": " ", "`": " ", "$": " ", "[": "(", "]": ")", "【": "(", "】": ")"})
# "Country: Spain; Region: Andalusia": a `;` before a field label separates fields, not alternatives.
_FIELD_SEMICOLON = re.compile(
    r"[;|]\s*(?=(?:country|nation|region|province|state|prefecture|国家|國家|地区|地區|省份|省|州)\s*:)", re.I
)
# Sentence breaks: what follows is prose about the answer, not part of it (docs/accuracy-policy.md).
# Other scripts' full stops and semicolons break always: Urdu ۔, Devanagari । ॥, Armenian ։,
# Ethiopic ። ፧, Khmer ។, Myanmar ။, Arabic ؛ ؟.
_BREAK = re.compile(r"[.!?;:](?=\s|$)|[。！？；：۔।॥։።፧។။؛؟]|\s[-–—]+\s|[–—]+")


# Characters that make `_clean` change something; most answers hold none, and skip it.
_MARKUP = re.compile(r"[<*_`$\[\]【】;|#+•·>]|^[ \t]*(?:-|\d{1,2}[.)])[ \t]", re.M)
_DIGIT = re.compile(r"\d")


def _clean(text: str) -> str:
    if not _MARKUP.search(text):
        return text
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    text = _LINE_MARK.sub("", text).translate(_MARKS)
    if ";" in text or "|" in text:
        text = _FIELD_SEMICOLON.sub(",", text)
    return text


def _coordinates(text: str) -> tuple[tuple[float, float] | None, str]:
    """Pull one `lat, lon` pair out of the text (decimal degrees, optional N/S/E/W)."""
    if not _DIGIT.search(text):
        return None, text
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


_GLOSS = re.compile(r"^(?P<head>[^()]*)\((?P<gloss>[^()]*)\)[\s.。$]*$")


# Answers are distinct but their parts (names) repeat: the per-part work below is cached on the part.
# Value sizes are estimated cheaply (they run on every miss): pieces are substrings of the key; a
# place set holds one or two IDs; a country is an ID.
@byte_bounded_cache(
    max_bytes=16 << 20, max_key_chars=MAX_ANSWER_CHARS, value_size=lambda v: 56 + sum(map(sys.getsizeof, v))
)
def _pieces(raw: str) -> tuple[str, ...]:
    """One comma-separated part without field label, wrappers and words of doubt; a
    parenthesised gloss ("Guangdong (广东)") is one more piece to check, not noise."""
    part = _FIELD_LABEL.sub("", raw).strip()
    gloss = _GLOSS.match(part) if "(" in part else None
    out = []
    for piece in (gloss["head"], gloss["gloss"]) if gloss else (part,):
        piece = _DOUBT.sub("", piece.strip(_WRAPPERS)).strip(_WRAPPERS)
        if piece:
            out.append(piece)
    return tuple(out)


def _split(content: str) -> list[str]:
    return [piece for raw in _PARTS.split(content) for piece in _pieces(raw)]


# --- resolving ---------------------------------------------------------------------------------

_HEDGE = "hedge"


def _alternatives(text: str) -> list[str] | None:
    """The pieces of 'A or B' / 'A/B' / 'or B', or None when the text offers no alternative."""
    if not _ALTERNATIVES.search(text):
        return None
    return [p.strip(_WRAPPERS) for p in _ALTERNATIVES.split(text) if p and p.strip(_WRAPPERS)]


@byte_bounded_cache(max_bytes=4 << 20, max_key_chars=MAX_ANSWER_CHARS, value_size=lambda _: 64)
def _country_of(text: str, gaz: Gazetteer) -> str | None:
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


# Tuples of IDs, not sets: a tuple of strings is dropped from the garbage collector's tracking, so
# a full cache of them costs the collector nothing (frozensets stay tracked).
_NOWHERE: tuple[str, ...] = ()


@byte_bounded_cache(max_bytes=16 << 20, max_key_chars=MAX_ANSWER_CHARS, value_size=lambda _: 320)
def _places_in(text: str, country_id: str, gaz: Gazetteer) -> tuple[str, ...] | str:
    """Place IDs a part names within a country: () unknown, (id,), or _HEDGE."""
    found = gaz.locate(country_id, text)
    if found is not None:
        return (found,)
    pieces = _alternatives(text)
    if pieces is not None:
        ids = {_region_of(gaz, country_id, p) for p in pieces}
        # "Guangdong/广东", "Guangdong/Shenzhen" name one place; anything else offers a second answer.
        return tuple(ids) if len(pieces) > 1 and len(ids) == 1 and None not in ids else _HEDGE
    pieces = [p.strip(_WRAPPERS) for p in _CONJUNCTIONS.split(text) if p and p.strip(_WRAPPERS)]
    if len(pieces) > 1:
        ids = {_region_of(gaz, country_id, p) for p in pieces} - {None}
        if len(ids) > 1:
            return _HEDGE
    return _NOWHERE


def _region_of(gaz: Gazetteer, country_id: str, text: str) -> str | None:
    """The place a region's name, or a city's that names one region, names (else None)."""
    found = gaz.locate(country_id, text)
    if found is None:
        city = gaz.city(country_id, text)
        found = city.region if city is not None and city.region else None
    return found


class _Reading:
    """One way of reading the parts (a country, then the places the other parts name)."""

    __slots__ = ("cities", "country_id", "country_text", "hedge", "places", "texts", "unknown")

    def __init__(
        self,
        country_id: str | None,
        country_text: str,
        places: set[str] | None = None,
        hedge: str | None = None,
        texts: list[str] | None = None,
    ) -> None:
        self.country_id = country_id
        self.country_text = country_text
        self.places: set[str] = places if places is not None else set()
        self.unknown: list[str] = []
        self.hedge = hedge
        self.texts: list[str] = texts if texts is not None else []  # the parts that named the places
        self.cities: list[tuple[str, City]] = []  # the parts that named cities


def _read(gaz: Gazetteer, country_text: str, rest: list[str]) -> _Reading | None:
    country = _country_of(country_text, gaz)
    if country is None:
        return None
    if country == _HEDGE:
        return _Reading(None, country_text, hedge=f"{country_text!r} offers several countries")
    reading = _Reading(country, country_text)
    # "Washington, D.C." is one region although it holds a comma: try the rest whole first.
    if len(rest) > 1:
        whole = gaz.locate(country, ", ".join(rest))
        if whole is not None:
            reading.places.add(whole)
            reading.texts.append(", ".join(rest))
            return reading
    names_country_again = False
    for part in rest:
        found = _places_in(part, country, gaz)
        if found == _HEDGE:
            reading.hedge = f"{part!r} offers several places"
            return reading
        if found == (country,):
            # "中国 (China), 广东" or "Singapore, Singapore": the country named again.
            names_country_again = True
            continue
        if found:
            reading.places.update(found)
            reading.texts.append(part)
            continue
        city = gaz.city(country, part)
        if city is not None:
            reading.cities.append((part, city))
            continue
        other = gaz.resolve_country(part)
        if other is not None and other != country and other not in gaz.dependents.get(country, ()):
            reading.hedge = f"names two countries: {country_text!r} and {part!r}"
            return reading
        reading.unknown.append(part)
    if reading.cities:
        _place_cities(reading)
        if reading.hedge:
            return reading
    if not reading.places and names_country_again:
        reading.places.add(country)
        reading.texts.append(country_text)
    if len(reading.places) > 1:
        reading.hedge = f"names {len(reading.places)} regions: {', '.join(sorted(reading.places))}"
    elif reading.places:
        # Parts that name nothing are ignored ("Guangdong, Shenzhen"), unless their words name
        # another place ("Andalusia, near the border with Murcia"): that stays a hedge.
        for part in reading.unknown:
            others = _other_places(gaz, country, next(iter(reading.places)), part)
            if others:
                reading.hedge = f"{part!r} also names {', '.join(sorted(others))}"
                break
    return reading


def _place_cities(reading: _Reading) -> None:
    """Cities beside the region: each must lie in it (a city that may lie in it, "Portland" beside
    Maine, is no second place). Without a region, cities that all name one region name it; a city
    whose name is shared by several regions names none (the answer then has no region)."""
    if reading.places:
        if len(reading.places) == 1:
            place = next(iter(reading.places))
            for part, city in reading.cities:
                if place not in city.regions:
                    reading.hedge = f"{part!r} is a city in {city.region or '/'.join(city.regions)}"
                    return
        return
    named = {city.region for _, city in reading.cities}
    if "" in named:
        named.discard("")
        if not named:
            return  # only ambiguous cities: no region
    if len(named) > 1:
        reading.hedge = f"names cities in {len(named)} regions: {', '.join(sorted(named))}"
        return
    region = named.pop()
    for part, city in reading.cities:
        if region not in city.regions:
            reading.hedge = f"{part!r} is a city in {city.region or '/'.join(city.regions)}"
            return
    reading.places.add(region)
    reading.texts.append(next(part for part, city in reading.cities if city.region == region))


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
            reading = _Reading(country, " ".join(country_words), {place}, texts=[" ".join(region_words)])
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
            return _Reading(country, k[:cut], {place}, texts=[k[cut:]])
    return None


_MAX_HEADS = 8  # sentence breaks tried, so an answer full of breaks costs a bounded number of parses


# A ParsedAnswer shares its text with the key; its other fields are a few short strings.
@byte_bounded_cache(max_bytes=32 << 20, max_key_chars=MAX_ANSWER_CHARS, value_size=lambda _: 800)
def _parse_cached(content: str, gaz: Gazetteer) -> ParsedAnswer:
    text = canonical.read(content)
    coordinates, text = _coordinates(_clean(text))
    answer = _parse_text(content, text, coordinates, gaz)
    if answer.resolved:
        return answer
    # Trailing prose after a sentence break ("Spain, Andalusia: the olive groves give it away"):
    # the text before the break is the answer, if it resolves and the prose names no other place.
    # The same rule holds when the whole text read as a hedge ("Andalusia; the soil is dry"): a
    # hedge needs a second place, in the answer or in the prose.
    for n, brk in enumerate(_BREAK.finditer(text)):
        if n >= _MAX_HEADS:
            break
        head = _parse_text(content, text[: brk.start()], coordinates, gaz)
        if head.hedge:
            return head
        if head.resolved:
            assert head.country_id is not None and head.place_id is not None
            others = _other_places(gaz, head.country_id, head.place_id, text[brk.end() :])
            if others:
                return replace(
                    head,
                    place_id=None,
                    hedge=True,
                    error=f"hedged answer: the prose also names {', '.join(sorted(others))}",
                )
            return head
    return answer


def _parse_text(
    content: str, text: str, coordinates: tuple[float, float] | None, gaz: Gazetteer
) -> ParsedAnswer:
    parts = _split(text)
    if len(parts) > 2:  # a continent beside the country and region ("…, Brazil, South America")
        parts = [p for p in parts if key(p) not in gaz.continent_keys] or parts
    if not parts:
        return ParsedAnswer(
            content, error="empty answer" if coordinates is None else None, coordinates=coordinates
        )

    def result(r: _Reading, error: str | None = None, hedge: bool = False) -> ParsedAnswer:
        place = next(iter(r.places)) if len(r.places) == 1 and not r.hedge else None
        country = gaz.place_country(place) if place else r.country_id
        region_text = (r.texts or r.unknown or [None])[0]
        return ParsedAnswer(content, country, place, r.country_text, region_text, hedge, error, coordinates)

    # Country first (the asked format); then country last ("Guangdong, China"); then no separator.
    readings: list[_Reading] = []
    for attempt in (0, 1):
        if attempt == 0:
            r = _read(gaz, parts[0], parts[1:])
        else:
            r = _read(gaz, parts[-1], parts[:-1]) if len(parts) > 1 else _read_joined(gaz, parts[0])
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
    for r in readings:  # a country and a city whose name several of its regions share
        if r.cities and not r.hedge:
            part, city = r.cities[0]
            where = ", ".join(city.regions)
            return result(r, error=f"{part!r} is a city in several regions of {r.country_id}: {where}")
    for r in readings:
        if r.hedge:
            return result(r, f"hedged answer: {r.hedge}", hedge=True)
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
    """Resolve the content of an `<answer>` block. Pure; cached on the content string.

    Content longer than MAX_ANSWER_CHARS is not parsed: it resolves to nothing, error "answer too long".
    """
    if len(content) > MAX_ANSWER_CHARS:
        return ParsedAnswer(
            content, error=f"{TOO_LONG}: {len(content)} characters, the cap is {MAX_ANSWER_CHARS}"
        )
    return _parse_cached(content, gazetteer or load_gazetteer())
