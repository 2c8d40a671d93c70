"""The label statistics of a scan: Tarone's count of the tests that could be significant, and the
share of a label's rows beyond the other labels' rate."""

import numpy as np

from ssti_hf.detect.statistics import excess_share, tarone_tests


def test_tarone_counts_only_tests_that_could_be_significant():
    prior = np.full(10_010, 0.5)
    rare = np.full(10_000, 10)  # best p of 10 rows at prior 0.5: 7.8e-4, not under 0.01 / m for m >= 13
    frequent = np.full(10, 500)
    assert tarone_tests(np.r_[rare, frequent], prior, 0.01) == 13  # the smallest m with <= m tests that could pass
    assert tarone_tests(np.full(50, 500), np.full(50, 0.5), 0.01) == 50
    # a 5-class corpus (prior 0.2): 10 rows can reach p ~ 1e-10, so they count
    assert tarone_tests(np.full(1000, 10), np.full(1000, 0.2), 0.01) == 1000


def test_excess_share_is_the_same_bar_for_a_small_and_a_large_label():
    # 100 rows, 5 of them in other labels: in a 13% label (SMS spam) and in an 87% label (ham)
    rows = 4862
    small = excess_share(np.array([95]), np.array([100]), np.array([632]), rows)[0]
    large = excess_share(np.array([95]), np.array([100]), np.array([4230]), rows)[0]
    assert small > 0.99 and large < 0.7  # the same purity says much more in the small label
    balanced = excess_share(np.array([95]), np.array([100]), np.array([1000]), 2000)[0]
    assert abs(balanced - (1 - 5 / 95)) < 1e-9
