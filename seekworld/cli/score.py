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
        "that object plus accuracy, format, length, reward and the resolved IDs. Summary on stderr. "
        "Exit 1 when a line was skipped or a label could not be read (--allow-skipped: 0).",
    )
    p.add_argument("--input", required=True, help="JSONL file ('-' for stdin)")
    p.add_argument("--output", default="-", help="JSONL file (default: stdout)")
    p.add_argument("--reward", default="rule", help="reward variant (default: rule)")
    p.add_argument("--weights", default=None, help="override weights, e.g. format=0.5,accuracy=2")
    p.add_argument("--country-credit", type=float, default=0.0, help="accuracy for the right country alone")
    p.add_argument(
        "--allow-skipped",
        action="store_true",
        help="exit 0 even when lines were skipped or labels could not be read (default: exit 1)",
    )
    return p


# Reported for every row, whatever the variant sums (scored at weight 0 when it does not weigh them).
REPORTED = ("accuracy", "format", "length")


def score_row(row: dict, config) -> dict:
    """The output object for one input row (input fields kept, the variant's result added).
    `config` is the variant with REPORTED added (`config.reporting(*REPORTED)`, made once)."""
    return _score(row, config)[0]


def _score(row: dict, config) -> tuple[dict, str | None]:
    """(output object, why the label's country or region is not in the gazetteer, or None)."""
    from seekworld.geo.label import unresolved_reason
    from seekworld.rewards.scoring import score_response

    result = score_response(row["response"], row["label"], config)
    unresolved = unresolved_reason(result.gold) if result.gold is not None else None
    return {**row, **format_result(result)}, unresolved


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

    tally = _Tally(args.input)
    sums = {"accuracy": 0.0, "format": 0.0, "reward": 0.0}
    try:
        with source:
            for lineno, line in enumerate(source, 1):
                if not line.strip():
                    continue
                try:
                    row = _read_row(line)
                except ValueError as exc:
                    tally.note("skipped", lineno, f"skipped: {exc}")
                    continue
                scored, unresolved = _score(row, reporting)
                if "error" in scored:
                    tally.note("unreadable", lineno, scored["error"])
                elif unresolved is not None:
                    tally.note("unresolved", lineno, f"label {_short(row['label'])}: {unresolved}")
                tally.rows += 1
                for k in sums:
                    sums[k] += scored[k]
                out.write(json.dumps(scored, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    n = tally.rows
    mean = {k: (v / n if n else 0.0) for k, v in sums.items()}
    print(
        f"scored {n} rows ({tally.count('unreadable')} with errors, {tally.count('skipped')} lines skipped, "
        f"{tally.count('unresolved')} labels not in the gazetteer) | accuracy {mean['accuracy']:.4f} | "
        f"format rate {mean['format']:.4f} | mean reward {mean['reward']:.4f} | variant {config.variant}",
        file=sys.stderr,
    )
    problems = tally.problems()
    if problems is None:
        return 0
    if args.allow_skipped:
        print(f"seekworld score: {problems} (accepted: --allow-skipped)", file=sys.stderr)
        return 0
    print(f"seekworld score: {problems}; fix them, or pass --allow-skipped to accept them", file=sys.stderr)
    return 1


def _read_row(line: str) -> dict:
    """One input line as a row. Raises ValueError naming what is wrong with it."""
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("line is not a JSON object")
    missing = [k for k in ("response", "label") if k not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if not isinstance(row["response"], str):
        raise ValueError("'response' must be a string")
    return row


def _short(label: object, limit: int = 80) -> str:
    text = label if isinstance(label, str) else json.dumps(label, ensure_ascii=False)
    return repr(text if len(text) <= limit else text[:limit] + "…")


_FAILING = (("skipped", "lines skipped"), ("unreadable", "lines whose label could not be read"))


class _Tally:
    """The lines not scored as intended, counted by kind, and their first messages on stderr (a
    file of a million bad lines prints MESSAGES_SHOWN of them, then counts). Skipped lines and
    unreadable labels fail the run; a label not in the gazetteer is scored by its names (see
    GoldLabel), so it is named and counted only."""

    MESSAGES_SHOWN = 20

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows = 0
        self.counts = {"skipped": 0, "unreadable": 0, "unresolved": 0}
        self.first: dict[str, list[int]] = {k: [] for k in self.counts}
        self.shown = 0

    def note(self, kind: str, lineno: int, message: str) -> None:
        self.counts[kind] += 1
        if len(self.first[kind]) < 5:
            self.first[kind].append(lineno)
        if self.shown < self.MESSAGES_SHOWN:
            self.shown += 1
            print(f"{self.source}:{lineno}: {message}", file=sys.stderr)

    def count(self, kind: str) -> int:
        return self.counts[kind]

    def problems(self) -> str | None:
        """'4 of 6 lines skipped (lines 2, 3, 5, 6)', ... or None when no line failed."""
        total = self.rows + self.counts["skipped"]
        parts = []
        for kind, words in _FAILING:
            n = self.counts[kind]
            if n:
                where = ", ".join(map(str, self.first[kind])) + (", …" if n > len(self.first[kind]) else "")
                parts.append(f"{n} of {total} {words} (line{'s' if n > 1 else ''} {where})")
        return "; ".join(parts) or None
