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


def test_sigma_below_needs_the_curve_to_stay_below():
    sigmas = [0.0, 1.0, 2.0, 3.0]
    # dips below at 1, recovers at 2, stays below from 3 on
    assert summaries.sigma_below([1.0, 0.4, 0.6, 0.3], sigmas, 0.5) == 3.0
    assert summaries.sigma_below([0.4, 0.3, 0.2, 0.1], sigmas, 0.5) == 0.0
    assert np.isnan(summaries.sigma_below([1.0, 0.9, 0.8, 0.7], sigmas, 0.5))
    assert summaries.sigma_below([1.0, 0.5, 0.5, 0.5], sigmas, 0.5) == 1.0  # at
    # several curves, one level each
    out = summaries.sigma_below(
        [[1.0, 0.9, 0.1, 0.0], [1.0, 1.0, 1.0, 1.0]], sigmas, [0.5, 0.99]
    )
    np.testing.assert_array_equal(out, [2.0, np.nan])
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 4\)"):
        summaries.sigma_below([1.0, 0.5], sigmas, 0.5)
    with pytest.raises(ValueError, match="ascending"):
        summaries.sigma_below([1.0, 0.5], [1.0, 0.0], 0.5)


def test_chance_sigma_is_a_multiple_of_chance():
    curve = np.array([0.9, 0.3, 0.15, 0.1, 0.08])
    sigmas = np.arange(5.0)
    assert summaries.chance_sigma(curve, sigmas, 0.05) == 3.0  # 2 x 0.05
    assert summaries.chance_sigma(curve, sigmas, 0.05, factor=3) == 2.0
    assert np.isnan(summaries.chance_sigma(curve, sigmas, 0.05, factor=1))
    with pytest.raises(ValueError, match="`factor` must be >= 1"):
        summaries.chance_sigma(curve, sigmas, 0.05, factor=0.5)
    with pytest.raises(ValueError, match=r"`chance` must lie in \(0, 1\]"):
        summaries.chance_sigma(curve, sigmas, 0.0)


def test_label_change_separates_pixels_from_histogram(rng):
    healthy = rng.random((2, 6, 6))
    labels = np.zeros((2, 6, 6), bool)
    labels[:, 1:4, 2:5] = True
    shuffled = healthy.copy()
    for k in range(2):  # permute the label's pixels: same histogram
        values = healthy[k][labels[k]]
        shuffled[k][labels[k]] = values[rng.permutation(values.size)]
    pixel, hist = summaries.label_change(healthy, shuffled, labels)
    np.testing.assert_array_equal(hist, [0.0, 0.0])
    assert (pixel > 0).all()
    # a constant disk on a constant region: both equal |i - c|
    flat = np.full((5, 5), 0.3)
    disk = flat.copy()
    disk[1:3, 1:3] = 0.8
    lab = disk != flat
    assert summaries.label_change(flat, disk, lab) == pytest.approx((0.5, 0.5))
    # an empty label gives NaN, and the shapes must agree
    empty = summaries.label_change(healthy, shuffled, np.zeros_like(labels))
    assert np.isnan(empty).all()
    with pytest.raises(ValueError, match="same shape"):
        summaries.label_change(healthy, shuffled[0], labels)


def test_rank_correlation():
    assert summaries.rank_correlation([1, 2, 3, 4], [2, 4, 6, 9]) == pytest.approx(1.0)
    assert summaries.rank_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="1D of one length >= 3"):
        summaries.rank_correlation([1, 2], [1, 2])
