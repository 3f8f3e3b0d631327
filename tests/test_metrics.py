"""Tests of pitfalls.metrics: scikit-learn agreement, hand cases, error paths."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from pitfalls.metrics import (
    METRICS,
    UndefinedMetricWarning,
    _binary_clf_curve,
    auroc,
    average_precision,
    best_dice,
    per_image,
    pooled,
)

# --------------------------------------------------------------------------- #
# Random cases, generated once from a fixed seed
# --------------------------------------------------------------------------- #

N_CASES = 320
SIZES = (1, 2, 3, 7, 40, 333, (6, 9), (3, 8, 8))
SCORE_KINDS = ("int0-1", "int0-3", "int0-9", "uniform", "rounded", "constant", "inf")
POSITIVE_KINDS = ("one", "all", "all-but-one", "few", "half")


def _draw_score(rng, shape, kind):
    if kind == "int0-1":
        return rng.integers(0, 2, shape).astype(float)
    if kind == "int0-3":
        return rng.integers(0, 4, shape)  # integer dtype on purpose
    if kind == "int0-9":
        return rng.integers(0, 10, shape).astype(float)
    if kind == "uniform":
        return rng.random(shape)
    if kind == "rounded":
        return np.round(rng.normal(size=shape), 1)
    if kind == "constant":
        return np.full(shape, 0.25)
    # scores from a few values including +-inf
    return rng.choice([-np.inf, 0.0, 1.0, np.inf], size=shape)


def _draw_target(rng, shape, kind):
    size = int(np.prod(shape))
    flat = np.zeros(size, dtype=bool)
    if kind == "one":
        flat[rng.integers(size)] = True
    elif kind == "all":
        flat[:] = True
    elif kind == "all-but-one":
        flat[:] = True
        flat[rng.integers(size)] = False
    elif kind == "few":
        flat[rng.choice(size, size=max(1, size // 10), replace=False)] = True
    else:
        flat = rng.random(size) < 0.5
    if not flat.any():  # small sizes: keep every metric but AUROC defined
        flat[rng.integers(size)] = True
    return flat.reshape(shape)


def _make_cases(seed=20220706):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(N_CASES):
        shape = SIZES[i % len(SIZES)]
        score_kind = SCORE_KINDS[(i // len(SIZES)) % len(SCORE_KINDS)]
        positive_kind = POSITIVE_KINDS[i % len(POSITIVE_KINDS)]
        target = _draw_target(rng, shape, positive_kind)
        score = _draw_score(rng, shape, score_kind)
        mask = None
        if i % 3 == 0:
            mask = rng.random(np.shape(target)) < 0.7
            # keep one positive inside the mask, so every metric but AUROC is defined
            mask.flat[np.flatnonzero(target)[0]] = True
        cases.append(
            pytest.param(
                target,
                score,
                mask,
                id=f"{i}-{shape}-{score_kind}-{positive_kind}-mask{mask is not None}",
            )
        )
    return cases


CASES = _make_cases()


def _selected(target, score, mask):
    """Return the evaluated pixels as flat arrays, as scikit-learn sees them."""
    target, score = np.asarray(target).astype(bool), np.asarray(score, dtype=float)
    if mask is None:
        return target.ravel(), score.ravel()
    return target[mask], score[mask]


def _has_both_classes(case):
    target, _, mask = case.values
    target = _selected(target, np.zeros(np.shape(target)), mask)[0]
    return 0 < target.sum() < target.size


AUROC_CASES = [case for case in CASES if _has_both_classes(case)]


def _sklearn_score(score):
    # scikit-learn rejects infinite scores; map them onto finite values outside the
    # finite range, which keeps every ranking and tie unchanged
    finite = score[np.isfinite(score)]
    low = finite.min() - 1 if finite.size else -1.0
    high = finite.max() + 1 if finite.size else 1.0
    return np.where(score == np.inf, high, np.where(score == -np.inf, low, score))


def _brute_force_best_dice(target, score):
    """Loop over the distinct scores; return the best 2TP / (2TP + FP + FN)."""
    best = 0.0
    for threshold in np.unique(score):
        predicted = score >= threshold
        tp = np.sum(predicted & target)
        fp = np.sum(predicted & ~target)
        fn = np.sum(~predicted & target)
        best = max(best, 2 * tp / (2 * tp + fp + fn))
    return best


def test_case_tables_are_large_and_varied():
    assert len(CASES) >= 200
    assert len(AUROC_CASES) >= 200
    ties = [c for c in CASES if np.unique(c.values[1]).size < np.size(c.values[1])]
    assert len(ties) >= 150


# --------------------------------------------------------------------------- #
# Agreement with scikit-learn and with brute force
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("target", "score", "mask"), CASES)
def test_average_precision_matches_sklearn(target, score, mask):
    expected = average_precision_score(*_selected(target, _sklearn_score(score), mask))
    assert average_precision(target, score, mask=mask) == pytest.approx(
        expected, abs=1e-9
    )


@pytest.mark.parametrize(("target", "score", "mask"), AUROC_CASES)
def test_auroc_matches_sklearn(target, score, mask):
    expected = roc_auc_score(*_selected(target, _sklearn_score(score), mask))
    assert auroc(target, score, mask=mask) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("target", "score", "mask"), CASES)
def test_best_dice_matches_brute_force(target, score, mask):
    expected = _brute_force_best_dice(*_selected(target, score, mask))
    assert best_dice(target, score, mask=mask) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_large_image_with_brain_mask_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    # a 64 x 64 "slice": brain disk, anomaly blob, residual with many ties
    rows, cols = np.mgrid[:64, :64]
    brain = (rows - 32) ** 2 + (cols - 32) ** 2 < 28**2
    target = ((rows - 30) ** 2 + (cols - 38) ** 2 < 6**2) & brain
    score = np.round(rng.gamma(2.0, 0.05, (64, 64)) + 0.2 * target, 2)
    t, s = target[brain], score[brain]
    assert average_precision(target, score, mask=brain) == pytest.approx(
        average_precision_score(t, s), abs=1e-9
    )
    assert auroc(target, score, mask=brain) == pytest.approx(
        roc_auc_score(t, s), abs=1e-9
    )


# --------------------------------------------------------------------------- #
# Tiny cases computed by hand
# --------------------------------------------------------------------------- #


def test_average_precision_by_hand_with_tie():
    # thresholds 0.9, 0.8, 0.1 (descending, 0.8 tied between a positive and a
    # negative), two positives:
    #   t = 0.9: TP 1, FP 0 -> P = 1,   R = 1/2
    #   t = 0.8: TP 2, FP 1 -> P = 2/3, R = 1
    #   t = 0.1: TP 2, FP 2 -> P = 1/2, R = 1 (no recall gained)
    # AP = 1/2 * 1 + 1/2 * 2/3 + 0 * 1/2 = 5/6
    target, score = [1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1]
    assert average_precision(target, score) == pytest.approx(5 / 6, abs=1e-15)


def test_average_precision_by_hand_all_tied():
    # one threshold: everything predicted positive, P = 2/5, R = 1 -> AP = 2/5
    assert average_precision([1, 0, 0, 1, 0], [3, 3, 3, 3, 3]) == pytest.approx(0.4)


def test_average_precision_by_hand_perfect_and_worst():
    # positives ranked first: P = 1 at both recall steps -> AP = 1
    assert average_precision([0, 1, 1], [0.1, 0.5, 0.7]) == 1.0
    # single positive ranked last of 4: one recall step of 1 with P = 1/4
    assert average_precision([1, 0, 0, 0], [0, 1, 2, 3]) == pytest.approx(0.25)


def test_average_precision_by_hand_with_mask():
    # the mask drops the negative tied at 0.8: thresholds 0.9 (P 1, R 1/2) and
    # 0.8 (P 1, R 1), then 0.1 adds a negative only -> AP = 1
    target, score = [1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1]
    assert average_precision(target, score, mask=[1, 0, 1, 1]) == 1.0


def test_auroc_by_hand_with_tie():
    # positive-negative pairs: (0.9, 0.8) won, (0.9, 0.1) won, (0.8, 0.8) tied,
    # (0.8, 0.1) won -> (1 + 1 + 1/2 + 1) / 4 = 7/8
    assert auroc([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1]) == pytest.approx(0.875)


def test_auroc_by_hand_all_tied_and_reversed():
    # every pair tied -> 1/2; positives all ranked below negatives -> 0
    assert auroc([1, 0, 1, 0], [2, 2, 2, 2]) == pytest.approx(0.5)
    assert auroc([1, 1, 0], [0.1, 0.2, 0.3]) == 0.0


def test_best_dice_by_hand():
    # t = 0.9: TP 1, FP 0, FN 1 -> 2 / (2 + 0 + 1) = 2/3
    # t = 0.8: TP 2, FP 1, FN 0 -> 4 / (4 + 1 + 0) = 4/5
    # t = 0.1: TP 2, FP 2, FN 0 -> 4 / (4 + 2 + 0) = 2/3
    assert best_dice([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1]) == pytest.approx(0.8)


def test_best_dice_perfect_separation_is_one():
    target = np.zeros((5, 5), dtype=bool)
    target[1:3, 1:4] = True
    assert best_dice(target, target * 2.0 + 1.0) == 1.0


def test_binary_clf_curve_groups_ties_by_hand():
    # sorted descending: 3 (neg), 2 (pos, neg), 1 (pos), inf first of all (pos)
    target = np.array([0, 1, 0, 1, 1], dtype=bool)
    score = np.array([3.0, 2.0, 2.0, 1.0, np.inf])
    tps, fps, thresholds = _binary_clf_curve(target, score)
    np.testing.assert_array_equal(thresholds, [np.inf, 3.0, 2.0, 1.0])
    np.testing.assert_array_equal(tps, [1, 1, 2, 3])
    np.testing.assert_array_equal(fps, [0, 1, 2, 2])


def test_inputs_are_not_modified_and_any_shape_is_flattened():
    target = np.array([[1, 0], [1, 0]])
    score = np.array([[0.9, 0.8], [0.8, 0.1]])
    before = score.copy()
    assert average_precision(target, score) == pytest.approx(5 / 6)
    np.testing.assert_array_equal(score, before)


def test_bool_scores_are_accepted():
    # a binary prediction as score: one threshold at True gives P 1/2, R 1/2,
    # then False adds the rest: P 2/4, R 1 -> AP = 1/2 * 1/2 + 1/2 * 1/2 = 1/2
    target = [1, 0, 1, 0]
    score = np.array([True, True, False, False])
    assert average_precision(target, score) == pytest.approx(0.5)
    assert best_dice(target, score) == pytest.approx(2 / 3)  # t = True: 2/(2+1+1)


# --------------------------------------------------------------------------- #
# Undefined cases
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("metric", "name"),
    [(average_precision, "average precision"), (auroc, "AUROC"), (best_dice, "Dice")],
)
def test_no_positive_returns_nan_and_warns(metric, name):
    with pytest.warns(UndefinedMetricWarning, match=f"{name}.*no positive pixel"):
        assert np.isnan(metric([0, 0, 0], [0.1, 0.5, 0.2]))


@pytest.mark.parametrize("metric", [average_precision, auroc, best_dice])
def test_mask_without_positive_returns_nan_and_warns(metric):
    with pytest.warns(UndefinedMetricWarning, match="no positive pixel"):
        assert np.isnan(metric([1, 0, 0], [0.1, 0.5, 0.2], mask=[0, 1, 1]))


@pytest.mark.parametrize("metric", [average_precision, auroc, best_dice])
def test_empty_selection_returns_nan_and_warns(metric):
    with pytest.warns(UndefinedMetricWarning, match="no pixel to evaluate"):
        assert np.isnan(metric([1, 0], [0.1, 0.5], mask=[False, False]))
    with pytest.warns(UndefinedMetricWarning, match="no pixel to evaluate"):
        assert np.isnan(metric([], []))


def test_auroc_without_negative_returns_nan_and_warns():
    with pytest.warns(UndefinedMetricWarning, match="AUROC.*no negative pixel"):
        assert np.isnan(auroc([1, 1, 1], [0.1, 0.5, 0.2]))


def test_ap_and_dice_with_only_positives_are_defined():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert average_precision([1, 1], [0.3, 0.1]) == 1.0
        assert best_dice([1, 1], [0.3, 0.1]) == 1.0


def test_warning_points_at_the_caller():
    with pytest.warns(UndefinedMetricWarning) as records:
        average_precision([0, 0], [0.1, 0.2])
    assert records[0].filename == __file__


# --------------------------------------------------------------------------- #
# Error paths
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("metric", [average_precision, auroc, best_dice])
def test_shape_mismatch_raises(metric):
    with pytest.raises(ValueError, match=r"`target` and `score`.*same shape.*\(3,\)"):
        metric([1, 0, 1], [0.1, 0.2])


@pytest.mark.parametrize("metric", [average_precision, auroc, best_dice])
def test_mask_shape_mismatch_raises(metric):
    with pytest.raises(ValueError, match=r"`mask` and `target`.*same shape"):
        metric([1, 0, 1], [0.1, 0.2, 0.3], mask=[1, 1])


@pytest.mark.parametrize("metric", [average_precision, auroc, best_dice])
def test_non_binary_target_raises(metric):
    with pytest.raises(ValueError, match=r"`target` must contain only 0 and 1.*2"):
        metric([0, 1, 2], [0.1, 0.2, 0.3])


def test_non_binary_mask_raises():
    with pytest.raises(ValueError, match=r"`mask` must contain only 0 and 1.*0\.5"):
        average_precision([0, 1, 1], [0.1, 0.2, 0.3], mask=[1, 0.5, 1])


def test_non_numeric_target_raises():
    with pytest.raises(TypeError, match="`target` must be boolean or 0/1"):
        average_precision(["a", "b"], [0.1, 0.2])


def test_nan_score_raises():
    with pytest.raises(ValueError, match="`score` must not contain NaN, got 1"):
        average_precision([0, 1], [0.1, np.nan])


def test_complex_score_raises():
    with pytest.raises(TypeError, match="`score` must be a real-valued array.*complex"):
        auroc([0, 1], np.array([0.1, 0.2], dtype=complex))


# --------------------------------------------------------------------------- #
# Stacks: per image and pooled
# --------------------------------------------------------------------------- #


def _stack(seed, n=6, masks=False):
    rng = np.random.default_rng(seed)
    targets = rng.random((n, 12, 10)) < 0.15
    targets[:, 0, 0] = True  # every image has a positive ...
    targets[:, -1, -1] = False  # ... and a negative
    scores = rng.integers(0, 5, (n, 12, 10)) + 0.5 * targets
    brain = None
    if masks:
        brain = rng.random((n, 12, 10)) < 0.8
        brain[:, 0, 0] = brain[:, -1, -1] = True
    return targets, scores, brain


@pytest.mark.parametrize("name", sorted(METRICS))
@pytest.mark.parametrize("use_masks", [False, True])
def test_per_image_matches_loop(name, use_masks):
    targets, scores, masks = _stack(1, masks=use_masks)
    function = METRICS[name]
    expected = [
        function(targets[i], scores[i], mask=None if masks is None else masks[i])
        for i in range(len(scores))
    ]
    result = per_image(name, targets, scores, masks=masks)
    assert result.shape == (len(scores),) and result.dtype == np.float64
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12)
    # a callable gives the same as its name
    by_callable = per_image(function, targets, scores, masks=masks)
    np.testing.assert_array_equal(by_callable, result)


@pytest.mark.parametrize("name", sorted(METRICS))
@pytest.mark.parametrize("use_masks", [False, True])
def test_pooled_matches_concatenated_pixels(name, use_masks):
    targets, scores, masks = _stack(2, masks=use_masks)
    function = METRICS[name]
    if masks is None:
        expected = function(targets.ravel(), scores.ravel())
    else:
        expected = function(
            np.concatenate([t[m] for t, m in zip(targets, masks)]),
            np.concatenate([s[m] for s, m in zip(scores, masks)]),
        )
    assert pooled(name, targets, scores, masks=masks) == pytest.approx(
        expected, abs=1e-12
    )
    assert pooled(function, targets, scores, masks=masks) == pytest.approx(
        expected, abs=1e-12
    )


def test_pooled_ap_matches_sklearn_and_differs_from_mean_per_image():
    targets, scores, _ = _stack(3)
    value = pooled("ap", targets, scores)
    assert value == pytest.approx(
        average_precision_score(targets.ravel(), scores.ravel()), abs=1e-9
    )
    assert value != pytest.approx(per_image("ap", targets, scores).mean())


def test_per_image_accepts_any_callable():
    targets, scores, _ = _stack(4, n=3)

    def positive_fraction(target, score, *, mask=None):
        return float(np.mean(target))

    np.testing.assert_allclose(
        per_image(positive_fraction, targets, scores), targets.mean(axis=(1, 2))
    )


def test_per_image_warns_once_for_images_without_positive():
    targets, scores, _ = _stack(5, n=4)
    targets[[1, 3]] = False
    with pytest.warns(UndefinedMetricWarning) as records:
        result = per_image("ap", targets, scores)
    assert len(records) == 1
    assert "2 of 4 images (indices 1, 3)" in str(records[0].message)
    assert records[0].filename == __file__
    assert np.isnan(result[[1, 3]]).all() and np.isfinite(result[[0, 2]]).all()


def test_pooled_without_positive_warns_and_returns_nan():
    targets, scores, _ = _stack(6, n=2)
    with pytest.warns(UndefinedMetricWarning, match="no positive pixel") as records:
        assert np.isnan(pooled("best_dice", np.zeros_like(targets), scores))
    assert len(records) == 1 and records[0].filename == __file__


def test_stacks_pass_other_warnings_through():
    targets, scores, _ = _stack(7, n=2)

    def noisy(target, score, *, mask=None):
        warnings.warn("something else", RuntimeWarning, stacklevel=2)
        return 0.0

    with pytest.warns(RuntimeWarning, match="something else"):
        per_image(noisy, targets, scores)


@pytest.mark.parametrize("function", [per_image, pooled])
def test_stack_bad_metric_name_raises(function):
    targets, scores, _ = _stack(8, n=2)
    with pytest.raises(ValueError, match=r"`metric` must be one of .*got 'dice'"):
        function("dice", targets, scores)


@pytest.mark.parametrize("function", [per_image, pooled])
def test_stack_non_callable_metric_raises(function):
    targets, scores, _ = _stack(8, n=2)
    with pytest.raises(TypeError, match="`metric` must be a name .* got int"):
        function(3, targets, scores)


@pytest.mark.parametrize("function", [per_image, pooled])
def test_stack_shape_errors_raise(function):
    targets, scores, masks = _stack(9, n=2, masks=True)
    with pytest.raises(ValueError, match=r"`scores` must be 3D \(N, H, W\)"):
        function("ap", targets[0], scores[0])
    with pytest.raises(ValueError, match="`targets` and `scores` must have the same"):
        function("ap", targets[:1], scores)
    with pytest.raises(ValueError, match="`masks` and `scores` must have the same"):
        function("ap", targets, scores, masks=masks[:, :5])


@pytest.mark.parametrize("function", [per_image, pooled])
def test_stack_non_binary_targets_raise(function):
    targets, scores, _ = _stack(10, n=2)
    with pytest.raises(ValueError, match="`targets` must contain only 0 and 1"):
        function("ap", targets * 3, scores)
