"""Gold labels: SeekWorld's `$country,alias1/alias2$` strings and structured JSON labels.

    parse_label("$ Japan , osaka/osaka prefecture $")
    parse_label({"country": "China", "region": "Sichuan", "aliases": ["四川"], "lat": 30.6, "lon": 104.1})
    parse_label('{"country": "China", "region": "Sichuan", "image": "/data/img/1.jpg"}')

A label is a known country (`China`, `china, sichuan`), SeekWorld's `$country,region$` form (its
country then need not be in the gazetteer: names are compared), or a JSON object with a `country`;
anything else (free text such as `not a label X`) is a LabelError, so the sample scores 0 with
`label_error`.

Parsing is pure and cached: the reward server sees the same label for all samples of a prompt.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.geo.cache import byte_bounded_cache
from seekworld.geo.gazetteer import Gazetteer, load_gazetteer
from seekworld.geo.normalize import key, normalize, strip_type_words

__all__ = ["GoldLabel", "LabelError", "format_label", "parse_label", "unresolved_reason"]


class LabelError(SeekworldError, ValueError):
    """A gold label that cannot be read. The message says what is wrong with it."""


@dataclass(frozen=True)
class GoldLabel:
    """A parsed gold label with its resolved IDs.

    `regions` holds the region name followed by its aliases, as given. `place_id` is the canonical
    place (see `Gazetteer.locate`): a region ID, or a country ID for a whole territory ("HK"). It is
    None when the region is not in the gazetteer; scoring then compares names against
    `region_keys` (the normalised aliases), so a gap in the table never fails a correct answer.
    """

    country: str
    regions: tuple[str, ...] = ()
    country_id: str | None = None
    place_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    image: str | None = None
    country_keys: frozenset[str] = field(default_factory=frozenset)
    region_keys: frozenset[str] = field(default_factory=frozenset)
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


def format_label(country: str, regions: tuple[str, ...] | list[str] | str) -> str:
    """SeekWorld's label string: `$country,region/alias/...$`."""
    if isinstance(regions, str):
        regions = [regions]
    return f"${country},{'/'.join(r for r in regions if r)}$"


def parse_label(label: str | dict, gazetteer: Gazetteer | None = None) -> GoldLabel:
    """Parse a gold label (string or dict) and resolve it to IDs. Raises LabelError."""
    if isinstance(label, dict):
        return _parse_dict(_freeze(label), gazetteer)
    if not isinstance(label, str):
        raise LabelError(f"label must be a string or an object, got {type(label).__name__}")
    return _parse_string(label, gazetteer)


def _freeze(d: dict) -> tuple:
    try:
        return tuple(
            sorted((str(k), json.dumps(v, sort_keys=True, ensure_ascii=False)) for k, v in d.items())
        )
    except (TypeError, ValueError) as exc:
        raise LabelError(f"label object is not JSON-serialisable: {exc}") from None


# Labels repeat (16 samples per prompt); a long label is parsed each time and never held.
@byte_bounded_cache(max_bytes=32 << 20, max_key_chars=4096)
def _parse_string(text: str, gazetteer: Gazetteer | None) -> GoldLabel:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise LabelError(
                f"label looks like JSON but does not parse: {exc.msg} at char {exc.pos}"
            ) from None
        if not isinstance(obj, dict):
            raise LabelError("JSON label must be an object")
        return _parse_dict(_freeze(obj), gazetteer)
    body = unicodedata.normalize("NFKC", stripped).strip().strip("$").strip()
    if not body:
        raise LabelError(f"empty label {text!r}")
    country_part, _, region_part = body.partition(",")
    countries = [c.strip() for c in country_part.split("/") if c.strip()]
    if not any(ch.isalpha() for c in countries for ch in c):
        raise LabelError(f"label {text!r} has no country before the comma")
    regions = [r.strip() for r in region_part.split("/") if r.strip()]
    gold = _build(countries, regions, {}, gazetteer)
    # A country the gazetteer does not know is still a label in SeekWorld's own form (scoring then
    # compares names); free text in no known form ("not a label X") is not one.
    delimited = len(stripped) > 1 and stripped.startswith("$") and stripped.endswith("$")
    if gold.country_id is None and not delimited:
        raise LabelError(
            f"label {text[:80]!r} names no known country and is not in the $country,region$ form"
        )
    return gold


