"""The sweep engine: exact agreement with the plain computation, validation, tables."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from pitfalls import sweeps
from pitfalls.reconstruction import gaussian_blur


def _brains(rng, n=3, shape=(48, 40), quantise=None):
    """Smooth random 'brains' inside an ellipse, background 0."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    inside = ((yy - shape[0] / 2) / (shape[0] * 0.42)) ** 2 + (
        (xx - shape[1] / 2) / (shape[1] * 0.42)
    ) ** 2 < 1
    out = []
    for _ in range(n):
        t = gaussian_blur(rng.random(shape), 1.5)
        t = (t - t.min()) / (t.max() - t.min())
        if quantise:
            t = np.round(t * quantise) / quantise
        out.append(np.where(inside, 0.05 + 0.9 * t, 0.0))
    return np.array(out)


@pytest.mark.parametrize("quantise", [None, 4, 20])
def test_landscape_equals_reference(rng, quantise):
    images = _brains(rng, quantise=quantise)
    intensities = np.array([0.0, 0.05, 0.3, 0.5, 0.95, 1.0])
    sigmas = np.array([0.0, 0.7, 2.0, 4.5])
    fast = sweeps.intensity_blur_landscape(
        images, intensities, sigmas, radius=6, seed=3
    )
    slow = sweeps.intensity_blur_landscape_reference(
        images, intensities, sigmas, radius=6, seed=3
    )
    assert fast.shape == (6, 4, 3)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_landscape_explicit_centres_masks_and_threads(rng):
    images = _brains(rng, n=4)
    masks = images > 0.3  # a mask narrower than images > 0
    centres = np.array([[24, 20], [20, 18], [30, 22], [24, 10]])
    kw = dict(radius=5, centres=centres, masks=masks)
    one = sweeps.intensity_blur_landscape(
        images, [0.2, 0.9], [0.0, 1.5], n_jobs=1, **kw
    )
    two = sweeps.intensity_blur_landscape(
        images, [0.2, 0.9], [0.0, 1.5], n_jobs=2, **kw
    )
    ref = sweeps.intensity_blur_landscape_reference(
        images, [0.2, 0.9], [0.0, 1.5], **kw
    )
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, ref, atol=1e-9)


def test_perfect_reconstruction_finds_any_distinct_disk():
    # constant tissue 0.5, sigma 0: residual is 0 outside and |i - 0.5| inside
    images = np.zeros((1, 30, 30))
    images[0, 3:27, 3:27] = 0.5
    ap = sweeps.intensity_blur_landscape(
        images, [0.0, 0.25, 0.5, 0.75, 1.0], [0.0], radius=4, centres=[[15, 15]]
    )[:, 0, 0]
    n_brain, n_disk = 24 * 24, int(np.sum(np.hypot(*np.mgrid[-4:5, -4:5]) < 4))
    np.testing.assert_allclose(ap[[0, 1, 3, 4]], 1.0)
    # intensity equal to the tissue: every brain pixel ties at 0 -> AP = prevalence
    assert ap[2] == pytest.approx(n_disk / n_brain)


@pytest.mark.parametrize("n_pos,n_neg", [(1, 1), (5, 50), (40, 3), (200, 1000)])
def test_ap_against_sorted_negatives_matches_sklearn(rng, n_pos, n_neg):
    for levels in (3, 10, None):
        pos = rng.random((4, n_pos))
        neg = rng.random(n_neg)
        if levels:
            pos, neg = np.round(pos * levels), np.round(neg * levels)
        got = sweeps.ap_against_sorted_negatives(pos, np.sort(neg))
        for row, value in zip(pos, got):
            y = np.r_[np.ones(n_pos), np.zeros(n_neg)]
            expected = average_precision_score(y, np.r_[row, neg])
            assert value == pytest.approx(expected, abs=1e-12)


