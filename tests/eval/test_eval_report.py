"""The eval report's contents: Wilson intervals, confusions, wrong answers, table labels, and what
the plots and the map actually draw (title inside the figure, bars, value labels, 0% marker)."""

import pytest

from seekworld.eval import metrics
from seekworld.eval.report import (
    bar_figure,
    build_report,
    confusions,
    map_figure,
    render_markdown,
    render_table,
    run_labels,
    world_outlines,
    write_report,
    wrong_answers,
)

SETTINGS = {
    "name": "m",
    "model": "m",
    "engine": "openai",
    "temperature": 0.0,
    "top_p": 1.0,
    "max_new_tokens": 64,
    "seed": 0,
    "data": ["t.jsonl"],
}


@pytest.mark.parametrize("k,n", [(0, 3), (3, 3), (1, 1), (30, 100), (7, 320), (0, 1)])
def test_wilson_matches_scipy_and_never_collapses_at_the_edges(k, n):
    stats = pytest.importorskip("scipy.stats")
    est = metrics.wilson([1.0] * k + [0.0] * (n - k))
    ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert est.value == pytest.approx(k / n) and est.n == n
    assert (est.low, est.high) == pytest.approx((ref.low, ref.high))
    assert est.high - est.low > 0.01  # the bootstrap gives [0, 0] at 0 of 3
    assert est.low <= est.value <= est.high


def test_wilson_rejects_values_outside_zero_one():
    with pytest.raises(ValueError):
        metrics.wilson([0.5, 2.0])
    assert metrics.wilson([]).to_dict() == {"value": None, "ci": [None, None], "n": 0}


def _pred(key, gold, answer, acc, reason=None, text=None, difficulty="easy", continent="Asia"):
    return {
        "key": key,
        "sample": 0,
        "accuracy": acc,
        "country_ok": answer[0] == gold[0],
        "format": 1.0,
        "continent": continent,
        "gold_ids": {"country": gold[0], "region": gold[1]},
        "answer_ids": {"country": answer[0], "region": answer[1]},
        "reason": reason,
        "answer": text,
    }


PREDS = [
    _pred("t/1", ("CN", "CN-HA"), ("CN", "CN-HN"), 0.0, "wrong region", "China, Hunan"),
    _pred("t/2", ("CN", "CN-HA"), ("CN", "CN-HN"), 0.0, "wrong region", "China,  Hunan"),
    _pred("t/3", ("CN", "CN-SC"), ("CN", "CN-CQ"), 0.0, "wrong region", "China, Chongqing", "hard"),
    _pred("t/4", ("JP", "JP-27"), ("KR", "KR-11"), 0.0, "wrong country", "South Korea, Seoul", "hard"),
    _pred("t/5", ("JP", "JP-13"), ("JP", "JP-13"), 1.0, None, "Japan, Tokyo"),
    _pred(
        "t/6", ("FR", "FR-IDF"), (None, None), 0.0, "no <answer>...</answer> block", None, "hard", "Europe"
    ),
]
ROWS = [{"key": p["key"], "datasource": "t", "difficulty": None} for p in PREDS]


def test_confusions_count_gold_to_predicted_pairs_most_frequent_first():
    conf = confusions(PREDS)
    assert conf["region"] == [
        {"gold": "CN-HA", "predicted": "CN-HN", "count": 2},
        {"gold": "CN-SC", "predicted": "CN-CQ", "count": 1},
        {"gold": "JP-27", "predicted": "KR-11", "count": 1},
    ]
    assert conf["country"] == [{"gold": "JP", "predicted": "KR", "count": 1}]  # unanswered: not a confusion
    assert len(confusions(PREDS * 30, cap=2)["region"]) == 2


def test_wrong_answers_grouped_by_answer_and_reason_capped():
    wrong = wrong_answers(PREDS)
    assert wrong["total"] == 5
    assert wrong["by_reason"] == {"wrong region": 3, "wrong country": 1, "no <answer>...</answer> block": 1}
    # "China,  Hunan" and "China, Hunan" are one answer (whitespace folded): the most frequent.
    assert wrong["top"][0] == {"answer": "China, Hunan", "reason": "wrong region", "count": 2}
    assert {"answer": None, "reason": "no <answer>...</answer> block", "count": 1} in wrong["top"]
    assert len(wrong_answers(PREDS, cap=2)["top"]) == 2


