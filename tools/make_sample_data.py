"""Generate seekworld_data/sample/: 20 synthetic images with SeekWorld-style labels, in two formats.

    python tools/make_sample_data.py [--out seekworld_data/sample]

The images are drawn with PIL (street signs with text in several scripts, licence plates,
landscapes). They are SYNTHETIC: the labels are real country/region labels, but nothing in a picture
is evidence of that place. They exist so `seekworld prepare`, its tests and the README quickstart run
offline. Text uses DejaVu Sans from matplotlib's data folder (Latin, Cyrillic, Greek, Arabic, Hebrew,
Georgian, Armenian), or PIL's default font when matplotlib is missing. Output is deterministic for a
given Pillow/matplotlib version.

Writes:
    images/*.jpg|png   480×360 pictures (two are PNG, to exercise the lossless path)
    lmm_r1.jsonl       lmm-r1 rows: message (JSON string), answer, difficulty, id
    table.csv          table rows: file_name, id, country, region, lat, lon, difficulty, source
    README.md          what this is
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H = 480, 360
QUESTION = (
    "Where was this photo taken? Reason inside <think></think>, then answer inside <answer></answer> "
    "as $country,administrative_area_level_1$."
)

# id, kind, text on the picture, country, region aliases, lat, lon, difficulty
SAMPLES = [
    ("ru-moscow", "sign", "Москва 12 км", "Russia", "Moscow/Москва", 55.75, 37.62, "easy"),
    ("gr-attica", "sign", "Αθήνα 25", "Greece", "Attica/Attiki/Αττική", 37.98, 23.73, "easy"),
    ("eg-cairo", "sign", "القاهرة 40", "Egypt", "Cairo Governorate/Cairo/القاهرة", 30.04, 31.24, "medium"),
    ("il-tel-aviv", "sign", "תל אביב", "Israel", "Tel Aviv District/Tel Aviv", 32.08, 34.78, "medium"),
    ("ge-imereti", "sign", "ქუთაისი 8", "Georgia", "Imereti/იმერეთი", 42.27, 42.70, "hard"),
    ("am-yerevan", "sign", "Երևան 15", "Armenia", "Yerevan/Երևան", 40.18, 44.51, "hard"),
    ("ua-lviv", "sign", "Львів 30", "Ukraine", "Lviv Oblast/Львівська область", 49.84, 24.03, "hard"),
    ("rs-belgrade", "sign", "Београд 5", "Serbia", "Belgrade/Београд", 44.82, 20.46, "medium"),
    ("de-bavaria", "sign", "München 42", "Germany", "Bavaria/Bayern", 48.14, 11.58, "easy"),
    ("fr-idf", "sign", "Paris 18", "France", "Île-de-France/Ile-de-France", 48.86, 2.35, "easy"),
    ("vn-hanoi", "sign", "Hà Nội 20", "Vietnam", "Hanoi/Hà Nội", 21.03, 105.85, "hard"),
    ("tr-istanbul", "sign", "İstanbul 60", "Turkey", "Istanbul/İstanbul", 41.01, 28.98, "hard"),
    ("br-bahia", "plate", "BRA 2E19", "Brazil", "Bahia", -12.97, -38.50, "hard"),
    ("us-california", "plate", "7ABC123", "United States", "California/CA", 34.05, -118.24, "medium"),
    ("nl-nh", "plate", "GB-123-X", "Netherlands", "North Holland/Noord-Holland", 52.37, 4.90, "hard"),
    ("kz-almaty", "plate", "123 ABC 02", "Kazakhstan", "Almaty/Алматы", 43.24, 76.89, "hard"),
    ("no-vestland", "landscape", "", "Norway", "Vestland", 60.39, 5.32, "hard"),
    ("cl-antofagasta", "landscape", "", "Chile", "Antofagasta", -23.65, -70.40, "hard"),
    ("jp-hokkaido", "landscape", "", "Japan", "Hokkaido/北海道", 43.06, 141.35, "medium"),
    ("au-nsw", "landscape", "", "Australia", "New South Wales/NSW", -33.87, 151.21, "hard"),
]
PNG_IDS = {"gr-attica", "jp-hokkaido"}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        import matplotlib

        return ImageFont.truetype(
            str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans-Bold.ttf"), size
        )
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


def _sky_and_ground(draw: ImageDraw.ImageDraw, rng: random.Random, horizon: int) -> None:
    top, bottom = (rng.randint(60, 120), rng.randint(120, 170), 235), (200, 220, 245)
    for y in range(horizon):
        t = y / horizon
        draw.line(
            [(0, y), (W, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    ground = (rng.randint(70, 130), rng.randint(110, 160), rng.randint(50, 90))
    draw.rectangle([0, horizon, W, H], fill=ground)


def _road(draw: ImageDraw.ImageDraw, horizon: int) -> None:
    draw.polygon([(W * 0.45, horizon), (W * 0.55, horizon), (W * 0.95, H), (W * 0.05, H)], fill=(85, 85, 90))
    for i in range(6):
        y0 = horizon + (H - horizon) * i / 6
        y1 = y0 + (H - horizon) / 14
        draw.rectangle([W / 2 - 2 - i, y0, W / 2 + 2 + i, y1], fill=(235, 235, 235))


def _sign(img: Image.Image, rng: random.Random, text: str) -> None:
    draw = ImageDraw.Draw(img)
    horizon = rng.randint(150, 190)
    _sky_and_ground(draw, rng, horizon)
    _road(draw, horizon)
    x = rng.randint(40, 220)
    colour = rng.choice([(0, 110, 60), (20, 60, 160), (240, 200, 0), (250, 250, 250)])
    ink = (0, 0, 0) if colour in {(240, 200, 0), (250, 250, 250)} else (255, 255, 255)
    draw.rectangle([x + 95, 150, x + 105, 330], fill=(120, 120, 120))  # post
    draw.rounded_rectangle([x, 70, x + 200, 150], radius=8, fill=colour, outline=ink, width=3)
    size = 30
    while size > 12 and draw.textlength(text, font=_font(size)) > 185:  # fit the text on the sign
        size -= 2
    draw.text((x + 100, 110), text, font=_font(size), fill=ink, anchor="mm")


def _plate(img: Image.Image, rng: random.Random, text: str) -> None:
    draw = ImageDraw.Draw(img)
    body = (rng.randint(20, 200), rng.randint(20, 200), rng.randint(20, 200))
    draw.rectangle([0, 0, W, H], fill=(60, 60, 65))
    draw.rounded_rectangle([40, 60, W - 40, H - 40], radius=30, fill=body)  # the car's rear
    draw.rectangle([70, 90, 170, 140], fill=(200, 30, 30))  # lights
    draw.rectangle([W - 170, 90, W - 70, 140], fill=(200, 30, 30))
    plate_bg = rng.choice([(250, 250, 250), (250, 215, 0), (235, 235, 220)])
    draw.rectangle([140, 200, W - 140, 260], fill=plate_bg, outline=(0, 0, 0), width=3)
    draw.rectangle([140, 200, 162, 260], fill=(0, 60, 170))  # a band on the left
    draw.text((W / 2 + 10, 230), text, font=_font(28), fill=(0, 0, 0), anchor="mm")


def _landscape(img: Image.Image, rng: random.Random) -> None:
    draw = ImageDraw.Draw(img)
    horizon = rng.randint(170, 230)
    _sky_and_ground(draw, rng, horizon)
    for _ in range(rng.randint(2, 4)):  # mountains
        cx, peak, half = rng.randint(0, W), rng.randint(40, horizon - 30), rng.randint(80, 200)
        shade = rng.randint(80, 150)
        draw.polygon(
            [(cx - half, horizon), (cx, peak), (cx + half, horizon)], fill=(shade, shade, shade + 20)
        )
        if rng.random() < 0.6:
            draw.polygon(
                [(cx - half / 5, peak + 25), (cx, peak), (cx + half / 5, peak + 25)], fill=(245, 245, 250)
            )
    for _ in range(rng.randint(4, 12)):  # trees
        tx, ty = rng.randint(0, W), rng.randint(horizon + 10, H - 10)
        size = rng.randint(10, 30)
        draw.rectangle([tx - 2, ty, tx + 2, ty + size // 2], fill=(90, 60, 30))
        draw.ellipse([tx - size // 2, ty - size, tx + size // 2, ty + 2], fill=(30, rng.randint(90, 140), 40))
    if rng.random() < 0.5:
        _road(draw, horizon)


def make(out: Path) -> None:
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    lmm_rows, table_rows = [], []
    for i, (sid, kind, text, country, region, lat, lon, difficulty) in enumerate(SAMPLES):
        rng = random.Random(f"seekworld-sample-{i}")
        img = Image.new("RGB", (W, H))
        if kind == "sign":
            _sign(img, rng, text)
        elif kind == "plate":
            _plate(img, rng, text)
        else:
            _landscape(img, rng)
        name = f"{sid}.png" if sid in PNG_IDS else f"{sid}.jpg"
        buf = io.BytesIO()
        if name.endswith(".png"):
            img.quantize(64).convert("RGB").save(buf, format="PNG", optimize=True)
        else:
            img.save(buf, format="JPEG", quality=80, optimize=True)
        (images / name).write_bytes(buf.getvalue())
        label = f"${country.lower()},{region.lower()}$"
        message = [
            {
                "role": "user",
                "content": [{"type": "image", "image": f"images/{name}"}, {"type": "text", "text": QUESTION}],
            }
        ]
        lmm_rows.append(
            {
                "id": sid,
                "message": json.dumps(message, ensure_ascii=False),
                "answer": label,
                "difficulty": difficulty,
            }
        )
        table_rows.append(
            {
                "file_name": f"images/{name}",
                "id": sid,
                "country": country,
                "region": region,
                "lat": lat,
                "lon": lon,
                "difficulty": difficulty,
                "source": "synthetic",
            }
        )
    with (out / "lmm_r1.jsonl").open("w", encoding="utf-8") as fh:
        for row in lmm_rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (out / "table.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table_rows[0]))
        writer.writeheader()
        writer.writerows(table_rows)
    (out / "README.md").write_text(README, encoding="utf-8")


README = """# Sample data (synthetic)

