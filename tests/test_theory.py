"""Tests of pitfalls.theory: exact special cases, scikit-learn agreement, the
reduction of the prediction to the simulation, and the error paths."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from pitfalls import sweeps, theory
from pitfalls.anomalies import disk_label
from pitfalls.reconstruction import gaussian_blur


def _brains(rng, n=3, shape=(40, 36), quantise=None):
    """Smooth random 'brains' inside an ellipse, background 0."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    inside = ((yy - shape[0] / 2) / (shape[0] * 0.45)) ** 2 + (
        (xx - shape[1] / 2) / (shape[1] * 0.45)
    ) ** 2 < 1
    out = []
    for _ in range(n):
        t = gaussian_blur(rng.random(shape), 1.2)
        t = (t - t.min()) / (t.max() - t.min())
        if quantise:
            t = np.round(t * quantise) / quantise
        out.append(np.where(inside, 0.05 + 0.9 * t, 0.0))
    return np.array(out)


# --------------------------------------------------------------------------- #
# population_average_precision
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("kind", ["continuous", "ties", "few-values"])
@pytest.mark.parametrize("sizes", [(1, 1), (1, 9), (7, 1), (30, 200), (150, 40)])
def test_population_ap_equals_sklearn_at_sample_proportion(rng, kind, sizes):
    n_pos, n_neg = sizes
    draw = {
        "continuous": lambda n: rng.random(n),
        "ties": lambda n: np.round(rng.random(n), 1),
        "few-values": lambda n: rng.integers(0, 3, n).astype(float),
    }[kind]
    pos, neg = draw((4, n_pos)), np.sort(draw(n_neg))
    prevalence = n_pos / (n_pos + n_neg)
    got = theory.population_average_precision(pos, neg, prevalence)
    for row, value in zip(pos, got):
        target = np.r_[np.ones(n_pos), np.zeros(n_neg)]
        expected = average_precision_score(target, np.r_[row, neg])
        assert value == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(
        got, sweeps.ap_against_sorted_negatives(pos, neg), atol=1e-12
    )


def test_population_ap_hand_case_and_prevalence_per_row():
    neg = np.array([0.1, 0.8])
    # t = 0.9: S_A = 1/2, S_N = 0 -> precision 1;
    # t = 0.8: S_A = 1, S_N = 1/2 -> precision pi / (pi + (1 - pi) / 2)
    for pi in (0.1, 0.5, 0.9):
        expected = (1 + pi / (pi + (1 - pi) / 2)) / 2
        got = theory.population_average_precision([0.9, 0.8], neg, pi)
        assert got.shape == ()
        assert float(got) == pytest.approx(expected)
    rows = theory.population_average_precision([[0.9, 0.8]] * 3, neg, [0.1, 0.5, 0.9])
    assert np.all(np.diff(rows) > 0)  # rarer anomalies: lower AP


def test_population_ap_limits():
    neg = np.sort(np.random.default_rng(0).random(50))
    # prevalence 1: every threshold is all anomalies
    assert float(theory.population_average_precision([0.2, 0.3], neg, 1.0)) == 1.0
    # anomalies above every normal score: AP 1 at any prevalence
    assert float(theory.population_average_precision([2.0, 3.0], neg, 1e-6)) == 1.0
    # same distribution: AP equals the prevalence
    ap = theory.population_average_precision(neg, neg, 0.07)
    assert float(ap) == pytest.approx(0.07)


@pytest.mark.parametrize(
    "args, match",
    [
        (([0.1, np.nan], [0.0], 0.5), "`positives` must not contain NaN"),
        (([0.1], [0.2, 0.1], 0.5), "`negatives_sorted` must be sorted ascending"),
        (([0.1], [], 0.5), "`negatives_sorted` must be a non-empty 1D"),
        (([0.1], [[0.1]], 0.5), "`negatives_sorted` must be a non-empty 1D"),
        (([0.1], [0.0], 0.0), r"`prevalence` must lie in \(0, 1\], got 0.0"),
        (([0.1], [0.0], 1.5), r"`prevalence` must lie in \(0, 1\], got 1.5"),
        (([0.1], [0.0], np.nan), r"`prevalence` must lie in \(0, 1\], got nan"),
        (
            ([[0.1], [0.2]], [0.0], [0.5]),
            r"`prevalence` must be a scalar or have shape \(2,\)",
        ),
        ((np.zeros((2, 0)), [0.0], 0.5), "`positives` must hold at least one score"),
        ((np.zeros((1, 1, 1)), [0.0], 0.5), "`positives` must be 1D or 2D"),
    ],
)
def test_population_ap_errors(args, match):
    with pytest.raises(ValueError, match=match):
        theory.population_average_precision(*args)