def test_ap_against_sorted_negatives_hand_case():
    # positives 0.9, 0.8; negatives 0.1, 0.8
    # threshold 0.9: TP 1, FP 0 -> P = 1;  threshold 0.8: TP 2, FP 1 -> P = 2/3
    # AP = 1/2 * 1 + 1/2 * 2/3 = 5/6
    assert sweeps.ap_against_sorted_negatives([0.9, 0.8], [0.1, 0.8]) == pytest.approx(
        5 / 6
    )
    assert np.isnan(sweeps.ap_against_sorted_negatives(np.empty((2, 0)), [0.1])).all()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (
            dict(intensities=[0.5, 1.2]),
            r"`intensities` must lie in \[0.0, 1.0\], got 1.2",
        ),
        (dict(intensities=[]), "`intensities` must be a non-empty 1D"),
        (dict(sigmas=[-1.0]), "`sigmas` must lie in >= 0.0, got -1.0"),
        (dict(radius=0), "`radius` must be > 0, got 0"),
        (dict(centres=[[1, 1]]), r"`centres` must have shape \(N, 2\) = \(2, 2\)"),
        (dict(centres=[[1, 1], [100, 3]]), r"`centres\[1\]` = \(100, 3\) lies outside"),
        (dict(masks=np.zeros((2, 5, 5), bool)), "`masks` must have the shape"),
        (dict(n_jobs=0), "`n_jobs` must be a positive int"),
    ],
)
def test_landscape_validation(rng, kwargs, match):
    images = _brains(rng, n=2, shape=(20, 20))
    args = dict(intensities=[0.5], sigmas=[1.0], radius=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sweeps.intensity_blur_landscape(
            images, args.pop("intensities"), args.pop("sigmas"), **args
        )


def test_empty_mask_is_named(rng):
    images = _brains(rng, n=2, shape=(20, 20))
    masks = images > 0
    masks[1] = False
    with pytest.raises(ValueError, match=r"`masks\[1\]` holds no brain pixel"):
        sweeps.intensity_blur_landscape(images, [0.5], [1.0], radius=3, masks=masks)


def test_landscape_table_is_tidy():
    ap = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    table = sweeps.landscape_table(ap, [0.1, 0.2], [0.0, 1.0, 2.0])
    assert list(table.columns) == ["slice", "intensity", "sigma", "ap"]
    assert len(table) == 24
    row = table[(table.slice == 3) & (table.intensity == 0.2) & (table.sigma == 1.0)]
    assert float(row.ap.iloc[0]) == ap[1, 1, 3]
    with pytest.raises(ValueError, match=r"`ap` must have shape \(2, 2, N\)"):
        sweeps.landscape_table(ap, [0.1, 0.2], [0.0, 1.0])


def test_mean_interval_covers_known_case():
    values = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, np.nan]])
    mean, low, high = sweeps.mean_interval(values, axis=-1)
    np.testing.assert_allclose(mean, [2.0, 2.0])
    # t(0.975, 2) = 4.302653; sem = 1 / sqrt(3)
    assert high[0] - mean[0] == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    assert low[1] == high[1] == 2.0
    with pytest.raises(ValueError, match="`confidence` must lie in"):
        sweeps.mean_interval(values, confidence=1.5)


@pytest.mark.parametrize("anomaly", ["sink", "source", "shuffle"])
def test_texture_curves_equal_plain_computation(rng, anomaly):
    from pitfalls import anomalies

    images = _brains(rng, n=3)
    sigmas = np.array([0.0, 1.0, 3.0])
    centres = np.array([[24, 20], [22, 18], [26, 21]])
    fast = sweeps.texture_blur_curves(
        images, anomaly, sigmas, radius=7, centres=centres, seed=5
    )
    fast_again = sweeps.texture_blur_curves(
        images, anomaly, sigmas, radius=7, centres=centres, seed=5, n_jobs=1
    )
    np.testing.assert_array_equal(fast, fast_again)  # seeded, thread-independent
    fn = {"sink": anomalies.sink_deformation, "source": anomalies.source_deformation}
    streams = np.random.SeedSequence(5).spawn(3)
    for k, image in enumerate(images):
        mask = image > 0
        if anomaly == "shuffle":
            x, label = anomalies.pixel_shuffle(
                image, centres[k], 7, mask=mask, rng=np.random.default_rng(streams[k])
            )
        else:
            x, label = fn[anomaly](image, centres[k], 7, mask=mask)
        for j, sigma in enumerate(sigmas):
            score = np.abs(x - gaussian_blur(image, sigma))
            expected = average_precision_score(label[mask], score[mask])
            assert fast[j, k] == pytest.approx(expected, abs=1e-9)


def test_texture_curves_reject_unknown_anomaly(rng):
    with pytest.raises(ValueError, match="`anomaly` must be one of .* got 'blob'"):
        sweeps.texture_blur_curves(_brains(rng, n=1), "blob", [1.0], radius=3)