20 pictures made by `tools/make_sample_data.py` with PIL: street signs with place names in several
scripts (Cyrillic, Greek, Arabic, Hebrew, Georgian, Armenian, Latin), licence plates and landscapes.

**The images are synthetic. The labels are real country/region labels, but the pictures carry no
real geographic signal** (a drawn sign saying "Москва" is not evidence of Moscow). Use them to run
`seekworld prepare` and the tests offline, never to train or evaluate a model.

- `lmm_r1.jsonl`: the lmm-r1 layout SeekWorld's training consumed (`message` is a JSON string of chat
  messages with an image part and a text part, `answer` is `$country,region/aliases$`, `difficulty`).
- `table.csv`: the same 20 samples as a table + images (`file_name`, `id`, `country`, `region` with
  aliases joined by `/`, `lat`, `lon`, `difficulty`, `source`).

```bash
seekworld prepare --input seekworld_data/sample/lmm_r1.jsonl --output /tmp/sw-prepared
seekworld prepare --input seekworld_data/sample/table.csv --output /tmp/sw-prepared-table
```

Regenerate with `python tools/make_sample_data.py`.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent.parent / "seekworld_data" / "sample")
    )
    args = parser.parse_args(argv)
    make(Path(args.out))
    print(f"wrote {len(SAMPLES)} samples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