# --------------------------------------------------------------------------- #
# precision_curve, critical_residual, disk_area, disk_prevalences
# --------------------------------------------------------------------------- #


def test_precision_curve_matches_population_ap(rng):
    pos, neg = rng.random(40) + 0.3, rng.random(300)
    s_a, s_n, precision = theory.precision_curve(np.sort(pos), pos, neg, 0.1)
    ap = theory.population_average_precision(pos, np.sort(neg), 0.1)
    assert precision.mean() == pytest.approx(float(ap))  # no ties: one t per positive
    assert np.all(np.diff(s_a) <= 0) and np.all(np.diff(s_n) <= 0)
    # beyond every score both survivals vanish: precision undefined
    assert np.isnan(theory.precision_curve([5.0], pos, neg, 0.1)[2][0])


def test_precision_curve_errors():
    with pytest.raises(ValueError, match="must not be empty"):
        theory.precision_curve([0.5], [], [0.1], 0.5)
    with pytest.raises(ValueError, match="`thresholds` must not contain NaN"):
        theory.precision_curve([np.nan], [0.2], [0.1], 0.5)


@pytest.mark.parametrize("pi", [0.01, 0.05, 0.2, 0.4])
def test_critical_residual_bounds_precision(rng, pi):
    neg = np.sort(np.round(rng.random(500), 2))  # with ties
    t_star = theory.critical_residual(neg, pi)
    # any anomalous pixel scoring at most t* has precision < 1/2 even if it is
    # the lowest anomaly (S_A = 1), and just above t* one half is reachable
    _, _, at = theory.precision_curve([t_star], [t_star], neg, pi)
    assert at[0] < 0.5
    above = np.nextafter(t_star, np.inf)
    _, _, beyond = theory.precision_curve([above], [above], neg, pi)
    assert beyond[0] >= 0.5


def test_critical_residual_without_bound_and_errors():
    assert theory.critical_residual([0.0, 1.0], 0.5) == -np.inf
    with pytest.raises(ValueError, match="`prevalence` must lie in"):
        theory.critical_residual([0.0, 1.0], 0.0)
    with pytest.raises(ValueError, match="sorted ascending"):
        theory.critical_residual([1.0, 0.0], 0.1)


@pytest.mark.parametrize("radius", [1, 2.5, 5, 20])
def test_disk_area_is_the_drawn_disk(radius):
    label = disk_label((101, 101), (50, 50), radius)
    assert theory.disk_area(radius) == int(label.sum())
    assert abs(theory.disk_area(radius) - np.pi * radius**2) < 2 * np.pi * radius


def test_disk_area_errors():
    with pytest.raises(ValueError, match="`radius` must be > 0, got 0"):
        theory.disk_area(0)
    with pytest.raises(TypeError, match="`radius` must be a real number"):
        theory.disk_area("3")


def test_disk_prevalences_clipping():
    masks = np.ones((2, 30, 30), dtype=bool)
    masks[1, :, 15:] = False
    prev = theory.disk_prevalences(masks, 4, [[15, 15], [15, 14]])
    area = theory.disk_area(4)
    np.testing.assert_allclose(prev.nominal, [area / 900, area / 450])
    assert prev.actual[0] == prev.nominal[0]  # fully inside
    assert prev.actual[1] < prev.nominal[1]  # half outside the brain
    with pytest.raises(ValueError, match=r"`centres\[0\]` = \(40, 1\) lies outside"):
        theory.disk_prevalences(masks, 4, [[40, 1], [1, 1]])


# --------------------------------------------------------------------------- #
# Helpers of the prediction
# --------------------------------------------------------------------------- #


def test_sorted_distances_equal_a_plain_sort(rng):
    values = np.sort(np.r_[np.round(rng.random(60), 1), 0.0, 1.0])
    intensities = np.array([0.0, 0.1, 0.35, 0.5, 1.0])
    got = theory._sorted_distances(intensities, values)
    expected = np.sort(np.abs(intensities[:, None] - values[None, :]), axis=1)
    np.testing.assert_array_equal(got, expected)


