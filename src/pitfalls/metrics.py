"""Score an anomaly map against its ground-truth label, pixel by pixel.

Each metric runs in three stages, as torchmetrics does:

1. ``_format`` validates the inputs, flattens them and keeps only the pixels
   selected by ``mask`` (for example the brain);
2. ``_binary_clf_curve`` sorts the scores once and counts true and false
   positives at every distinct threshold, ties grouped;
3. a ``_*_compute`` function turns those counts into the metric.

Average precision and AUROC agree with ``sklearn.metrics.average_precision_score``
and ``sklearn.metrics.roc_auc_score`` to floating-point rounding on any input,
ties included. :func:`per_image` and :func:`pooled` apply a metric to a stack of
images, one value per image or one value for all pixels together.
"""

from __future__ import annotations

import warnings

import numpy as np

from pitfalls._validate import check_binary_mask, check_same_shape

__all__ = [
    "METRICS",
    "UndefinedMetricWarning",
    "auroc",
    "average_precision",
    "best_dice",
    "per_image",
    "pooled",
]


class UndefinedMetricWarning(UserWarning):
    """Warn that a metric is undefined for its input and NaN was returned."""


# --------------------------------------------------------------------------- #
# Stage 1: validate, flatten, select pixels
# --------------------------------------------------------------------------- #


def _check_score(score, name: str = "score") -> np.ndarray:
    """Return ``score`` as a float64 array, raising unless it is real and not NaN."""
    arr = np.asarray(score)
    if arr.dtype != bool and not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"`{name}` must be a real-valued array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if np.isnan(arr).any():
        raise ValueError(
            f"`{name}` must not contain NaN, got {int(np.isnan(arr).sum())} NaN values"
        )
    return arr


def _format(target, score, mask=None):
    """Validate the inputs and return the selected pixels as flat arrays.

    - `target` must be binary (bool or 0/1) and `score` real without NaN;
    - both, and `mask` if given, must have the same shape (any shape);
    - returns ``(target, score)``: a flat bool and a flat float64 array holding
      only the pixels where `mask` is true.
    """
    target = check_binary_mask(target, "target")
    score = _check_score(score, "score")
    check_same_shape(target, score, "target", "score")
    if mask is not None:
        mask = check_binary_mask(mask, "mask")
        check_same_shape(mask, target, "mask", "target")
        # (...) -> (n_selected,): boolean indexing flattens and selects at once
        return target[mask], score[mask]
    # (...) -> (n_pixels,)
    return target.ravel(), score.ravel()


# --------------------------------------------------------------------------- #
# Stage 2: counts at every distinct threshold
# --------------------------------------------------------------------------- #


def _binary_clf_curve(target, score):
    """Count true and false positives at every distinct threshold, descending.

    - `target` is a flat bool array, `score` a flat float array of the same length;
    - a pixel is predicted positive at threshold ``t`` when ``score >= t``;
    - thresholds are the distinct score values, largest first, so tied pixels
      enter together;
    - returns ``(tps, fps, thresholds)``, each of shape ``(n_distinct,)``;
      ``tps[-1]`` and ``fps[-1]`` are the numbers of positives and negatives.
    """
    # one stable sort, descending by score
    order = np.argsort(-score, kind="stable")
    score, target = score[order], target[order]

    # last index of each run of equal scores; `!=` rather than np.diff keeps
    # repeated infinite scores together (inf - inf is NaN)
    last_of_run = np.flatnonzero(score[1:] != score[:-1])
    last_of_run = np.append(last_of_run, score.size - 1) if score.size else last_of_run

    tps = np.cumsum(target, dtype=np.int64)[last_of_run]
    fps = (last_of_run + 1) - tps
    return tps, fps, score[last_of_run]


def _undefined_reason(tps, fps, *, needs_negative):
    """Return why a metric is undefined for these counts, or None if it is defined."""
    if tps.size == 0:
        return "no pixel to evaluate (empty input or empty `mask`)"
    if tps[-1] == 0:
        return "no positive pixel in `target`"
    if needs_negative and fps[-1] == 0:
        return "no negative pixel in `target`"
    return None


# --------------------------------------------------------------------------- #
# Stage 3: compute from the counts
# --------------------------------------------------------------------------- #


def _average_precision_compute(tps, fps):
    """Sum precision times the recall gained at each threshold (positives > 0)."""
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    recall_gain = np.diff(recall, prepend=0.0)
    return float(np.sum(recall_gain * precision))


