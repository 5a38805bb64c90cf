"""Does the RL loop learn? GRPO on TRL (`seekworld train`'s TRL backend) on a toy a tiny model can
learn on CPU in minutes.

    python benchmarks/bench_learn_toy.py                  # 3 places, 40 steps
    python benchmarks/bench_learn_toy.py --places 2 --steps 30 --seed 1

The toy: N "places", each with a picture that differs by one drawn clue (a coloured disk at a random
spot on a noisy grey field: red = Japan/Hokkaido, blue = Brazil/Bahia, green = Norway/Vestland).
1. Format warm-up: a few seconds of text-only SFT (`seekworld.train.tiny_qwen.warm_up`) on replies
   `<think>...</think><answer>$Place$</answer>` naming the places at random, WITHOUT the image: the
   model learns the format and guesses each place about 1/N of the time.
2. GRPO with the project's real reward (`rule`: 0.5·format + 1.0·accuracy) through the same code
   `seekworld train --backend trl` runs: the only way to raise accuracy above 1/N is to look at the
   picture.
Prints reward and accuracy per step, and the ratio of the last 5 steps' mean reward (and accuracy)
to the first 5 steps'.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = [
    ("Japan", "Hokkaido", (220, 30, 30)),
    ("Brazil", "Bahia", (30, 60, 220)),
    ("Norway", "Vestland", (30, 170, 40)),
]
PROMPT = "<image>Where was this photo taken?"


def make_image(path: Path, colour: tuple[int, int, int], rng: random.Random) -> None:
    from PIL import Image, ImageDraw

    size = 112
    img = Image.new("RGB", (size, size))
    img.putdata([(g, g, g) for g in (rng.randrange(90, 170) for _ in range(size * size))])
    r = rng.randrange(22, 34)
    x, y = rng.randrange(r, size - r), rng.randrange(r, size - r)
    ImageDraw.Draw(img).ellipse((x - r, y - r, x + r, y + r), fill=colour)
    img.save(path)


def write_data(root: Path, places: list, n_per_place: int, rng: random.Random) -> Path:
    (root / "images").mkdir(parents=True)
    rows = []
    for country, region, colour in places:
        for i in range(n_per_place):
            path = root / "images" / f"{country}-{i}.png"
            make_image(path, colour, rng)
            rows.append(
                {
                    "prompt": [{"role": "user", "content": PROMPT}],
                    "images": [str(path)],
                    "label": f"${country.lower()},{region.lower()}$",
                }
            )
    rng.shuffle(rows)
    data = root / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--places", type=int, default=3, choices=(2, 3))
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--prompts-per-step", type=int, default=4)
    ap.add_argument("--samples", type=int, default=8, help="samples per prompt")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup-steps", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="keep the run here (default: a temp dir)")
    args = ap.parse_args()

    import torch

    from seekworld.integrations.trl.backend import train
    from seekworld.train.config import load_config
    from seekworld.train.tiny_qwen import build_tiny_qwen, warm_up, warmup_reply

    torch.set_num_threads(1)  # a 64-wide model: threads only add overhead
    rng = random.Random(args.seed)
    places = PLACES[: args.places]
    root = Path(args.out or tempfile.mkdtemp(prefix="bench-learn-toy-"))
    data = write_data(root / "data", places, 16, rng)

    t0 = time.perf_counter()
    tiny = build_tiny_qwen(root / "init", max_pixels=112 * 112)
    replies = [warmup_reply(c, r, t) for c, r, _ in places for t in ("Signs.", "Roads.")]
    losses = warm_up(
        tiny,
        replies,
        prompts=[[{"role": "user", "content": PROMPT.replace("<image>", "")}]],
        steps=args.warmup_steps,
        seed=args.seed,
    )
    print(
        f"format warm-up: {args.warmup_steps} steps, loss {losses[0]:.2f} -> {losses[-1]:.3f}, "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )

    n = args.prompts_per_step * args.samples
    config = load_config(
        None,
        [
            "backend=trl",
            f"model.path={tiny.path}",
            f"data.prompt_data={data}",
            "data.max_len=512",
            f"rollout.n_samples_per_prompt={args.samples}",
            f"rollout.batch_size={args.prompts_per_step}",
            "rollout.max_new_tokens=40",
            f"train.batch_size={n}",
            f"train.micro_batch_size={n}",
            "train.num_episodes=1000",
            f"train.seed={args.seed}",
            f"actor.lr={args.lr}",
            "deepspeed.gradient_checkpointing=false",
            f"checkpoint.save_path={root / 'run'}",
            "checkpoint.save_steps=100000",
            "checkpoint.load=false",
            "trl.device=cpu",
            "trl.vllm=off",
            f"trl.max_steps={args.steps}",
        ],
    )
    t1 = time.perf_counter()
    train(config)
    elapsed = time.perf_counter() - t1
    rows = [json.loads(line) for line in (root / "run" / "metrics.jsonl").read_text().splitlines()]

    chance = 1 / len(places)
    print(f"\nGRPO: {len(rows)} steps, {n} samples/step, {elapsed:.0f} s; chance accuracy {chance:.2f}")
    print("| step | reward | accuracy | format |\n|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['step']} | {r['reward']:.3f} | {r['accuracy']:.3f} | {r['format']:.3f} |")
    k = min(5, len(rows) // 2)
    for key in ("reward", "accuracy"):
        first = sum(r[key] for r in rows[:k]) / k
        last = sum(r[key] for r in rows[-k:]) / k
        ratio = last / first if first else float("inf")
        print(f"{key}: first {k} steps {first:.3f}, last {k} steps {last:.3f}, last/first {ratio:.2f}")
    print(f"run kept in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