def test_order_statistics():
    values = np.arange(10.0)
    assert theory._order_statistics(values, None) is values
    assert theory._order_statistics(values, 50) is values
    np.testing.assert_array_equal(theory._order_statistics(values, 5), [1, 3, 5, 7, 9])


def test_brain_residuals(rng):
    images = _brains(rng, n=2)
    res = theory.brain_residuals(images, 1.5)
    recon = gaussian_blur(images, 1.5)
    masks = images > 0
    np.testing.assert_array_equal(res.recon, recon[masks])
    np.testing.assert_array_equal(res.normal, np.abs(images[masks] - recon[masks]))
    np.testing.assert_array_equal(res.anomalous(0.4), np.abs(0.4 - recon[masks]))


# --------------------------------------------------------------------------- #
# predict_landscape: exact cases and the definition
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("tissue", [0.3, 0.5, 0.71])
@pytest.mark.parametrize("n_quantiles", [None, 16])
def test_prediction_for_constant_image_is_exact(tissue, n_quantiles):
    # the brain fills the image; the reflect boundary keeps the blur constant
    # up to rounding, where normal and anomalous residuals of i = c coincide
    images = np.full((2, 24, 24), tissue)
    intensities = np.array([0.0, tissue, 0.9, 1.0])
    sigmas = [0.0, 0.8, 3.0]
    ap = theory.predict_landscape(
        images, intensities, sigmas, radius=3, n_quantiles=n_quantiles
    )
    prevalence = theory.disk_area(3) / 24**2
    others = intensities != tissue
    np.testing.assert_array_equal(ap[others], 1.0)
    if n_quantiles is None or tissue == 0.5:  # exactly constant summary
        np.testing.assert_allclose(ap[~others], prevalence, rtol=1e-12)


def test_perfect_reconstruction_finds_any_other_intensity(rng):
    images = _brains(rng, n=2, quantise=5)  # tissue takes 6 values
    tissue = np.unique(images[images > 0])
    intensities = np.array([0.0, 0.12, 0.33, 0.5, 0.77, 1.0])
    assert not np.isin(intensities, tissue).any()
    ap = theory.predict_landscape(images, intensities, [0.0], radius=3)
    np.testing.assert_array_equal(ap, 1.0)
    variants = theory.slice_predictions(images, intensities, [0.0], radius=3, seed=1)
    for field in variants:
        np.testing.assert_array_equal(field, 1.0)


def test_prediction_is_population_ap_of_pooled_brain_pixels(rng):
    images = _brains(rng, n=3)
    intensities, sigmas = np.array([0.1, 0.45, 0.8]), np.array([0.5, 2.0])
    ap = theory.predict_landscape(
        images, intensities, sigmas, radius=4, n_quantiles=None
    )
    masks = images > 0
    prevalence = theory.disk_area(4) / masks.sum(axis=(1, 2)).mean()
    for j, sigma in enumerate(sigmas):
        res = theory.brain_residuals(images, sigma)
        positives = np.abs(intensities[:, None] - res.recon[None, :])
        expected = theory.population_average_precision(
            positives, np.sort(res.normal), prevalence
        )
        np.testing.assert_allclose(ap[:, j], expected, atol=1e-12)


def test_prediction_chunks_and_quantile_summary(rng, monkeypatch):
    images = _brains(rng, n=2)
    grid = dict(intensities=np.linspace(0, 1, 7), sigmas=[1.0, 3.0], radius=4)
    exact = theory.predict_landscape(images, n_quantiles=None, **grid)
    monkeypatch.setattr(theory, "_CHUNK", 1000)  # a few intensities at a time
    np.testing.assert_array_equal(
        theory.predict_landscape(images, n_quantiles=None, **grid), exact
    )
    summary = theory.predict_landscape(images, n_quantiles=256, **grid)
    assert np.abs(summary - exact).max() < 0.02