def _auroc_compute(tps, fps):
    """Integrate TPR over FPR with the trapezoid rule (both classes present)."""
    # prepend the (0, 0) corner of the ROC curve
    tpr = np.concatenate(([0.0], tps / tps[-1]))
    fpr = np.concatenate(([0.0], fps / fps[-1]))
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _best_dice_compute(tps, fps):
    """Maximise Dice = 2TP / (2TP + FP + FN) over the thresholds (positives > 0)."""
    # 2TP + FP + FN = TP + FP + P, with P = TP + FN the number of positives
    dice = 2.0 * tps / (tps + fps + tps[-1])
    return float(dice.max())


def _evaluate(compute, target, score, mask, *, needs_negative=False):
    """Run the three stages; return ``(value, reason)``, reason None if defined."""
    target, score = _format(target, score, mask)
    tps, fps, _ = _binary_clf_curve(target, score)
    reason = _undefined_reason(tps, fps, needs_negative=needs_negative)
    if reason is not None:
        return float("nan"), reason
    return compute(tps, fps), None


def _warn_undefined(metric_name, reason):
    """Warn, from a public metric, that it returns NaN; point at its caller."""
    # stack: this helper (1) -> public metric (2) -> caller (3)
    warnings.warn(
        f"{metric_name} is undefined: {reason}; returning NaN",
        UndefinedMetricWarning,
        stacklevel=3,
    )


# --------------------------------------------------------------------------- #
# Public metrics
# --------------------------------------------------------------------------- #


def average_precision(target, score, *, mask=None):
    r"""Compute the average precision (AP) of a score map against a binary label.

    Parameters
    ----------
    target : array_like of bool or {0, 1}
        Ground-truth label, any shape; true marks an anomalous pixel.
    score : array_like of float, same shape as `target`
        Anomaly score, higher meaning more anomalous; may contain ``inf`` but
        not NaN.
    mask : array_like of bool or {0, 1}, same shape as `target`, optional
        Pixels to evaluate, for example the brain; all pixels if None.

    Returns
    -------
    float
        AP in [0, 1], or NaN if no selected pixel is positive.

    Raises
    ------
    ValueError
        If `target` or `mask` holds values other than 0 and 1, if `score`
        contains NaN, or if the shapes differ.
    TypeError
        If `score` is not real-valued, or `target` or `mask` is not numeric.

    Warns
    -----
    UndefinedMetricWarning
        If no selected pixel is positive (NaN is returned).

    Notes
    -----
    With thresholds ``t`` running over the distinct score values, largest first,
    and every pixel with ``score >= t`` predicted positive,

    .. math:: \mathrm{AP} = \sum_t (R_t - R_{t'}) \, P_t ,

    where ``t'`` is the previous (larger) threshold and ``R_{t'} = 0`` before the
    first one. Tied pixels enter together, so this equals
    ``sklearn.metrics.average_precision_score(target[mask], score[mask])`` on any
    finite input (scikit-learn rejects infinite scores; here they simply rank
    first or last). It is a step sum, not the trapezoid area under the PR curve.

    Without positive pixels recall is 0/0. Unlike scikit-learn, which then
    returns a number, NaN is returned with an :class:`UndefinedMetricWarning`,
    so that averages over slices can skip such slices with ``numpy.nanmean``.

    Examples
    --------
    >>> target = [1, 0, 1, 0]
    >>> score = [0.9, 0.8, 0.8, 0.1]
    >>> round(average_precision(target, score), 4)  # 0.5 * 1 + 0.5 * 2/3
    0.8333
    >>> average_precision(target, score, mask=[1, 0, 1, 1])
    1.0
    """
    value, reason = _evaluate(_average_precision_compute, target, score, mask)
    if reason is not None:
        _warn_undefined("average precision", reason)
    return value


