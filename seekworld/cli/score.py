"""`seekworld score`: score a JSONL file of {response, label} rows with a reward variant."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "score",
        help="score responses against gold labels (JSONL in, JSONL out)",
        description="Each input line is a JSON object with 'response' and 'label'; each output line is "
        "that object plus accuracy, format, length, reward and the resolved IDs. Summary on stderr.",
    )
    p.add_argument("--input", required=True, help="JSONL file ('-' for stdin)")
    p.add_argument("--output", default="-", help="JSONL file (default: stdout)")
    p.add_argument("--reward", default="rule", help="reward variant (default: rule)")
    p.add_argument("--weights", default=None, help="override weights, e.g. format=0.5,accuracy=2")
    p.add_argument("--country-credit", type=float, default=0.0, help="accuracy for the right country alone")
    return p


def _ids(country: str | None, place: str | None) -> dict:
    return {"country": country, "region": place}


def score_row(row: dict, config) -> dict:
    """The output object for one input row (input fields kept, scores and IDs added)."""
    from seekworld.rewards import accuracy, format, length
    from seekworld.rewards.variants import score_response

    result = score_response(row["response"], row["label"], config)
    out = dict(row)
    if result.label_error is not None:
        out.update(accuracy=0.0, format=0.0, length=0.0, reward=0.0, error=f"label: {result.label_error}")
        return out
    gold = result.gold
    response = row["response"]
    # The three rule components are always reported, whatever the variant sums.
    acc = result.components.get("accuracy")
    if acc is None:
        acc = accuracy.compute_score(response, gold, config.options.country_credit)
    out["accuracy"] = acc
    out["format"] = result.components.get("format", format.compute_score(response))
    out["length"] = result.components.get(
        "length", length.compute_score(response, config.options.length_per_char, config.options.length_cap)
    )
    for name, value in result.logs.items():
        out.setdefault(name, value)
    out["reward"] = result.reward
    out["gold_ids"] = _ids(gold.country_id, gold.place_id)
    answer = result.answer
    out["answer_ids"] = _ids(answer.country_id, answer.place_id) if answer is not None else _ids(None, None)
    if result.answer_reason:
        out["answer_reason"] = result.answer_reason
    return out


def _open_out(path: str) -> IO[str]:
    return sys.stdout if path == "-" else open(path, "w", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from seekworld.errors import UsageError
    from seekworld.rewards.variants import RewardConfig

    config = RewardConfig.from_variant(args.reward, args.weights, country_credit=args.country_credit)
    if config.needs_judge:
        raise UsageError("the judge component needs the reward server (seekworld serve)")
    # Both files open before any work: a missing input or an unwritable output is one line, exit 2.
    source = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
    try:
        out = _open_out(args.output)
    except OSError:
        source.close()
        raise

    n = skipped = bad = 0
    sums = {"accuracy": 0.0, "format": 0.0, "reward": 0.0}
    try:
        with source:
            for lineno, line in enumerate(source, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("line is not a JSON object")
                    missing = [k for k in ("response", "label") if k not in row]
                    if missing:
                        raise ValueError(f"missing {', '.join(missing)}")
                    if not isinstance(row["response"], str):
                        raise ValueError("'response' must be a string")
                except ValueError as exc:
                    skipped += 1
                    print(f"{args.input}:{lineno}: skipped: {exc}", file=sys.stderr)
                    continue
                scored = score_row(row, config)
                if "error" in scored:
                    bad += 1
                    print(f"{args.input}:{lineno}: {scored['error']}", file=sys.stderr)
                n += 1
                for k in sums:
                    sums[k] += scored[k]
                out.write(json.dumps(scored, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    mean = {k: (v / n if n else 0.0) for k, v in sums.items()}
    print(
        f"scored {n} rows ({bad} with errors, {skipped} lines skipped) | accuracy {mean['accuracy']:.4f} | "
        f"format rate {mean['format']:.4f} | mean reward {mean['reward']:.4f} | variant {config.variant}",
        file=sys.stderr,
    )
    return 0