# --------------------------------------------------------------------------- #
# slice_predictions: each variant by definition, the last one is the simulation
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("quantise", [None, 6])
def test_disk_variant_equals_simulated_landscape(rng, quantise):
    images = _brains(rng, n=3, quantise=quantise)
    intensities = np.array([0.0, 0.05, 0.3, 0.5, 0.95, 1.0])
    sigmas = np.array([0.0, 0.7, 2.0, 4.5])
    variants = theory.slice_predictions(images, intensities, sigmas, radius=6, seed=3)
    simulated = sweeps.intensity_blur_landscape(images, intensities, sigmas, radius=6,
                                                seed=3)
    assert variants.disk.shape == simulated.shape == (6, 4, 3)
    np.testing.assert_allclose(variants.disk, simulated, rtol=0, atol=1e-9)


def test_disk_variant_equals_simulation_with_masks_and_clipped_disks(rng):
    images = _brains(rng, n=3)
    masks = images > 0.3
    centres = np.array([[20, 18], [3, 18], [20, 2]])  # two disks cut by the edge
    kw = dict(radius=5, centres=centres, masks=masks)
    variants = theory.slice_predictions(images, [0.2, 0.6, 0.9], [0.0, 1.5], **kw)
    simulated = sweeps.intensity_blur_landscape(images, [0.2, 0.6, 0.9], [0.0, 1.5],
                                                **kw)
    np.testing.assert_allclose(variants.disk, simulated, atol=1e-9)


def test_brain_and_label_variants_by_definition(rng):
    images = _brains(rng, n=2)
    masks = images > 0
    centres = np.array([[20, 18], [4, 18]])
    intensities, sigmas = np.array([0.2, 0.55, 0.9]), np.array([1.0, 2.5])
    variants = theory.slice_predictions(
        images, intensities, sigmas, radius=5, centres=centres, n_quantiles=None,
        n_jobs=1,
    )
    area = theory.disk_area(5)
    for k in range(2):
        label = disk_label(masks[k].shape, centres[k], 5, mask=masks[k])
        for j, sigma in enumerate(sigmas):
            recon = gaussian_blur(images[k], sigma)
            positives = np.abs(intensities[:, None] - recon[masks[k]][None, :])
            normal_all = np.sort(np.abs(images[k] - recon)[masks[k]])
            normal_out = np.sort(np.abs(images[k] - recon)[masks[k] & ~label])
            brain = theory.population_average_precision(
                positives, normal_all, area / masks[k].sum()
            )
            labelled = theory.population_average_precision(
                positives, normal_out, label.sum() / masks[k].sum()
            )
            np.testing.assert_allclose(variants.brain[:, j, k], brain, atol=1e-12)
            np.testing.assert_allclose(variants.label[:, j, k], labelled, atol=1e-12)
    # the second disk is clipped: lower prevalence, lower AP than nominal
    assert np.all(variants.label[:, :, 1] <= variants.brain[:, :, 1] + 1e-12)


def test_slice_predictions_threads_and_summary(rng):
    images = _brains(rng, n=4)
    grid = dict(intensities=[0.1, 0.5, 0.9], sigmas=[1.0, 3.0], radius=4, seed=2)
    one = theory.slice_predictions(images, n_jobs=1, **grid)
    two = theory.slice_predictions(images, n_jobs=2, **grid)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    exact = theory.slice_predictions(images, n_quantiles=None, **grid)
    assert np.abs(exact.brain - one.brain).max() < 0.02
    np.testing.assert_array_equal(exact.disk, one.disk)  # the disk is never summarised


# --------------------------------------------------------------------------- #
# blind_spot_profile
# --------------------------------------------------------------------------- #


def test_blind_spot_profile_by_definition(rng):
    images = _brains(rng, n=2)
    intensities = np.array([0.0, 0.3, 0.5, 0.7, 1.0])
    spot = theory.blind_spot_profile(
        images, intensities, 2.0, radius=4, n_quantiles=None
    )
    res = theory.brain_residuals(images, 2.0)
    anomalous = np.abs(intensities[:, None] - res.recon[None, :])
    np.testing.assert_allclose(spot.typical_residual, np.median(anomalous, axis=1))
    normal = res.normal
    np.testing.assert_allclose(
        spot.exceedance,
        (normal[None, :] >= spot.typical_residual[:, None]).mean(axis=1),
    )
    full = theory.predict_landscape(images, intensities, [2.0], radius=4,
                                    n_quantiles=None)
    np.testing.assert_allclose(spot.ap, full[:, 0], atol=1e-12)
    # P(n >= a) over all (normal, anomalous) pairs
    expected_mean = (normal[None, :, None] >= anomalous[:, None, :]).mean(axis=(1, 2))
    np.testing.assert_allclose(spot.mean_exceedance, expected_mean, atol=1e-12)
    assert spot.critical_residual == theory.critical_residual(
        np.sort(normal), spot.prevalence
    )