def auroc(target, score, *, mask=None):
    """Compute the area under the ROC curve of a score map against a binary label.

    Parameters
    ----------
    target : array_like of bool or {0, 1}
        Ground-truth label, any shape; true marks an anomalous pixel.
    score : array_like of float, same shape as `target`
        Anomaly score, higher meaning more anomalous; may contain ``inf`` but
        not NaN.
    mask : array_like of bool or {0, 1}, same shape as `target`, optional
        Pixels to evaluate, for example the brain; all pixels if None.

    Returns
    -------
    float
        AUROC in [0, 1], or NaN if the selected pixels hold only one class.

    Raises
    ------
    ValueError
        If `target` or `mask` holds values other than 0 and 1, if `score`
        contains NaN, or if the shapes differ.
    TypeError
        If `score` is not real-valued, or `target` or `mask` is not numeric.

    Warns
    -----
    UndefinedMetricWarning
        If the selected pixels are all positive or all negative (NaN is
        returned).

    Notes
    -----
    The ROC curve through the distinct thresholds is integrated with the
    trapezoid rule, which counts a tied (positive, negative) pair as one half:
    AUROC is the probability that a random anomalous pixel scores above a
    random normal one, ties counting 1/2. This equals
    ``sklearn.metrics.roc_auc_score(target[mask], score[mask])``.

    Examples
    --------
    >>> target = [1, 0, 1, 0]
    >>> score = [0.9, 0.8, 0.8, 0.1]
    >>> auroc(target, score)  # pairs won: 1 + 1 + 1/2 + 1 out of 4
    0.875
    """
    value, reason = _evaluate(_auroc_compute, target, score, mask, needs_negative=True)
    if reason is not None:
        _warn_undefined("AUROC", reason)
    return value


def best_dice(target, score, *, mask=None):
    """Compute the best Dice score over all thresholds of a score map.

    Parameters
    ----------
    target : array_like of bool or {0, 1}
        Ground-truth label, any shape; true marks an anomalous pixel.
    score : array_like of float, same shape as `target`
        Anomaly score, higher meaning more anomalous; may contain ``inf`` but
        not NaN.
    mask : array_like of bool or {0, 1}, same shape as `target`, optional
        Pixels to evaluate, for example the brain; all pixels if None.

    Returns
    -------
    float
        The largest Dice score in [0, 1], or NaN if no selected pixel is
        positive.

    Raises
    ------
    ValueError
        If `target` or `mask` holds values other than 0 and 1, if `score`
        contains NaN, or if the shapes differ.
    TypeError
        If `score` is not real-valued, or `target` or `mask` is not numeric.

    Warns
    -----
    UndefinedMetricWarning
        If no selected pixel is positive (NaN is returned).

    Notes
    -----
    For every distinct score value ``t`` the pixels with ``score >= t`` are
    predicted positive and ``Dice = 2 TP / (2 TP + FP + FN)``; the maximum over
    ``t`` is returned. The threshold is chosen on the evaluated data itself, so
    this is an optimistic upper bound on what a fixed threshold achieves.

    Without positive pixels every threshold gives Dice 0 (or 0/0 with no
    prediction either), so NaN is returned with an
    :class:`UndefinedMetricWarning`.

    Examples
    --------
    >>> target = [1, 0, 1, 0]
    >>> score = [0.9, 0.8, 0.8, 0.1]
    >>> best_dice(target, score)  # t = 0.8: TP 2, FP 1, FN 0 -> 4 / 5
    0.8
    """
    value, reason = _evaluate(_best_dice_compute, target, score, mask)
    if reason is not None:
        _warn_undefined("best Dice", reason)
    return value


#: Metric names accepted by :func:`per_image` and :func:`pooled`.
METRICS = {"ap": average_precision, "auroc": auroc, "best_dice": best_dice}


# --------------------------------------------------------------------------- #
# Stacks of images
# --------------------------------------------------------------------------- #


def _resolve_metric(metric):
    """Return the metric function for a name in METRICS or a callable."""
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ValueError(
                f"`metric` must be one of {sorted(METRICS)} or a callable, "
                f"got {metric!r}"
            )
        return METRICS[metric]
    if not callable(metric):
        raise TypeError(
            f"`metric` must be a name in {sorted(METRICS)} or a callable, "
            f"got {type(metric).__name__}"
        )
    return metric


def _format_stack(targets, scores, masks):
    """Validate ``(N, H, W)`` stacks; return targets, scores and masks (or None)."""
    scores = _check_score(scores, "scores")
    if scores.ndim != 3:
        raise ValueError(f"`scores` must be 3D (N, H, W), got shape {scores.shape}")
    targets = check_binary_mask(targets, "targets")
    check_same_shape(targets, scores, "targets", "scores")
    if masks is not None:
        masks = check_binary_mask(masks, "masks")
        check_same_shape(masks, scores, "masks", "scores")
    return targets, scores, masks


