"""Throughput of `seekworld prepare` on photo-sized JPEGs, with 1 and 2 worker processes.

    python benchmarks/bench_prepare.py                    # 48 images of 2048×1536, workers 1,2
    python benchmarks/bench_prepare.py --n 96 --workers 1,2,4 --size 4032x3024

Generates N JPEGs (quality 90, smooth colour fields plus grain, ~0.5–1 MB each: closer to a photo
than flat colour, which JPEG shrinks to nothing) and an lmm-r1 JSONL in a temp dir, then runs the
full pipeline (read, label check, decode, EXIF, hash, downscale to the default 1,024-token budget,
encode, write, balance, report) into a fresh output folder per worker count. Also times a rerun
over finished output (everything reused: the resume path). Prints images/s as a table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageFilter  # noqa: E402

from seekworld.prepare.pipeline import PrepareConfig, prepare  # noqa: E402


def make_photo(size: tuple[int, int], seed: int) -> bytes:
    rng = random.Random(seed)
    w, h = size
    # Low-frequency colour field (a blurred, upscaled random grid) plus fine grain.
    grid = Image.frombytes("RGB", (8, 6), bytes(rng.randrange(256) for _ in range(8 * 6 * 3)))
    img = grid.resize((w, h), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(4))
    grain = Image.effect_noise((w, h), 18).convert("RGB")
    img = Image.blend(img, grain, 0.15)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def build_input(folder: Path, n: int, size: tuple[int, int]) -> Path:
    rows = []
    labels = ["$japan,osaka$", "$china,sichuan$", "$brazil,bahia$", "$france,brittany$"]
    for i in range(n):
        path = folder / f"photo{i:04d}.jpg"
        path.write_bytes(make_photo(size, i))
        message = [
            {
                "role": "user",
                "content": [{"type": "image", "image": str(path)}, {"type": "text", "text": "?"}],
            }
        ]
        rows.append(
            {"message": json.dumps(message), "answer": labels[i % 4], "difficulty": ["easy", "hard"][i % 2]}
        )
    src = folder / "data.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return src


def timed(src: Path, out: Path, workers: int) -> tuple[float, dict]:
    start = time.perf_counter()
    report = prepare(PrepareConfig(inputs=[("train", str(src))], output=out, workers=workers, progress=False))
    return time.perf_counter() - start, report


def _row(name: str, workers: int, n: int, seconds: float) -> None:
    print(f"| {name:<24} | {workers:>7} | {n:>6} | {seconds:>7.2f} | {n / seconds:>8.1f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=48, help="images (default 48)")
    parser.add_argument("--size", default="2048x1536", help="WxH (default 2048x1536)")
    parser.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    counts = [int(v) for v in args.workers.split(",")]

    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "in").mkdir()
        t0 = time.perf_counter()
        src = build_input(tmp_path / "in", args.n, (w, h))
        mb = sum(p.stat().st_size for p in (tmp_path / "in").glob("*.jpg")) / 1e6
        took = time.perf_counter() - t0
        print(f"generated {args.n} JPEGs of {w}x{h} ({mb / args.n:.2f} MB each) in {took:.1f} s")
        print(f"CPU cores: {os.cpu_count()}; budget: default (1,024 visual tokens per image)")
        print()
        print(f"| {'run':<24} | {'workers':>7} | {'images':>6} | {'seconds':>7} | {'images/s':>8} |")
        print(f"|{'-' * 26}|{'-' * 9}|{'-' * 8}|{'-' * 9}|{'-' * 10}|")
        for n_workers in counts:
            out = tmp_path / f"out-{n_workers}"
            seconds, report = timed(src, out, n_workers)
            images = report["splits"]["train"]["images"]
            assert images["written"] == args.n and images["resized"] == args.n, images
            _row("fresh", n_workers, args.n, seconds)
            seconds, report = timed(src, out, n_workers)
            assert report["splits"]["train"]["images"]["reused"] == args.n
            _row("rerun (all reused)", n_workers, args.n, seconds)
        tokens = report["splits"]["train"]["visual_tokens"]
        print()
        print(f"visual tokens per image: before {tokens['before']}, after {tokens['after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
