"""Pure statistics of the eval report: bootstrap, pass@k, McNemar, distances, pooled Overall."""

import math

import pytest

from seekworld.eval import metrics
from seekworld.eval.report import build_report
from seekworld.rewards.distance import haversine_km


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    values = [1.0] * 30 + [0.0] * 70
    a = metrics.bootstrap(values)
    b = metrics.bootstrap(values)
    assert a == b  # same seed, same interval
    assert a.value == pytest.approx(0.3) and a.n == 100
    assert a.low < 0.3 < a.high
    # Binomial standard error sqrt(.3*.7/100) = 0.046: the 95% interval is about ±1.96 of it.
    assert a.high - a.low == pytest.approx(2 * 1.96 * math.sqrt(0.21 / 100), rel=0.2)


@pytest.mark.parametrize(
    "values,expected",
    [
        ([1.0, 1.0, 1.0], (1.0, 1.0, 1.0)),  # no spread, no interval
        ([0.0], (0.0, 0.0, 0.0)),  # one unit
    ],
)
def test_bootstrap_degenerate(values, expected):
    est = metrics.bootstrap(values)
    assert (est.value, est.low, est.high) == expected


def test_bootstrap_of_nothing():
    assert metrics.bootstrap([]).to_dict() == {"value": None, "ci": [None, None], "n": 0}


def test_percentile_matches_numpy():
    np = pytest.importorskip("numpy")
    data = sorted([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    for q in (0.0, 0.025, 0.5, 0.9, 0.975, 1.0):
        assert metrics.percentile(data, q) == pytest.approx(float(np.percentile(data, 100 * q)))


@pytest.mark.parametrize(
    "n,c,k,expected",
    [
        (5, 0, 1, 0.0),  # nothing right
        (5, 5, 3, 1.0),  # everything right
        (5, 2, 1, 0.4),  # pass@1 is the plain rate
        (5, 1, 5, 1.0),  # all samples drawn: any correct one passes
        (4, 2, 2, 1 - 1 / 6),  # 1 - C(2,2)/C(4,2)
        (10, 3, 4, 1 - math.comb(7, 4) / math.comb(10, 4)),
    ],
)
def test_pass_at_k(n, c, k, expected):
    assert metrics.pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_rejects_bad_counts():
    with pytest.raises(ValueError):
        metrics.pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        metrics.pass_at_k(3, 1, 4)


@pytest.mark.parametrize(
    "b,c,expected",
    [
        (0, 0, 1.0),  # no discordant pairs: no evidence
        (1, 3, 2 * (1 + 4) / 16),  # 2·P(X ≤ 1), X ~ Bin(4, ½)
        (0, 5, 2 / 32),
        (6, 0, 2 / 64),
        (10, 10, 1.0),  # symmetric: capped at 1
        (3, 12, 2 * sum(math.comb(15, i) for i in range(4)) / 2**15),
    ],
)
def test_mcnemar_exact(b, c, expected):
    assert metrics.mcnemar_exact(b, c) == pytest.approx(expected)
    assert metrics.mcnemar_exact(c, b) == pytest.approx(expected)  # two-sided


def test_mcnemar_matches_scipy_binomtest():
    stats = pytest.importorskip("scipy.stats")
    for b, c in [(2, 9), (15, 30), (40, 41), (0, 12)]:
        assert metrics.mcnemar_exact(b, c) == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue)


def test_paired_difference():
    a = [1.0, 0.0, 1.0, 0.0]
    b = [1.0, 1.0, 1.0, 0.0]
    est = metrics.paired_bootstrap_diff(a, b)
    assert est.value == pytest.approx(0.25)
    assert est.low <= 0.25 <= est.high
    with pytest.raises(ValueError):
        metrics.paired_bootstrap_diff([1.0], [1.0, 0.0])


def test_within_km_and_median_on_hand_computed_haversine():
    # One degree of latitude on the IUGG mean sphere: 2·π·6371.0088/360 = 111.195 km.
    one_degree = 2 * math.pi * 6371.0088 / 360
    assert haversine_km(0, 0, 1, 0) == pytest.approx(one_degree, rel=1e-9)
    # Paris -> London: 343.9 km by the spherical law of cosines on the same sphere.
    p1, l1, p2, l2 = map(math.radians, (48.8566, 2.3522, 51.5074, -0.1278))
    by_cosines = 6371.0088 * math.acos(
        math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1)
    )
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(by_cosines, rel=1e-9)
    assert by_cosines == pytest.approx(343.9, abs=0.5)
    distances = [0.5, 20.0, 150.0, 700.0, 3000.0]
    assert metrics.within_km(distances) == {1: 0.2, 25: 0.4, 200: 0.6, 750: 0.8, 2500: 0.8}
    assert metrics.median(distances) == 150.0
    assert metrics.median([1.0, 3.0]) == 2.0


def _preds(datasource, n, correct, start=0):
    return [
        {
            "key": f"{datasource}/{i}",
            "sample": 0,
            "accuracy": 1.0 if i < correct else 0.0,
            "country_ok": True,
            "format": 1.0,
            "continent": "Asia",
        }
        for i in range(start, start + n)
    ]


def test_overall_is_pooled_over_all_prompts_like_seekworld():
    # SeekWorld's Overall: 46.21 = (59.69·320 + 34.65·373) / 693 — pooled, not the mean of columns.
    assert (59.69 * 320 + 34.65 * 373) / 693 == pytest.approx(46.21, abs=0.005)
    preds = _preds("global", 320, 191) + _preds("china", 373, 129)
    rows = [{"key": p["key"], "datasource": p["key"].split("/")[0], "difficulty": None} for p in preds]
    report = build_report(preds, rows, {"name": "m", "model": "m"}, resamples=200)
    acc = report["accuracy"]
    g, c = acc["by_datasource"]["global"]["value"], acc["by_datasource"]["china"]["value"]
    assert g == pytest.approx(191 / 320) and c == pytest.approx(129 / 373)
    assert acc["overall"]["value"] == pytest.approx((g * 320 + c * 373) / 693)
    assert acc["overall"]["value"] != pytest.approx((g + c) / 2)
    assert acc["overall"]["n"] == 693
    # n = 320: a 95% interval is about ±5 points.
    lo, hi = acc["by_datasource"]["global"]["ci"]
    assert 0.08 < hi - lo < 0.12
