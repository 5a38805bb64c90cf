"""Precision and recall of the near-duplicate check (`seekworld.prepare.leakage`) on a generated set.

    python benchmarks/bench_near_duplicates.py               # 40 scenes x 2 layouts, thresholds 2..16
    python benchmarks/bench_near_duplicates.py --scenes 80 --photos

The set: street-like scenes drawn with PIL (sky, a road to a vanishing point, buildings with rows
of windows, trees, poles, grain). Each scene family has two layouts with the same palette, horizon
and road: two different photos of a similar street, which must NOT match. Each original gets
copies that MUST match: JPEG re-encodes (quality 90, 70, 50), resizes (0.5x, 0.75x, 1.5x), small
crops (3%, 5% and 8% off the edges, off-centre too) and a crop then re-encode. `--photos` adds the
real photographs installed packages ship (matplotlib's sample data, Gradio's media assets), with
the same copies.

Every pair of images in the set is one trial: same original = positive. Printed per threshold:
true and false matches, precision, recall, and recall per kind of copy; then the figures at the
threshold the project uses (`DEFAULT_THRESHOLD`).
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from seekworld.prepare.leakage import DEFAULT_THRESHOLD, hamming, perceptual_hash  # noqa: E402

SIZE = (640, 480)


def street(family: int, layout: int, size: tuple[int, int] = SIZE) -> Image.Image:
    """A street-like scene: `family` fixes palette, horizon and road; `layout` the buildings,
    windows, trees and poles. Two layouts of one family look alike at a glance."""
    w, h = size
    pal = random.Random(family * 7919)
    rnd = random.Random(family * 7919 + 104729 * (layout + 1))
    horizon = int(h * pal.uniform(0.38, 0.55))
    sky_top = (pal.randrange(60, 140), pal.randrange(60, 140), pal.randrange(170, 250))
    sky_bottom = tuple(min(255, c + pal.randrange(40, 90)) for c in sky_top)
    img = Image.new("RGB", size)
    d = ImageDraw.Draw(img)
    for y in range(horizon):
        t = y / max(1, horizon - 1)
        d.line(
            [(0, y), (w, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(sky_top, sky_bottom, strict=True)),
        )
    ground = tuple(pal.randrange(70, 130) for _ in range(3))
    d.rectangle([0, horizon, w, h], fill=ground)
    vx = int(w * pal.uniform(0.35, 0.65))
    road = tuple([pal.randrange(60, 110)] * 3)
    d.polygon([(vx - 4, horizon), (vx + 4, horizon), (int(w * 0.95), h), (int(w * 0.05), h)], fill=road)
    for i in range(8):  # lane marks
        y0 = horizon + (h - horizon) * (i / 8) ** 1.5
        y1 = horizon + (h - horizon) * ((i + 0.5) / 8) ** 1.5
        d.line([(vx, y0), (vx, y1)], fill=(230, 230, 210), width=max(1, int(1 + i)))
    hues = [tuple(pal.randrange(90, 230) for _ in range(3)) for _ in range(4)]
    for side in (0, 1):  # buildings on both sides of the road
        x = 0 if side == 0 else vx + 20
        end = vx - 20 if side == 0 else w
        while x < end:
            bw = rnd.randrange(40, 120)
            top = rnd.randrange(int(horizon * 0.15), horizon)
            colour = rnd.choice(hues)
            base = horizon + rnd.randrange(10, 40)
            d.rectangle([x, top, min(end, x + bw), base], fill=colour, outline=(40, 40, 40))
            win = tuple(max(0, c - 70) for c in colour)
            for wy in range(top + 8, base - 12, rnd.randrange(14, 22)):
                for wx in range(x + 6, min(end, x + bw) - 8, rnd.randrange(12, 20)):
                    d.rectangle([wx, wy, wx + 6, wy + 8], fill=win)
            x += bw + rnd.randrange(0, 12)
    for _ in range(rnd.randrange(2, 6)):  # trees and poles
        tx, ty = rnd.randrange(w), horizon + rnd.randrange(0, (h - horizon) // 2)
        r = rnd.randrange(14, 40)
        d.line([(tx, ty), (tx, ty - 2 * r)], fill=(80, 60, 40), width=4)
        d.ellipse([tx - r, ty - 3 * r, tx + r, ty - r], fill=(40, rnd.randrange(100, 160), 50))
    for _ in range(rnd.randrange(1, 4)):
        px = rnd.randrange(w)
        d.line([(px, horizon - rnd.randrange(60, 140)), (px, horizon + 30)], fill=(50, 50, 50), width=3)
    grain = Image.effect_noise(size, 18).convert("RGB")
    return Image.blend(img, grain, 0.08).filter(ImageFilter.SMOOTH)


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def _crop(img: Image.Image, frac: float, off_centre: bool = False) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * frac), int(h * frac)
    if off_centre:  # all of it from the left and top
        return img.crop((dx, dy, w, h))
    return img.crop((dx // 2, dy // 2, w - dx // 2, h - dy // 2))


def copies(img: Image.Image) -> dict[str, Image.Image]:
    w, h = img.size
    return {
        "jpeg q90": _jpeg(img, 90),
        "jpeg q70": _jpeg(img, 70),
        "jpeg q50": _jpeg(img, 50),
        "resize 0.5x": img.resize((w // 2, h // 2), Image.Resampling.LANCZOS),
        "resize 0.75x": img.resize((3 * w // 4, 3 * h // 4), Image.Resampling.BILINEAR),
        "resize 1.5x": img.resize((3 * w // 2, 3 * h // 2), Image.Resampling.BICUBIC),
        "crop 3%": _crop(img, 0.03),
        "crop 5%": _crop(img, 0.05),
        "crop 8%": _crop(img, 0.08),
        "crop 5% off-centre": _crop(img, 0.05, off_centre=True),
        "crop 5% + jpeg q70": _jpeg(_crop(img, 0.05), 70),
    }


def installed_photos() -> list[Path]:
    """Real photographs shipped inside installed packages (none is downloaded)."""
    import importlib.util

    found = []
    for package, rel in (
        ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
        ("gradio", "media_assets/images/cheetah.jpg"),
        ("gradio", "media_assets/images/tower.jpg"),
        ("gradio", "media_assets/images/groot.jpeg"),
    ):
        spec = importlib.util.find_spec(package)
        if spec and spec.origin:
            p = Path(spec.origin).parent / rel
            if p.is_file():
                found.append(p)
    return found


def build_set(scenes: int, photos: bool = False) -> list[tuple[str, str, str]]:
    """(original, kind of copy, pHash) for every image of the set."""
    items = []
    originals: list[tuple[str, Image.Image]] = []
    for family in range(scenes):
        for layout in (0, 1):
            originals.append((f"street{family}/{layout}", street(family, layout)))
    if photos:
        for p in installed_photos():
            with Image.open(p) as im:
                originals.append((f"photo:{p.name}", im.convert("RGB")))
    for name, img in originals:
        items.append((name, "original", perceptual_hash(img)))
        for kind, copy in copies(img).items():
            items.append((name, kind, perceptual_hash(copy)))
    return items


def measure(items: list[tuple[str, str, str]], thresholds: list[int]) -> dict[int, dict]:
    dists = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            same = items[i][0] == items[j][0]
            kind = items[j][1] if items[i][1] == "original" else None  # recall per kind: vs the original
            if not same:  # two layouts of one street family: the hard negatives
                kind = "sibling" if items[i][0].split("/")[0] == items[j][0].split("/")[0] else None
            dists.append((hamming(items[i][2], items[j][2]), same, kind))
    out = {}
    for t in thresholds:
        tp = sum(1 for d, same, _ in dists if same and d <= t)
        fp = sum(1 for d, same, _ in dists if not same and d <= t)
        pos = sum(1 for _, same, _ in dists if same)
        by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for d, same, kind in dists:
            if same and kind:
                by_kind[kind][0] += d <= t
                by_kind[kind][1] += 1
        out[t] = {
            "tp": tp,
            "fp": fp,
            "positives": pos,
            "negatives": len(dists) - pos,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / pos if pos else 0.0,
            "recall_by_kind": {k: v[0] / v[1] for k, v in by_kind.items()},
            "fp_similar_street": sum(1 for d, same, k in dists if not same and k == "sibling" and d <= t),
            "closest_negative": min((d for d, same, _ in dists if not same), default=None),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=40, help="scene families (2 layouts each)")
    ap.add_argument("--photos", action="store_true", help="add the photos installed packages ship")
    ap.add_argument("--thresholds", default="2,4,6,8,10,12,14,16")
    args = ap.parse_args(argv)
    thresholds = sorted({*(int(t) for t in args.thresholds.split(",")), DEFAULT_THRESHOLD})
    items = build_set(args.scenes, args.photos)
    originals = len({i[0] for i in items})
    results = measure(items, thresholds)
    any_result = next(iter(results.values()))
    print(
        f"{len(items)} images from {originals} originals: {any_result['positives']} same-original pairs, "
        f"{any_result['negatives']} different-original pairs (closest: {any_result['closest_negative']} bits)"
    )
    print()
    kinds = list(any_result["recall_by_kind"])
    print(
        "| threshold | true matches | false matches (similar street) | precision | recall | "
        + " | ".join(kinds)
        + " |"
    )
    print("|---:|---:|---:|---:|---:|" + "---:|" * len(kinds))
    for t, r in results.items():
        mark = " (used)" if t == DEFAULT_THRESHOLD else ""
        per_kind = " | ".join(f"{r['recall_by_kind'][k]:.2f}" for k in kinds)
        print(
            f"| {t}{mark} | {r['tp']} | {r['fp']} ({r['fp_similar_street']}) | {r['precision']:.4f} | "
            f"{r['recall']:.4f} | {per_kind} |"
        )
    used = results[DEFAULT_THRESHOLD]
    print()
    print(
        f"At the threshold used ({DEFAULT_THRESHOLD} bits): precision {used['precision']:.4f}, recall "
        f"{used['recall']:.4f} over all same-original pairs (copy vs copy included); per-kind columns: "
        "recall of each copy against its original."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
