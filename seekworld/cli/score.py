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


# Reported for every row, whatever the variant sums (scored at weight 0 when it does not weigh them).
REPORTED = ("accuracy", "format", "length")


def score_row(row: dict, config) -> dict:
    """The output object for one input row (input fields kept, the variant's result added).
    `config` is the variant with REPORTED added (`config.reporting(*REPORTED)`, made once)."""
    from seekworld.rewards.scoring import score_response

    return {**row, **format_result(score_response(row["response"], row["label"], config))}


def format_result(result) -> dict:
    """A `SampleScore` as output fields: components and logs, reward, IDs and the reason."""
    if result.label_error is not None:
        return {**{k: 0.0 for k in REPORTED}, "reward": 0.0, "error": f"label: {result.label_error}"}
    out = {name: result.components[name] for name in REPORTED}
    out.update((k, v) for k, v in result.logs.items() if k not in out)
    out["reward"] = result.reward
    gold, answer = result.gold, result.answer
    out["gold_ids"] = {"country": gold.country_id, "region": gold.place_id}
    out["answer_ids"] = {
        "country": answer.country_id if answer is not None else None,
        "region": answer.place_id if answer is not None else None,
    }
    if result.answer_reason:
        out["answer_reason"] = result.answer_reason
    return out


def _open_out(path: str) -> IO[str]:
    return sys.stdout if path == "-" else open(path, "w", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from seekworld.errors import UsageError
    from seekworld.rewards.variants import RewardConfig
    from seekworld.service.settings import RewardSettings

    # The settings table's range, [0, 1]; the message names this command's flag.
    RewardSettings.row("country_credit").check(args.country_credit, "--country-credit")
    config = RewardConfig.from_variant(args.reward, args.weights, country_credit=args.country_credit)
    if config.needs_judge:
        raise UsageError("the judge component needs the reward server (seekworld serve)")
    reporting = config.reporting(*REPORTED)
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
                scored = score_row(row, reporting)
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