def test_blind_spot_dips_where_tissue_is_dense():
    # three quarters of the brain at 0.3, one quarter at 0.8, an edge between
    images = np.zeros((1, 40, 40))
    images[0, 4:36, 4:28], images[0, 4:36, 28:36] = 0.3, 0.8
    intensities = np.linspace(0, 1, 11)
    spot = theory.blind_spot_profile(images, intensities, 1.0, radius=3)
    assert intensities[np.argmin(spot.typical_residual)] == pytest.approx(0.3)
    assert intensities[np.argmax(spot.exceedance)] == pytest.approx(0.3)
    # the rarer tissue 0.8 is much less of a blind spot than the dense 0.3
    assert spot.ap[3] < 0.5 * min(spot.ap[0], spot.ap[8], spot.ap[10])


# --------------------------------------------------------------------------- #
# landscape_agreement
# --------------------------------------------------------------------------- #


def test_landscape_agreement_means_and_noise(rng):
    per_slice = rng.random((3, 4, 30))
    mean = per_slice.mean(axis=-1)
    same = theory.landscape_agreement(mean, per_slice)
    assert same.mean_abs == 0 and same.within_noise == 1.0
    assert np.isnan(same.per_slice_mean_abs)
    far = theory.landscape_agreement(mean + 1.0, per_slice)
    assert far.within_noise == 0.0 and far.bias == pytest.approx(1.0)
    paired = theory.landscape_agreement(per_slice + 0.5, per_slice)
    assert paired.within_noise == 0.0  # a constant shift has no noise
    assert paired.per_slice_mean_abs == pytest.approx(0.5)
    noisy = theory.landscape_agreement(per_slice, per_slice[..., ::-1])
    assert noisy.mean_abs == pytest.approx(0.0, abs=1e-12)
    assert noisy.within_noise == 1.0 and noisy.per_slice_mean_abs > 0.1
    plain = theory.landscape_agreement(mean, mean)
    assert np.isnan(plain.within_noise)


def test_landscape_agreement_errors():
    with pytest.raises(ValueError, match="same \\(n_i, n_s\\)"):
        theory.landscape_agreement(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="per-slice `first` and `second`"):
        theory.landscape_agreement(np.zeros((2, 3, 4)), np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="`confidence` must lie in"):
        theory.landscape_agreement(np.zeros((2, 3)), np.zeros((2, 3)), confidence=1)


# --------------------------------------------------------------------------- #
# Validation of the landscape functions
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(radius=40), ValueError, r"`radius` = 40 gives a disk of \d+ pixels"),
        (dict(n_quantiles=0), ValueError, "`n_quantiles` must be >= 1, got 0"),
        (dict(n_quantiles=2.5), TypeError, "`n_quantiles` must be an int or None"),
        (dict(sigmas=[-1.0]), ValueError, "`sigmas` must lie in >= 0.0, got -1.0"),
        (dict(intensities=[1.5]), ValueError, r"`intensities` must lie in \[0.0, 1"),
        (dict(masks=np.ones((1, 5, 5), bool)), ValueError, "`masks` must have the"),
    ],
)
def test_predict_landscape_errors(rng, kwargs, error, match):
    args = dict(images=_brains(rng, n=1), intensities=[0.5], sigmas=[1.0], radius=3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        theory.predict_landscape(**args)


def test_other_errors(rng):
    images = _brains(rng, n=1)
    with pytest.raises(ValueError, match="`sigma` must be >= 0, got -0.5"):
        theory.brain_residuals(images, -0.5)
    with pytest.raises(TypeError, match="`sigma` must be a real number"):
        theory.blind_spot_profile(images, [0.5], "2", radius=3)
    with pytest.raises(ValueError, match=r"`masks\[0\]` holds no brain pixel"):
        theory.brain_residuals(images, 1.0, masks=np.zeros_like(images, dtype=bool))
    with pytest.raises(ValueError, match="`radius` = 30"):
        theory.slice_predictions(images, [0.5], [1.0], radius=30)
