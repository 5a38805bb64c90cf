"""Near-duplicate images across and within splits, by perceptual hash (imagehash's pHash).

The pixel hash in `images` finds only identical pictures; a re-encoded JPEG, a resized copy or a
slightly cropped shot of the same scene has other pixels. pHash (the DCT of a 32×32 grey thumbnail,
64 bits) stays within a few bits under those changes, so two images whose hashes differ in at most
`DEFAULT_THRESHOLD` bits (Hamming distance) are reported as near-duplicates. The threshold comes
from `benchmarks/bench_near_duplicates.py`, which measures precision and recall on generated re-encodes,
resizes and crops against different images of similar scenes.

    h = perceptual_hash("a.jpg")
    pairs = near_duplicate_pairs([("train", "t1", h1), ("test", "g7", h2)], threshold=10)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_THRESHOLD",
    "HASH_NAME",
    "hamming",
    "near_duplicate_pairs",
    "near_duplicates",
    "perceptual_hash",
]

HASH_NAME = "pHash, 64 bits (imagehash.phash, hash_size 8)"
# Chosen on the generated set of benchmarks/bench_near_duplicates.py (its printed table): the
# largest distance with no false match there (at 10, two layouts of one street start to match),
# which keeps every re-encode, resize and centred crop up to 5%.
DEFAULT_THRESHOLD = 8
_CHUNK = 2048  # rows compared per numpy block: bounded memory for any number of images


def perceptual_hash(image: Any) -> str:
    """pHash of an image (a path or a PIL image) as 16 hex digits."""
    import imagehash
    from PIL import Image

    if isinstance(image, Image.Image):
        return str(imagehash.phash(image))
    with Image.open(Path(image)) as im:
        return str(imagehash.phash(im))


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near_duplicate_pairs(
    items: Sequence[tuple[str, str, str]], threshold: int = DEFAULT_THRESHOLD
) -> list[dict]:
    """Every pair of (split, id, hash) items within `threshold` bits, closest first:
    {"a": {"split", "id"}, "b": {...}, "distance"}. Items of the same (split, id) (a sample with two
    images) are not paired with themselves. All pairs are compared (numpy, in blocks): about a
    second per 10⁸ pairs."""
    import numpy as np

    if len(items) < 2:
        return []
    values = np.array([int(h, 16) for _, _, h in items], dtype=np.uint64)
    out = []
    for start in range(0, len(values), _CHUNK):
        block = values[start : start + _CHUNK]
        dist = np.bitwise_count(block[:, None] ^ values[None, :])
        rows, cols = np.nonzero(dist <= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if c <= i or items[i][:2] == items[c][:2]:
                continue
            out.append(
                {
                    "a": {"split": items[i][0], "id": items[i][1]},
                    "b": {"split": items[c][0], "id": items[c][1]},
                    "distance": int(dist[r, c]),
                }
            )
    out.sort(key=lambda p: (p["distance"], p["a"]["split"], p["a"]["id"], p["b"]["split"], p["b"]["id"]))
    return out


def near_duplicates(samples_by_split: dict[str, list[dict]], threshold: int = DEFAULT_THRESHOLD) -> dict:
    """The report section: pairs across splits (leakage) and within each split, by sample id.
    Samples without `phashes` (a manifest written before this existed) are left out and counted."""
    items, unhashed = [], 0
    for split, samples in samples_by_split.items():
        for s in samples:
            if "phashes" not in s:
                unhashed += 1
                continue
            items += [(split, str(s["id"]), h) for h in s["phashes"]]
    pairs = near_duplicate_pairs(items, threshold)
    # A sample with several images may match another by more than one: keep its closest pair.
    seen: set[tuple] = set()
    across, within = [], {}
    for p in pairs:
        key = tuple(sorted([(p["a"]["split"], p["a"]["id"]), (p["b"]["split"], p["b"]["id"])]))
        if key in seen:
            continue
        seen.add(key)
        if p["a"]["split"] != p["b"]["split"]:
            across.append(p)
        else:
            within.setdefault(p["a"]["split"], []).append(
                {"ids": [p["a"]["id"], p["b"]["id"]], "distance": p["distance"]}
            )
    return {
        "hash": HASH_NAME,
        "threshold": threshold,
        "images_hashed": len(items),
        "samples_without_hash": unhashed,
        "across_splits": across,
        "within_split": within,
    }
