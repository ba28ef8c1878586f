"""Agreement metrics against hand-computed values (arithmetic next to each number), plus edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from app.quality.metrics import (
    average_ranks,
    binomial_two_sided_p,
    cohen_kappa,
    fleiss_kappa,
    item_agreement,
    kendall_tau_b,
    kendall_w,
    krippendorff_alpha,
    percent_agreement,
    tier_ranks,
)

approx = pytest.approx

# Three units, values 1/2/3: [1,1], [1,2], [3,3]. Coincidences (ordered pairs / (m_u - 1)):
# o11 = 2, o12 = o21 = 1, o33 = 2; n1 = 3, n2 = 1, n3 = 2, n = 6.
# alpha = 1 - (n - 1) * sum(o_ck d_ck) / sum(n_c n_k d_ck), both sums over ordered c != k.
SMALL = [[1, 1], [1, 2], [3, 3]]


def test_alpha_nominal_hand() -> None:
    # d = 1 off the diagonal: sum o d = 2; sum n n d = 2 * (3*1 + 3*2 + 1*2) = 22
    # alpha = 1 - 5 * 2 / 22 = 12/22 = 6/11
    assert krippendorff_alpha(SMALL, "nominal") == approx(6 / 11)


def test_alpha_interval_hand() -> None:
    # d = (c - k)^2: sum o d = 1 + 1 = 2; sum n n d = 2 * (3*1*1 + 3*2*4 + 1*2*1) = 58
    # alpha = 1 - 5 * 2 / 58 = 48/58 = 24/29
    assert krippendorff_alpha(SMALL, "interval") == approx(24 / 29)


def test_alpha_ordinal_hand_and_value_domain() -> None:
    # d_ck = (n_c + ... + n_k - (n_c + n_k) / 2)^2:
    # d12 = (3 + 1 - 2)^2 = 4, d13 = (3 + 1 + 2 - 2.5)^2 = 12.25, d23 = (1 + 2 - 1.5)^2 = 2.25
    # sum o d = 2 * 4 = 8; sum n n d = 2 * (3*1*4 + 3*2*12.25 + 1*2*2.25) = 2 * 90 = 180
    # alpha = 1 - 5 * 8 / 180 = 7/9
    assert krippendorff_alpha(SMALL, "ordinal") == approx(7 / 9)
    # Unused scale points 4 and 5 have n = 0, so they add nothing to any ordinal distance.
    assert krippendorff_alpha(SMALL, "ordinal", value_domain=[1, 2, 3, 4, 5]) == approx(7 / 9)
    with pytest.raises(ValueError, match="out-of-domain"):
        krippendorff_alpha([[1, 6], [2, 2]], "ordinal", value_domain=[1, 2, 3, 4, 5])


def test_alpha_missing_single_and_mapping_forms() -> None:
    # A once-rated unit and None gaps add no pairs: same 6/11 as SMALL.
    units: list[list[float | None]] = [[1, None, 1], [None, 1, 2], [3, 3, None], [2, None, None]]
    assert krippendorff_alpha(units, "nominal") == approx(6 / 11)
    mapping = {"u1": {"ann": 1.0, "bob": 1.0}, "u2": {"bob": 1.0, "cy": 2.0}, "u3": {"ann": 3.0, "cy": 3.0}}
    assert krippendorff_alpha(mapping, "nominal") == approx(6 / 11)
    assert krippendorff_alpha([[1.0, math.nan, 1.0], [1.0, 2.0], [3.0, 3.0]], "nominal") == approx(6 / 11)


def test_alpha_krippendorff_2011_example() -> None:
    # Krippendorff (2011) "Computing Krippendorff's alpha-reliability", 4 coders x 12 units, as units.
    units: list[list[float | None]] = [
        [1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
        [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1], [None, 3, None, None],
    ]  # fmt: skip
    assert krippendorff_alpha(units, "nominal") == approx(0.743, abs=5e-4)
    assert krippendorff_alpha(units, "ordinal") == approx(0.815, abs=5e-4)
    assert krippendorff_alpha(units, "interval") == approx(0.849, abs=5e-4)


def test_alpha_undefined() -> None:
    assert krippendorff_alpha([], "nominal") is None
    assert krippendorff_alpha([[1], [2, None]], "nominal") is None  # no unit rated twice
    assert krippendorff_alpha([[2, 2], [2, 2, 2], [5]], "interval") is None  # paired values all equal: 0/0
    assert krippendorff_alpha([[2, 2], [2, 2]], "ordinal", value_domain=[1, 2, 3]) is None  # package gives nan
    # Perfect agreement over two values is defined: 1 - 0 / D_e = 1.
    assert krippendorff_alpha([[1, 1], [2, 2]], "nominal") == approx(1.0)


def test_percent_and_item_agreement() -> None:
    # [a,a,b]: 3 pairs, 1 agreeing; [a,a]: 1 pair, 1 agreeing; [c]: no pairs -> (1 + 1) / (3 + 1) = 0.5
    assert percent_agreement([["a", "a", "b"], ["a", "a"], ["c"]]) == approx(0.5)
    assert item_agreement(["a", "a", "b"]) == approx(1 / 3)
    # [x,x,x,y,y]: pairs C(5,2) = 10, agreeing C(3,2) + C(2,2) = 4 -> 0.4
    assert item_agreement(["x", "x", "x", "y", "y"]) == approx(0.4)
    assert item_agreement(["a"]) is None
    assert item_agreement([]) is None
    assert percent_agreement([["a"], []]) is None
    assert percent_agreement([]) is None


def test_cohen_kappa_hand() -> None:
    # 50 units: yes/yes 20, yes/no 5, no/yes 10, no/no 15. p_o = 35/50 = 0.7;
    # a says yes 25, b says yes 30: p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == approx(0.4)
    # p_o = 0, p_e = 0.5 * 0.5 + 0.5 * 0.5 = 0.5 -> (0 - 0.5) / 0.5 = -1
    assert cohen_kappa(["x", "y"], ["y", "x"]) == approx(-1.0)
    assert cohen_kappa([1, 2, 3], [1, 2, 3]) == approx(1.0)


def test_cohen_kappa_edges() -> None:
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["a", "a", "a"], ["a", "a", "a"]) is None  # p_e = 1
    with pytest.raises(ValueError):
        cohen_kappa(["a"], ["a", "b"])


WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip


def test_fleiss_kappa_wikipedia() -> None:
    units = [[cat for cat, n in enumerate(row) for _ in range(n)] for row in WIKIPEDIA_FLEISS]
    # Column totals 20, 28, 39, 21, 32 of 140: P_e = (400 + 784 + 1521 + 441 + 1024) / 140^2 = 4170/19600 = 0.2128
    # sum n_ij (n_ij - 1) per row: 182, 46, 56, 80, 60, 84, 44, 32, 52, 52 = 688; P_bar = 688 / (10 * 14 * 13) = 0.3780
    # kappa = (0.378022 - 0.212755) / (1 - 0.212755) = 0.20993
    p_bar, p_e = 688 / 1820, 4170 / 19600
    assert fleiss_kappa(units, categories=range(5)) == approx((p_bar - p_e) / (1 - p_e))
    assert fleiss_kappa(units) == approx(0.20993, abs=1e-5)


def test_fleiss_kappa_varying_raters() -> None:
    # [a,a]: P = 2*1 / (2*1) = 1; [a,b,b]: P = (0 + 2*1) / (3*2) = 1/3; [b] skipped. P_bar = 2/3
    # ratings in used units a,a,a,b,b: P_e = (3/5)^2 + (2/5)^2 = 13/25
    # kappa = (2/3 - 13/25) / (12/25) = (11/75) * (25/12) = 11/36
    assert fleiss_kappa([["a", "a"], ["a", "b", "b"], ["b"]]) == approx(11 / 36)


def test_fleiss_kappa_edges() -> None:
    assert fleiss_kappa([]) is None
    assert fleiss_kappa([["a"], ["b"]]) is None
    assert fleiss_kappa([["a", "a"], ["a", "a", "a"], ["b"]]) is None  # one category in the used units: P_e = 1
    assert fleiss_kappa([["a", "a"], ["b", "b"]]) == approx(1.0)
    with pytest.raises(ValueError):
        fleiss_kappa([["a", "z"]], categories=["a", "b"])


def test_kendall_tau_b_hand() -> None:
    # 6 pairs, only (2nd, 3rd) discordant: (5 - 1) / sqrt(6 * 6) = 2/3
    assert kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4]) == approx(2 / 3)
    # x ties (2nd,3rd), y ties (3rd,4th); other 4 pairs concordant: 4 / sqrt((6 - 1) * (6 - 1)) = 0.8
    assert kendall_tau_b([1, 2, 2, 3], [1, 2, 3, 3]) == approx(0.8)
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == approx(-1.0)


def test_kendall_tau_b_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 17))
        x, y = rng.integers(0, 5, n).tolist(), rng.integers(0, 5, n).tolist()
        ours = kendall_tau_b(x, y)
        if ours is None:
            assert len(set(x)) == 1 or len(set(y)) == 1
        else:
            assert ours == approx(stats.kendalltau(x, y, variant="b").statistic)


def test_kendall_tau_b_edges() -> None:
    assert kendall_tau_b([], []) is None
    assert kendall_tau_b([1], [1]) is None
    assert kendall_tau_b([2, 2, 2], [1, 2, 3]) is None
    with pytest.raises(ValueError):
        kendall_tau_b([1, 2], [1])


def test_kendall_w_hand() -> None:
    # Rank sums 1+1+2 = 4, 2+3+1 = 6, 3+2+3 = 8, 4+4+4 = 12; mean m(n+1)/2 = 7.5
    # S = 3.5^2 + 1.5^2 + 0.5^2 + 4.5^2 = 35; W = 12 * 35 / (9 * (64 - 4)) = 420/540 = 7/9
    assert kendall_w([[1, 2, 3, 4], [1, 3, 2, 4], [2, 1, 3, 4]]) == approx(7 / 9)


def test_kendall_w_ties() -> None:
    # Tiers [1,1,2,3] -> ranks [1.5,1.5,3,4], T = 2^3 - 2 = 6; [1,2,2,3] -> [1,2.5,2.5,4], T = 6
    # Rank sums 3.5, 6, 8.5, 12; S = 4^2 + 1.5^2 + 1^2 + 4.5^2 = 39.5
    # W = 12 * 39.5 / (9 * 60 - 3 * 12) = 474 / 504 = 79/84
    assert kendall_w([[1, 2, 3, 4], [1, 1, 2, 3], [1, 2, 2, 3]]) == approx(79 / 84)
    # Rank positions with gaps (e.g. "1, 3, 3, 7") mean the same as tiers.
    assert kendall_w([[10, 20, 30, 40], [1, 1, 5, 9], [0, 2, 2, 3]]) == approx(79 / 84)


def test_kendall_w_extremes_and_edges() -> None:
    assert kendall_w([[1, 2, 3], [1, 2, 3], [1, 2, 3]]) == approx(1.0)
    assert kendall_w([[1, 2, 3], [3, 2, 1]]) == approx(0.0)  # rank sums 4, 4, 4: S = 0
    assert kendall_w([[1, 2, 3]]) is None
    assert kendall_w([[1], [1]]) is None
    assert kendall_w([[1, 1, 1], [2, 2, 2]]) is None  # denominator 4 * 24 - 2 * 48 = 0
    with pytest.raises(ValueError):
        kendall_w([[1, 2], [1, 2, 3]])


def test_average_ranks() -> None:
    assert average_ranks([30, 10, 20, 10]) == [4.0, 1.5, 3.0, 1.5]
    assert average_ranks([]) == []


def test_tier_ranks() -> None:
    # positions 1 | 2,3 -> 2.5 | 4
    assert tier_ranks([[7], [3, 9], [4]]) == {7: 1.0, 3: 2.5, 9: 2.5, 4: 4.0}
    # all tied over positions 1..3 -> 2
    assert tier_ranks([[1, 2, 3]]) == {1: 2.0, 2: 2.0, 3: 2.0}
    assert tier_ranks([]) == {}
    assert tier_ranks([[5], [], [6]]) == {5: 1.0, 6: 2.0}
    with pytest.raises(ValueError):
        tier_ranks([[1], [1]])


def test_binomial_hand() -> None:
    # P(X=k) = C(10,k) / 1024; outcomes no likelier than k=9 (p 10/1024): 0, 1, 9, 10 -> (1 + 10 + 10 + 1) / 1024
    assert binomial_two_sided_p(9, 10) == approx(22 / 1024, rel=1e-9)
    assert binomial_two_sided_p(1, 10) == approx(22 / 1024, rel=1e-9)  # symmetric
    assert binomial_two_sided_p(5, 10) == approx(1.0)  # the mode: every outcome is no likelier
    # k=0, n=3: only 0 and 3 (each 1/8) -> 2/8
    assert binomial_two_sided_p(0, 3) == approx(0.25)
    # p=0.2, n=2: P = 0.64, 0.32, 0.04; k=1 -> 0.32 + 0.04 = 0.36
    assert binomial_two_sided_p(1, 2, 0.2) == approx(0.36)
    assert binomial_two_sided_p(0, 0) == 1.0


def test_binomial_matches_scipy() -> None:
    for k, n, p in [(3, 20, 0.5), (7, 20, 0.3), (60, 100, 0.5), (520, 1000, 0.5), (5, 50, 0.02), (40, 41, 0.9)]:
        assert binomial_two_sided_p(k, n, p) == approx(stats.binomtest(k, n, p).pvalue, rel=1e-6)


def test_binomial_large_n_and_edges() -> None:
    # No timing assertion here (a shared machine makes them flaky): n = 100,000 runs in a few ms.
    assert binomial_two_sided_p(50_500, 100_000) == approx(stats.binomtest(50_500, 100_000).pvalue, rel=1e-6)
    assert binomial_two_sided_p(0, 100_000) == 0.0  # 2 * 2^-100000 underflows; far below any threshold
    assert binomial_two_sided_p(0, 5, 0.0) == 1.0
    assert binomial_two_sided_p(1, 5, 0.0) == 0.0
    for bad in [(-1, 5, 0.5), (6, 5, 0.5), (1, 5, 1.5)]:
        with pytest.raises(ValueError):
            binomial_two_sided_p(*bad)
