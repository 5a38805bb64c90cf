"""Generate seekworld/eval/data/world_outlines.json.gz: country outlines for the evaluation map.

Source: Natural Earth 1:110m admin-0 countries (public domain), as shipped inside the geopandas
0.14.4 wheel (`geopandas/datasets/naturalearth_lowres`), pinned by the wheel's sha256. Needed only
to run this script, never at run time:

    pip download --no-deps --dest /tmp/gpd geopandas==0.14.4
    pip install --target /tmp/pyshp pyshp==2.3.1
    PYTHONPATH=/tmp/pyshp python tools/build_world_outlines.py /tmp/gpd/geopandas-0.14.4-py3-none-any.whl

Each country keeps its ISO 3166-1 alpha-2 code (the gazetteer's country ID; Natural Earth's
alpha-3 codes mapped with pycountry, with its "-99" entries taken by name), its name and its
rings, rounded to 0.01° (about 1 km: far below what a 110m outline resolves).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "seekworld" / "eval" / "data" / "world_outlines.json.gz"
WHEEL_SHA256 = "3bb6473cb59d51e1a7fe2dbc24a1a063fb0ebdeddf3ce08ddbf8c7ddc99689aa"
MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
# Natural Earth marks a few sovereign states "-99" in iso_a3 (disputed parts); these are by name.
BY_NAME = {"France": "FR", "Norway": "NO", "Kosovo": "XK", "N. Cyprus": None, "Somaliland": None}


def main(wheel: str) -> int:
    import pycountry
    import shapefile  # pyshp

    data = Path(wheel).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHEEL_SHA256:
        print(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256} (geopandas 0.14.4)", file=sys.stderr)
        return 1
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        shp, dbf = (io.BytesIO(z.read(f"{MEMBER}.{ext}")) for ext in ("shp", "dbf"))
    reader = shapefile.Reader(shp=shp, dbf=dbf, encoding="latin-1")  # the .cpg says ISO-8859-1
    countries = []
    for rec, shape in zip(reader.records(), reader.shapes(), strict=True):
        name, a3 = rec["name"], rec["iso_a3"]
        if name in BY_NAME:
            code = BY_NAME[name]
        else:
            found = pycountry.countries.get(alpha_3=a3)
            code = found.alpha_2 if found else None
        bounds = [*shape.parts, len(shape.points)]
        rings = [
            [[round(x, 2), round(y, 2)] for x, y in shape.points[bounds[i] : bounds[i + 1]]]
            for i in range(len(shape.parts))
        ]
        countries.append({"id": code, "name": name, "rings": rings})
    doc = {
        "source": "Natural Earth 1:110m admin-0 countries (public domain) via geopandas 0.14.4",
        "countries": countries,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    OUT.write_bytes(gzip.compress(raw, mtime=0))
    unmapped = [c["name"] for c in countries if c["id"] is None]
    print(f"wrote {OUT} ({len(countries)} countries; without an ISO code: {', '.join(unmapped)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