def _call_collecting_undefined(function, *args, **kwargs):
    """Call ``function``; return its value and the UndefinedMetricWarnings raised.

    Other warnings are passed on unchanged.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = function(*args, **kwargs)
    undefined = []
    for record in caught:
        if issubclass(record.category, UndefinedMetricWarning):
            undefined.append(str(record.message))
        else:
            warnings.warn_explicit(
                record.message, record.category, record.filename, record.lineno
            )
    return value, undefined


def per_image(metric, targets, scores, *, masks=None):
    """Evaluate a metric on each image of a stack separately.

    Parameters
    ----------
    metric : {"ap", "auroc", "best_dice"} or callable
        A name in :data:`METRICS` or a function with the signature
        ``metric(target, score, *, mask=None) -> float``.
    targets : array_like of bool or {0, 1}, shape (N, H, W)
        Ground-truth labels.
    scores : array_like of float, shape (N, H, W)
        Anomaly scores.
    masks : array_like of bool or {0, 1}, shape (N, H, W), optional
        Pixels to evaluate in each image; all pixels if None.

    Returns
    -------
    numpy.ndarray, shape (N,)
        The metric of each image, float64; NaN where it is undefined.

    Raises
    ------
    ValueError
        If `metric` is an unknown name, if the stacks are not 3D or differ in
        shape, or if `targets` or `masks` hold values other than 0 and 1.
    TypeError
        If `metric` is neither a name nor a callable, or an array has a bad dtype.

    Warns
    -----
    UndefinedMetricWarning
        Once, listing the images where the metric is undefined (for example
        slices without anomalous pixels), instead of once per image.

    Notes
    -----
    The mean of the result is the paper's score: AP per slice, averaged over
    slices. Use ``numpy.nanmean`` to skip slices where the metric is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> targets = np.array([[[1, 0], [0, 0]], [[1, 1], [0, 0]]])
    >>> scores = np.array([[[0.9, 0.1], [0.2, 0.3]], [[0.4, 0.5], [0.6, 0.1]]])
    >>> per_image("ap", targets, scores).round(4)  # image 2: (1/2 + 2/3) / 2
    array([1.    , 0.5833])
    """
    metric = _resolve_metric(metric)
    targets, scores, masks = _format_stack(targets, scores, masks)

    values = np.empty(len(scores), dtype=np.float64)
    undefined, first_message = [], None
    for i in range(len(scores)):
        mask = None if masks is None else masks[i]
        values[i], messages = _call_collecting_undefined(
            metric, targets[i], scores[i], mask=mask
        )
        if messages:
            undefined.append(i)
            first_message = first_message or messages[0]
    if undefined:
        shown = ", ".join(map(str, undefined[:10])) + (
            ", ..." if len(undefined) > 10 else ""
        )
        warnings.warn(
            f"metric undefined for {len(undefined)} of {len(scores)} images "
            f"(indices {shown}), for example: {first_message}; "
            "their values are NaN",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    return values


def pooled(metric, targets, scores, *, masks=None):
    """Evaluate a metric on the pixels of all images of a stack together.

    Parameters
    ----------
    metric : {"ap", "auroc", "best_dice"} or callable
        A name in :data:`METRICS` or a function with the signature
        ``metric(target, score, *, mask=None) -> float``.
    targets : array_like of bool or {0, 1}, shape (N, H, W)
        Ground-truth labels.
    scores : array_like of float, shape (N, H, W)
        Anomaly scores.
    masks : array_like of bool or {0, 1}, shape (N, H, W), optional
        Pixels to evaluate in each image; all pixels if None.

    Returns
    -------
    float
        The metric over all selected pixels, or NaN where it is undefined.

    Raises
    ------
    ValueError
        If `metric` is an unknown name, if the stacks are not 3D or differ in
        shape, or if `targets` or `masks` hold values other than 0 and 1.
    TypeError
        If `metric` is neither a name nor a callable, or an array has a bad dtype.

    Warns
    -----
    UndefinedMetricWarning
        If the metric is undefined on the pooled pixels (NaN is returned).

    Notes
    -----
    Pooling lets one threshold serve every image, so an image with large normal
    residuals lowers the score of all others; the mean of :func:`per_image`
    does not. The two generally differ.

    Examples
    --------
    >>> import numpy as np
    >>> targets = np.array([[[1, 0], [0, 0]], [[1, 1], [0, 0]]])
    >>> scores = np.array([[[0.9, 0.1], [0.2, 0.3]], [[0.4, 0.5], [0.6, 0.1]]])
    >>> round(pooled("ap", targets, scores), 4)  # (1 + 2/3 + 3/4) / 3
    0.8056
    """
    metric = _resolve_metric(metric)
    targets, scores, masks = _format_stack(targets, scores, masks)

    value, messages = _call_collecting_undefined(metric, targets, scores, mask=masks)
    for message in messages:
        warnings.warn(message, UndefinedMetricWarning, stacklevel=2)
    return float(value)
