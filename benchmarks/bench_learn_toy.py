"""Does the RL loop learn from pixels? A learning canary on CPU, through the real CLI.

    python benchmarks/bench_learn_toy.py                 # 2 places: 60 GRPO steps, ~2.5 min on 2 cores
    python benchmarks/bench_learn_toy.py --places 4      # 120 steps
    python benchmarks/bench_learn_toy.py --seed 3 --set actor.lr_scheduler=linear   # more train settings

The toy: N "places", each a picture that differs by one drawn clue (a coloured disk at a random
spot on a noisy grey field: red = Japan/Hokkaido, blue = Brazil/Bahia, green = Norway/Vestland,
yellow = Kenya/Nairobi; `--clue solid` fills the whole picture with the noisy colour instead).
1. `seekworld train --backend trl` with `model.path = "tiny-random"`: a tiny random Qwen2.5-VL whose
   format warm-up (`trl.tiny_warmup_steps`) names the data's own places, each equally often, with
   replies independent of the picture, so it can only guess (about 1/N right); then GRPO with the
   project's `rule` reward (0.5·format + 1.0·accuracy), every step holding the places equally
   often (`--balanced`) and a KL penalty towards the warmed-up model (`--kl`). The only way to beat
   1/N is to look.
2. `seekworld eval --engine transformers` on fresh pictures never trained on, for the warmed-up
   model before RL and the trained one after: greedy and sampled (temperature 1), per place.
Prints the training curve (every few steps), the held-out table, the times, and ends with one line:
`held-out accuracy: greedy G, sampled S on N fresh images, P places (chance C)`. The run folder
(a temp dir, or --out) keeps the data, logs, metrics.jsonl, metrics.png and every prediction.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PLACES = [
    ("Japan", "Hokkaido", (220, 30, 30)),
    ("Brazil", "Bahia", (30, 60, 220)),
    ("Norway", "Vestland", (30, 170, 40)),
    ("Kenya", "Nairobi", (230, 200, 30)),
]
PROMPT = "<image>Where was this photo taken?"
SIZE = 112  # the tiny model's pixel budget (112x112: 16 visual tokens)
# Settings that learn, per number of places (measured: docs/benchmarks.md). Fewer prompts per step
# or a higher lr collapse or stall on some seeds: see there.
DEFAULTS = {
    2: {"steps": 60, "prompts_per_step": 16, "samples": 8, "lr": 2e-3, "kl": 0.04},
    3: {"steps": 90, "prompts_per_step": 16, "samples": 8, "lr": 2e-3, "kl": 0.1},
    4: {"steps": 120, "prompts_per_step": 16, "samples": 8, "lr": 2e-3, "kl": 0.1},
}
# A constant lr after a short warm-up: the first Adam steps at full lr can garble the answer strings
# in one update, and a decaying lr leaves the run too little to leave the image-blind start.
SCHEDULE = ["actor.lr_scheduler=constant_with_warmup", "actor.lr_warmup_ratio=0.1"]
# "kl" is a KL penalty towards the warmed-up model (TRL's beta): it holds the start's even odds
# between the places while RL finds the clue; without it a run can drift onto one answer for every
# picture, after which no group's samples differ and nothing more is learnt. More places leave each
# one less probability, so they need a stronger hold.
HELDOUT = 100  # fresh pictures in all, split evenly over the places


def make_image(path: Path, colour: tuple[int, int, int], rng: random.Random, clue: str) -> None:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (SIZE, SIZE))
    if clue == "solid":  # the colour everywhere, with per-pixel noise: no two pictures alike
        noise = [rng.randrange(-40, 41) for _ in range(SIZE * SIZE)]
        img.putdata([tuple(min(255, max(0, c + d)) for c in colour) for d in noise])
        img.save(path)
        return
    img.putdata([(g, g, g) for g in (rng.randrange(90, 170) for _ in range(SIZE * SIZE))])
    r = rng.randrange(22, 34)
    x, y = rng.randrange(r, SIZE - r), rng.randrange(r, SIZE - r)
    ImageDraw.Draw(img).ellipse((x - r, y - r, x + r, y + r), fill=colour)
    img.save(path)


def label_of(country: str, region: str) -> str:
    return f"${country.lower()},{region.lower()}$"


def write_rows(
    root: Path,
    name: str,
    places: list,
    n_per_place: int,
    rng: random.Random,
    clue: str,
    interleave: bool = False,
) -> Path:
    """`n_per_place` images per place under root/name/, and root/name.jsonl in `seekworld prepare`'s
    row shape (prompt, images, label): shuffled, or with `interleave` one place after another
    (A, B, A, B, ...), so that any run of consecutive rows holds the places equally often."""
    folder = root / name
    folder.mkdir(parents=True)
    per_place = []
    for country, region, colour in places:
        rows = []
        for i in range(n_per_place):
            path = folder / f"{country}-{i}.png"
            make_image(path, colour, rng, clue)
            rows.append(
                {
                    "prompt": [{"role": "user", "content": PROMPT}],
                    "images": [str(path)],
                    "label": label_of(country, region),
                }
            )
        per_place.append(rows)
    if interleave:
        rows = [row for group in zip(*per_place, strict=True) for row in group]
    else:
        rows = [row for group in per_place for row in group]
        rng.shuffle(rows)
    data = root / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return data


def image_digests(data: Path) -> set[str]:
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    return {hashlib.sha256(Path(r["images"][0]).read_bytes()).hexdigest() for r in rows}


def write_data(root: Path, args: argparse.Namespace) -> tuple[Path, Path]:
    """The training rows and the held-out rows (fresh pictures, never trained on) under `root`."""
    rng = random.Random(args.seed)
    places = PLACES[: args.places]
    root.mkdir(parents=True, exist_ok=True)
    train = write_rows(root, "train", places, args.train_per_place, rng, args.clue, args.balanced)
    heldout = write_rows(root, "heldout", places, args.heldout_per_place, rng, args.clue)
    if image_digests(train) & image_digests(heldout):
        raise SystemExit("a held-out picture repeats a training picture")
    return train, heldout


def run_cli(argv: list[str], log: Path, echo: bool) -> None:
    """Run `python -m seekworld ...` with one intra-op thread (the tiny model gains nothing from more);
    its output goes to `log` (and to the console with `echo`). Raises on a non-zero exit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "seekworld", *argv]
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if echo:
                print("    " + line.rstrip(), flush=True)
        if proc.wait():
            tail = "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-30:])
            raise SystemExit(f"{' '.join(cmd[:4])} failed (exit {proc.returncode}); log {log}:\n{tail}")