@pytest.mark.parametrize("true_sigma", [0.8, 1.7, 3.2])
def test_blur_equivalent_sigma_recovers_a_blur(rng, true_sigma):
    images = _brains(rng, n=4, shape=(64, 56))

    def blur(batch):
        return gaussian_blur(batch, true_sigma)

    result = sweeps.blur_equivalent_sigma(
        blur,
        images,
        radius=6,
        intensities=np.linspace(0, 1, 21),
        sigmas=np.linspace(0, 5, 101),
        seed=2,
    )
    assert abs(result.sigma - true_sigma) <= 0.1
    assert result.distance < 1e-9  # the very same computation on the grid point
    assert result.model_ap.shape == (21, 4)


def test_model_curves_normal_mode_equals_blur_landscape(rng):
    images = _brains(rng, n=3)
    kw = dict(radius=5, seed=4)
    model = sweeps.model_intensity_curves(
        lambda b: gaussian_blur(b, 1.5), images, [0.1, 0.6, 0.9], **kw
    )
    landscape = sweeps.intensity_blur_landscape(images, [0.1, 0.6, 0.9], [1.5], **kw)
    np.testing.assert_allclose(model, landscape[:, 0, :], atol=1e-12)


def test_model_curves_anomalous_mode_matches_sklearn(rng):
    from pitfalls import anomalies

    images = _brains(rng, n=2)
    centres = np.array([[24, 20], [20, 18]])

    def recon(batch):  # a "model" that sees the disk: blur of its input
        return gaussian_blur(batch, 2.0)

    got = sweeps.model_intensity_curves(
        recon, images, [0.2, 1.0], radius=6, centres=centres, mode="anomalous"
    )
    for a, intensity in enumerate([0.2, 1.0]):
        for k, image in enumerate(images):
            mask = image > 0
            x, label = anomalies.paste_disk(image, centres[k], 6, intensity, mask=mask)
            score = np.abs(x - gaussian_blur(x, 2.0))
            assert got[a, k] == pytest.approx(
                average_precision_score(label[mask], score[mask]), abs=1e-9
            )


def test_model_curves_validation(rng):
    images = _brains(rng, n=1)
    with pytest.raises(ValueError, match="`mode` must be 'normal' or 'anomalous'"):
        sweeps.model_intensity_curves(lambda b: b, images, [0.5], radius=3, mode="x")
    with pytest.raises(ValueError, match=r"must return an array of the input's shape"):
        sweeps.model_intensity_curves(lambda b: b[:, :-1], images, [0.5], radius=3)
    with pytest.raises(TypeError, match="`reconstruct` must be callable"):
        sweeps.model_intensity_curves(3, images, [0.5], radius=3)
    with pytest.raises(ValueError, match="NaN or infinite"):
        sweeps.model_intensity_curves(lambda b: b * np.nan, images, [0.5], radius=3)


@pytest.mark.parametrize("sigma", [0.0, 0.3, 1.0, 2.7, 5.0])
def test_windowed_blur_is_bitwise_the_full_blur(rng, sigma):
    from pitfalls.sweeps import _blur_window

    for shape, where in [((60, 50), (20, 40, 15, 30)), ((40, 40), (0, 40, 3, 40))]:
        image = np.zeros(shape)
        top, bottom, left, right = where
        image[top:bottom, left:right] = rng.random((bottom - top, right - left))
        mask = np.zeros(shape, bool)
        mask[top + 2 : bottom, left : right - 1] = True
        mask[5, 2] = True  # a masked pixel outside the nonzero region
        window = _blur_window(image, mask, sigma_max=max(sigma, 1.0))
        inside = gaussian_blur(image[window], sigma)
        full = gaussian_blur(image, sigma)[window]
        assert np.array_equal(inside[mask[window]], full[mask[window]])
        assert mask[window].sum() == mask.sum()


def test_disk_covering_the_whole_brain_has_ap_one():
    images = np.zeros((1, 20, 20))
    images[0, 9:11, 9:11] = 0.5  # a 2 x 2 brain inside the radius-5 disk
    ap = sweeps.intensity_blur_landscape(
        images, [0.5, 0.9], [0.0, 2.0], radius=5, centres=[[10, 10]]
    )
    ref = sweeps.intensity_blur_landscape_reference(
        images, [0.5, 0.9], [0.0, 2.0], radius=5, centres=[[10, 10]]
    )
    np.testing.assert_allclose(ap, ref, atol=1e-12)
    np.testing.assert_array_equal(ap, 1.0)
