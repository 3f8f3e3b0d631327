"""Reductions the chapters quote."""

import numpy as np
import pytest

from pitfalls import summaries


def test_dense_band_is_shortest_interval(rng):
    values = np.r_[rng.normal(0.3, 0.01, 900), rng.uniform(0, 1, 100)]
    lo, hi = summaries.dense_band(values, mass=0.8)
    inside = np.mean((values >= lo) & (values <= hi))
    assert inside >= 0.8
    # brute force over all windows of the sorted sample
    x = np.sort(values)
    k = int(np.ceil(0.8 * x.size))
    assert hi - lo == pytest.approx(np.min(x[k - 1 :] - x[: x.size - k + 1]))
    with pytest.raises(ValueError, match="`mass` must lie in"):
        summaries.dense_band(values, mass=0)
    with pytest.raises(ValueError, match="no finite value"):
        summaries.dense_band([np.nan])


def test_histogram_peaks_finds_two_modes(rng):
    values = np.r_[rng.normal(0.3, 0.03, 5000), rng.normal(0.7, 0.03, 3000)]
    np.testing.assert_allclose(summaries.histogram_peaks(values), [0.3, 0.7], atol=0.02)


def test_blind_band_and_safe_sigma():
    assert np.isnan(summaries.blind_band([0.9, 0.8], [0.0, 1.0])).all()
    assert summaries.blind_band([1, 0.2, 0.9, 0.1], [0, 0.3, 0.6, 0.9]) == (0.3, 0.9)
    with pytest.raises(ValueError, match="same shape"):
        summaries.blind_band([1.0], [0.0, 1.0])
    ap = np.array([[1.0, 0.95, 0.5, 0.99], [1.0, 0.92, 0.95, 0.99]])
    assert summaries.safe_sigma(ap, [0, 1, 2, 3]) == 1
    assert np.isnan(summaries.safe_sigma(ap * 0.5, [0, 1, 2, 3]))
    assert summaries.safe_sigma(np.ones((2, 3)), [0, 1, 2]) == 2


def test_chance_level_is_label_share():
    labels = np.zeros((2, 4, 4), bool)
    labels[0, :2, :2] = True
    masks = np.ones((2, 4, 4), bool)
    masks[1, :, :2] = False
    np.testing.assert_allclose(summaries.chance_level(labels, masks), [4 / 16, 0])


def test_closest_curve_l1():
    idx, dist = summaries.closest_curve([0.2, 0.2], [[0.0, 0.0], [0.3, 0.2], [1, 1]])
    assert idx == 1
    np.testing.assert_allclose(dist, [0.2, 0.05, 0.8])
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        summaries.closest_curve([0.2, 0.2], [0.0, 0.0])