def test_report_markdown_has_confusions_wrong_answers_and_a_country_column():
    preds = [{**p, "difficulty": None} for p in PREDS]
    rows = [
        {**r, "difficulty": d}
        for r, d in zip(ROWS, ["easy", "easy", "hard", "hard", "easy", "hard"], strict=True)
    ]
    report = build_report(preds, rows, SETTINGS, resamples=50)
    assert report["confusions"]["country"][0] == {"gold": "JP", "predicted": "KR", "count": 1}
    assert report["accuracy"]["by_country"]["CN"]["n"] == 3
    md = render_markdown(report)
    assert "## Most frequent confusions: regions" in md and "## Most frequent confusions: countries" in md
    assert "| `CN-HA` Henan | `CN-HN` Hunan | 2 |" in md
    assert "| `JP` Japan | `KR` South Korea | 1 |" in md
    assert "| `China, Hunan` | wrong region | 2 |" in md
    assert "| (none) | no &lt;answer&gt;...&lt;/answer&gt; block | 1 |" in md  # shown, not a tag
    assert "| Difficulty | n | Accuracy | Country | Format |" in md
    # easy: 3 prompts, 1 right, 3 right country
    assert "| easy | 3 | 33.33 [" in md and "| 100.00 [" in md
    assert "Wilson score interval" in md


def test_table_labels_same_named_runs_apart_and_marks_an_incomplete_run():
    report = build_report(PREDS, ROWS, SETTINGS, resamples=50)
    partial = {**report, "missing": 2}
    assert run_labels([report, partial]) == ["m #1", "m #2"]
    assert run_labels([report, partial], ["runs/a", "runs/b"]) == ["m (runs/a)", "m (runs/b)"]
    table = render_table([report, partial], labels=run_labels([report, partial], ["runs/a", "runs/b"]))
    rows = [line for line in table.splitlines() if line.startswith("| m ")]
    assert rows[0].startswith("| m (runs/a) | ")
    assert rows[1].startswith("| m (runs/b) (incomplete: 2 of 6 samples missing) | ")