def train_overrides(data: Path, output: Path, args: argparse.Namespace) -> list[str]:
    n = args.prompts_per_step * args.samples
    sets = [
        "model.path=tiny-random",
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
        f"algo.kl_init_coef={args.kl}",
        "deepspeed.gradient_checkpointing=false",
        f"checkpoint.save_path={output}",
        "checkpoint.save_steps=100000",
        "checkpoint.load=false",
        "trl.device=cpu",
        "trl.vllm=off",
        f"trl.max_steps={args.steps}",
        f"trl.tiny_warmup_steps={args.warmup_steps}",
        *SCHEDULE,
        *(["trl.shuffle_dataset=false"] if args.balanced else []),
        *args.overrides,
    ]
    return ["train", "--backend", "trl", *(a for s in sets for a in ("--set", s))]


def evaluate(model: Path, data: Path, out: Path, temperature: float, seed: int) -> list[dict]:
    """`seekworld eval` of `model` on `data`, one sample per image; returns its predictions."""
    argv = [
        "eval",
        "--engine",
        "transformers",
        "--device",
        "cpu",
        "--model",
        str(model),
        "--data",
        str(data),
        "--output",
        str(out),
        "--max-new-tokens",
        "40",
        "--temperature",
        str(temperature),
        "--seed",
        str(seed),
        "--concurrency",
        "32",
        "--resamples",
        "10",
        "--no-progress",
    ]
    run_cli(argv, out.parent / f"{out.name}.log", echo=False)
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def accuracy_by_place(preds: list[dict], places: list) -> tuple[float, dict[str, float]]:
    by: dict[str, list[float]] = {country: [] for country, _, _ in places}
    labels = {label_of(c, r): c for c, r, _ in places}
    for p in preds:
        by[labels[p["label"]]].append(p["accuracy"])
    per = {c: sum(v) / len(v) for c, v in by.items() if v}
    return sum(p["accuracy"] for p in preds) / len(preds), per