@byte_bounded_cache(max_bytes=32 << 20, max_key_chars=4096)
def _parse_dict(items: tuple, gazetteer: Gazetteer | None) -> GoldLabel:
    obj = {k: json.loads(v) for k, v in items}
    if "label" in obj and "country" not in obj:
        # {"label": "$china,sichuan$", "image": ..., "lat": ...}: the string form plus extras.
        inner = obj["label"]
        if not isinstance(inner, str):
            raise LabelError("'label' inside a JSON label must be a string")
        base = _parse_string(inner, gazetteer)
        countries, regions = [base.country], list(base.regions)
    else:
        country = obj.get("country")
        if not isinstance(country, str) or not country.strip():
            raise LabelError("JSON label needs a non-empty string 'country'")
        countries = [country.strip()]
        region = obj.get("region")
        if region is not None and not isinstance(region, str):
            raise LabelError("'region' must be a string")
        regions = [r.strip() for r in (region or "").split("/") if r.strip()]
        aliases = obj.get("aliases") or []
        if isinstance(aliases, str):
            aliases = aliases.split("/")
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise LabelError("'aliases' must be a list of strings or a '/'-joined string")
        regions += [a.strip() for a in aliases if a.strip() and a.strip() not in regions]
    return _build(countries, regions, obj, gazetteer)


def _coordinate(obj: dict, name: str, limit: float) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LabelError(f"'{name}' must be a number, got {value!r}") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise LabelError(f"'{name}' out of range: {number}")
    return number


def _build(countries: list[str], regions: list[str], obj: dict, gazetteer: Gazetteer | None) -> GoldLabel:
    gaz = gazetteer or load_gazetteer()
    lat = _coordinate(obj, "lat", 90.0)
    lon = _coordinate(obj, "lon", 180.0)
    if (lat is None) != (lon is None):
        raise LabelError("label has only one of 'lat'/'lon'")
    image = obj.get("image")
    if image is not None and not isinstance(image, str):
        raise LabelError("'image' must be a path string")

    country_id = next((c for c in map(gaz.resolve_country, countries) if c), None)
    place_id = None
    if country_id is not None and regions:
        found = [p for p in (gaz.locate(country_id, name) for name in regions) if p]
        # The first alias that resolves decides (aliases of one label name one place).
        if found:
            place_id = found[0]
            country_id = gaz.place_country(place_id)
    region_keys = frozenset(
        k for name in regions for k in (key(name), strip_type_words(normalize(name))) if k
    )
    extra = tuple(
        (k, v)
        for k, v in sorted(obj.items())
        if k not in {"country", "region", "aliases", "lat", "lon", "image"}
    )
    return GoldLabel(
        country=countries[0],
        regions=tuple(regions),
        country_id=country_id,
        place_id=place_id,
        lat=lat,
        lon=lon,
        image=image,
        country_keys=frozenset(key(c) for c in countries if key(c)),
        region_keys=region_keys,
        extra=extra,
    )


def unresolved_reason(gold: GoldLabel, gazetteer: Gazetteer | None = None) -> str | None:
    """Why a parsed label's country or region is not in the gazetteer, or None when both resolve.
    (Such a label still scores: names are compared instead of IDs; see GoldLabel.)"""
    gaz = gazetteer or load_gazetteer()
    if gold.country_id is None:
        return gaz.explain_country(gold.country)
    if gold.regions and gold.place_id is None:
        return gaz.explain_region(gold.country_id, gold.regions[0])
    return None