def _renderer(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def test_bar_plot_draws_bars_labels_intervals_inside_and_a_zero_marker():
    long_title = (
        "a-model-with-a-long-name-trained-for-many-steps: Accuracy by continent (95% Wilson interval)"
    )
    estimates = {
        "Asia": metrics.wilson([1.0, 0.0, 1.0]).to_dict(),
        "Europe": metrics.wilson([0.0, 0.0, 0.0]).to_dict(),  # 0%: a visible marker
        "Africa": metrics.wilson([1.0, 1.0]).to_dict(),  # 100%: its label must fit too
    }
    fig = bar_figure(long_title, estimates)
    (ax,) = fig.axes
    renderer = _renderer(fig)
    fig_box = fig.bbox
    title_box = ax.title.get_window_extent(renderer)
    assert fig_box.x0 <= title_box.x0 and title_box.x1 <= fig_box.x1 and title_box.y1 <= fig_box.y1
    assert ax.title.get_text().replace("\n", " ") == long_title
    bars = [p for p in ax.patches if p.get_height() is not None]
    assert [round(b.get_height(), 2) for b in bars] == [66.67, 0.0, 100.0]
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["66.7%", "0.0%", "100.0%"]
    top = ax.get_ylim()[1]
    for t in ax.texts:  # every value label inside the axes
        box = t.get_window_extent(renderer)
        assert ax.bbox.y0 <= box.y0 and box.y1 <= ax.bbox.y1
    for est in estimates.values():  # every interval inside the frame
        assert 0 <= 100 * est["ci"][0] and 100 * est["ci"][1] < top
    zero = [line for line in ax.lines if line.get_label() == "0%"]
    assert len(zero) == 1 and list(zero[0].get_xdata()) == [1] and list(zero[0].get_ydata()) == [0]
    assert zero[0].get_marker() == "v" and zero[0].get_markersize() >= 6


def _est(value, n):
    return {"value": value, "ci": [0.0, 1.0], "n": n}


def test_map_weighs_countries_by_prompts_not_land_and_plots_gold_and_predicted_points():
    outlines = world_outlines()
    ids = {c["id"] for c in outlines}
    assert len(outlines) > 170 and {"CN", "FR", "NO", "BR", "US", "JP", "RU"} <= ids
    locations = [
        {"key": "a", "gold": [48.86, 2.35], "predicted": [51.51, -0.13], "ok": False},
        {"key": "b", "gold": [30.66, 104.06], "predicted": None, "ok": False},
    ]
    # Russia: one prompt at 0%; France: 40 prompts; Singapore: not among the 1:110m outlines.
    by_country = {"RU": _est(0.0, 1), "FR": _est(0.25, 40), "CN": _est(1.0, 10), "SG": _est(0.5, 4)}
    fig = map_figure("m: accuracy by gold country", locations, by_country)
    ax = fig.axes[0]
    faces = {tuple(round(c, 3) for c in patch.get_facecolor()[:3]) for patch in ax.patches}
    assert faces == {(round(0xEE / 255, 3),) * 3}  # every country outline is the same grey: no land weighs
    drawn = {c.get_label(): c for c in ax.collections}
    discs, gold, pred = drawn["_countries"], drawn["gold location (2)"], drawn["predicted location (1)"]
    # Largest first, so small discs are drawn on top; area in proportion to the prompts.
    assert list(discs.get_sizes()) == [900.0, 225.0, 22.5]  # FR 40, CN 10, RU 1 (900 / 40 per prompt)
    assert list(discs.get_array()) == [25.0, 100.0, 0.0]  # their accuracy, coloured
    (fr_lon, fr_lat), _, (ru_lon, ru_lat) = discs.get_offsets().tolist()
    assert -5 < fr_lon < 8 and 42 < fr_lat < 51  # metropolitan France, not the overseas rings
    assert 40 < ru_lon < 130 and 50 < ru_lat < 70
    assert gold.get_offsets().tolist() == [[2.35, 48.86], [104.06, 30.66]]  # lon, lat
    assert pred.get_offsets().tolist() == [[-0.13, 51.51]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "1 prompt", "20 prompts", "40 prompts", "gold location (2)", "predicted location (1)"
    ]  # fmt: skip
    assert [t.get_text() for t in ax.texts] == ["not on this map's outlines: SG (n=4, 50%)"]
    renderer = _renderer(fig)
    box = ax.title.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1
    long = "Qwen2.5-VL-7B-SeekWorld-RL-run-with-a-long-name: accuracy by gold country; gold and predicted"
    fig = map_figure(long, locations, by_country)
    box = fig.axes[0].title.get_window_extent(_renderer(fig))
    assert box.y1 <= fig.bbox.y1 and fig.axes[0].title.get_text().count("\n") <= 1  # fits, not a tower


def test_a_map_without_coordinates_promises_no_locations(tmp_path):
    report = build_report(PREDS, ROWS, SETTINGS, resamples=50)
    assert report["locations"] == [] and report["distance"] is None
    write_report(report, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "bootstrap" not in md and "distance" not in md.lower()  # no figures, so no promise of them
    import matplotlib.image

    assert matplotlib.image.imread(tmp_path / "map.png").shape[2] in (3, 4)
    fig = map_figure("m", [], report["accuracy"]["by_country"])
    assert fig.axes[0].get_legend().get_texts()[-1].get_text().endswith("prompts")  # no location entries


def test_write_report_writes_the_map_and_links_it(tmp_path):
    report = build_report(PREDS, ROWS, SETTINGS, resamples=50)
    paths = write_report(report, tmp_path)
    assert {p.name for p in paths} >= {"map.png", "accuracy_by_continent.png", "report.md"}
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    assert "![map.png](map.png)" in (tmp_path / "report.md").read_text()