def training_table(metrics: Path) -> list[str]:
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    every = max(1, len(rows) // 12)
    lines = ["| step | reward | accuracy | format |", "|---:|---:|---:|---:|"]
    for r in rows:
        if r["step"] % every == 0 or r is rows[-1]:
            lines.append(f"| {r['step']} | {r['reward']:.3f} | {r['accuracy']:.3f} | {r['format']:.3f} |")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--places", type=int, default=2, choices=(2, 3, 4))
    ap.add_argument("--clue", choices=("disk", "solid"), default="disk")
    ap.add_argument("--steps", type=int, default=None, help="GRPO steps (default: per --places)")
    ap.add_argument("--prompts-per-step", type=int, default=None)
    ap.add_argument("--samples", type=int, default=None, help="samples per prompt")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--warmup-steps", type=int, default=250, help="trl.tiny_warmup_steps")
    ap.add_argument("--train-per-place", type=int, default=32, help="training images per place")
    ap.add_argument(
        "--heldout-per-place",
        type=int,
        default=None,
        help=f"fresh pictures per place (default: {HELDOUT} in all)",
    )
    ap.add_argument(
        "--kl", type=float, default=None, help="algo.kl_init_coef, TRL's beta (default: per --places)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--balanced",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="every step's prompts hold the places equally often (interleaved rows, trl.shuffle_dataset "
        "false); --no-balanced: TRL's shuffled draw",
    )
    ap.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one more `seekworld train --set` (repeatable), e.g. algo.advantage_estimator=group_norm",
    )
    ap.add_argument("--quiet", action="store_true", help="do not echo the training log")
    ap.add_argument("--out", default=None, help="keep the run here (default: a temp dir)")
    args = ap.parse_args(argv)
    for key, value in DEFAULTS[args.places].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.heldout_per_place is None:
        args.heldout_per_place = HELDOUT // args.places
    return args


def heldout_table(results: dict, places: list) -> list[str]:
    """Markdown rows: accuracy on the held-out pictures, overall and per place, per model and decoding."""
    head = " | ".join(c for c, _, _ in places)
    lines = [f"| model | decoding | all | {head} |", "|---|---|---:|" + "---:|" * len(places)]
    for (when, mode), (acc, per) in results.items():
        cells = " | ".join(f"{per.get(c, float('nan')):.2f}" for c, _, _ in places)
        lines.append(f"| {when} | {mode} | {acc:.2f} | {cells} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    places = PLACES[: args.places]
    root = Path(args.out or tempfile.mkdtemp(prefix="bench-learn-toy-"))
    train_data, heldout = write_data(root, args)
    output = root / "run"
    print(
        f"{args.places} places ({args.clue}), {args.train_per_place} training and {args.heldout_per_place} "
        f"held-out images per place; GRPO {args.steps} steps x {args.prompts_per_step} prompts x "
        f"{args.samples} samples, lr {args.lr}, KL {args.kl}, warm-up {args.warmup_steps} steps, "
        f"seed {args.seed}",
        flush=True,
    )

    t0 = time.perf_counter()
    run_cli(train_overrides(train_data, output, args), root / "train.log", echo=not args.quiet)
    t_train = time.perf_counter() - t0
    print(f"\nseekworld train: {t_train:.0f} s (warm-up, {args.steps} GRPO steps, save)")
    print("\n".join(training_table(output / "metrics.jsonl")))

    t1 = time.perf_counter()
    results = {}
    for when, model in (("before RL", output / "tiny-random-init"), ("after RL", output)):
        for mode, temperature in (("greedy", 0.0), ("sampled", 1.0)):
            preds = evaluate(model, heldout, root / f"eval-{when.split()[0]}-{mode}", temperature, args.seed)
            results[when, mode] = accuracy_by_place(preds, places)
    t_eval = time.perf_counter() - t1

    chance = 1 / len(places)
    n = args.heldout_per_place * len(places)
    print(f"\nheld-out: {n} fresh images ({args.heldout_per_place} per place), chance {chance:.2f}")
    print("\n".join(heldout_table(results, places)))
    print(f"seekworld eval x4: {t_eval:.0f} s; total {time.perf_counter() - t0:.0f} s; run kept in {root}")
    greedy, sampled = results["after RL", "greedy"][0], results["after RL", "sampled"][0]
    print(
        f"held-out accuracy: greedy {greedy:.2f}, sampled {sampled:.2f} on {n} fresh images, "
        f"{len(places)} places (chance {chance:.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
