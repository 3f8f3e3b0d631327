r"""The residual score's blind spot as computable quantities.

Notation, as in the theory chapter:

- ``h`` is a healthy slice, ``M`` its brain mask and ``A`` (a subset of ``M``)
  the anomalous region: the disk of the paper's first experiment, clipped to
  the brain.
- ``x`` is the input: ``x = i`` on ``A`` for a disk of intensity ``i``, and
  ``x = h`` elsewhere.
- ``r = h + e`` is the reconstruction, with error ``e``; in the blur
  experiment ``r = G_sigma * h``, the healthy slice blurred. It does not
  depend on ``x``: the model is assumed to reconstruct the healthy slice.
- The residual score ``|x - r|`` is the *normal residual* ``|e| = |h - r|``
  outside ``A`` and the *anomalous residual* ``|i - r|`` inside ``A``.
- AP ranks the pixels of ``A`` above those of ``M \ A``: it is the mean, over
  anomalous pixels, of the precision at the pixel's own score.

Population AP
-------------
Let ``S_A(t)`` and ``S_N(t)`` be the survival functions (fraction ``>= t``)
of the anomalous and the normal residual, and ``pi`` the prevalence, the
share of anomalous pixels. A threshold ``t`` then has precision

.. math:: \mathrm{prec}(t) = \frac{\pi S_A(t)}{\pi S_A(t) + (1 - \pi) S_N(t)}

and ``AP = E_{a ~ A}[prec(a)]`` (:func:`population_average_precision`). With
``pi`` equal to the sample proportion ``P / (P + Q)`` this is scikit-learn's
``average_precision_score`` of the ``P`` anomalous and ``Q`` normal scores.

The prediction of the paper's landscape (:func:`predict_landscape`) uses
only two distributions, per blur ``sigma`` and pooled over the slices: the
normal residuals ``|h - G_sigma h|`` of all brain pixels, and anomalous
residuals ``|i - G_sigma h(p)|`` with ``p`` drawn from *all* brain pixels,
mixed at the prevalence of the disk (disk area / brain area). No disk is
pasted. :func:`slice_predictions` takes the prediction apart, one
assumption at a time, until it equals the simulation.
"""

from __future__ import annotations

import numbers
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from ._validate import (
    check_binary_mask,
    check_images_and_masks,
    check_non_negative,
    check_positive,
)
from .reconstruction import gaussian_blur
from .sweeps import _check_grid, _labels, _n_workers, _prepare, resolve_centres

__all__ = [
    "Agreement",
    "BlindSpot",
    "BrainResiduals",
    "Prevalence",
    "SlicePredictions",
    "blind_spot_profile",
    "brain_residuals",
    "critical_residual",
    "disk_area",
    "disk_prevalences",
    "landscape_agreement",
    "population_average_precision",
    "precision_curve",
    "predict_landscape",
    "slice_predictions",
]


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #


def _check_scores(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"`{name}` must not contain NaN")
    return arr


def _check_sorted_negatives(negatives_sorted) -> np.ndarray:
    neg = _check_scores(negatives_sorted, "negatives_sorted")
    if neg.ndim != 1 or neg.size == 0:
        raise ValueError(
            f"`negatives_sorted` must be a non-empty 1D array, got shape {neg.shape}"
        )
    if (neg[1:] < neg[:-1]).any():
        k = int(np.flatnonzero(neg[1:] < neg[:-1])[0])
        raise ValueError(
            "`negatives_sorted` must be sorted ascending, got "
            f"{neg[k]!r} before {neg[k + 1]!r} at index {k}"
        )
    return neg


def _check_prevalence(prevalence, n_rows: int) -> np.ndarray:
    arr = np.asarray(prevalence, dtype=np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size != n_rows):
        raise ValueError(
            f"`prevalence` must be a scalar or have shape ({n_rows},), "
            f"got shape {arr.shape}"
        )
    bad = ~((arr > 0) & (arr <= 1))  # also catches NaN
    if bad.any():
        value = float(arr[bad].flat[0]) if arr.ndim else float(arr)
        raise ValueError(f"`prevalence` must lie in (0, 1], got {value!r}")
    return arr


def _check_n_quantiles(n_quantiles):
    if n_quantiles is None:
        return None
    if isinstance(n_quantiles, bool) or not isinstance(n_quantiles, numbers.Integral):
        raise TypeError(f"`n_quantiles` must be an int or None, got {n_quantiles!r}")
    if n_quantiles < 1:
        raise ValueError(f"`n_quantiles` must be >= 1, got {n_quantiles!r}")
    return int(n_quantiles)


def _nominal_prevalence(radius, brain_pixels) -> np.ndarray:
    """Disk area over brain area; raises if the disk does not fit the brain."""
    prevalence = disk_area(radius) / np.asarray(brain_pixels, dtype=np.float64)
    if (prevalence >= 1).any():
        raise ValueError(
            f"`radius` = {radius!r} gives a disk of {disk_area(radius)} pixels, "
            f"not smaller than the brain ({int(np.min(brain_pixels))} pixels)"
        )
    return prevalence


# --------------------------------------------------------------------------- #
# Core: AP of two score populations
# --------------------------------------------------------------------------- #


def _survival_of_ranked(ranked: np.ndarray) -> np.ndarray:
    """``S_A`` at each entry of rows sorted ascending: share of the row ``>=`` it."""
    n = ranked.shape[1]
    # The count >= s is n minus the position of the first member of s's tie
    # group; without ties that is n, n - 1, ..., 1 along the row.
    count = np.broadcast_to(np.arange(n, 0, -1, dtype=np.float64), ranked.shape)
    if (ranked[:, 1:] == ranked[:, :-1]).any():
        starts = np.ones(ranked.shape, dtype=bool)
        starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
        first = np.where(starts, np.arange(n), 0)
        np.maximum.accumulate(first, axis=1, out=first)
        count = (n - first).astype(np.float64)
    return count / n


def _survival_at(sorted_values: np.ndarray, thresholds) -> np.ndarray:
    """Share of ``sorted_values`` that are ``>= t`` for each threshold ``t``."""
    below = np.searchsorted(sorted_values, thresholds, side="left")
    return (sorted_values.size - below) / sorted_values.size


def _population_ap_ranked(ranked, negatives_sorted, prevalence) -> np.ndarray:
    """Population AP of rows already sorted ascending; no validation."""
    s_a = _survival_of_ranked(ranked)  # (M, P)
    s_n = _survival_at(negatives_sorted, ranked)  # (M, P)
    pi = np.asarray(prevalence, dtype=np.float64).reshape(-1, 1)
    hits = pi * s_a
    # hits > 0 everywhere (s_a >= 1/P, pi > 0), so the division is safe
    return (hits / (hits + (1.0 - pi) * s_n)).mean(axis=1)


def population_average_precision(positives, negatives_sorted, prevalence):
    r"""Average precision of anomalous against normal scores at a given prevalence.

    The anomalous scores are a sample of ``A``, the normal scores a sample
    of ``N``; the two populations are mixed with a share ``prevalence`` of
    anomalous pixels, whatever the sample sizes.

    Parameters
    ----------
    positives : array_like, shape (M, P) or (P,)
        Scores of anomalous pixels, one row per population (e.g. per disk
        intensity).
    negatives_sorted : array_like, shape (Q,)
        Scores of normal pixels, sorted ascending, shared by all rows.
    prevalence : float or array_like of shape (M,)
        Share of anomalous pixels in the mixture, in (0, 1].

    Returns
    -------
    numpy.ndarray, shape (M,) or ()
        ``AP = E_{a ~ A}[prec(a)]`` per row, with
        ``prec(t) = pi S_A(t) / (pi S_A(t) + (1 - pi) S_N(t))`` and the
        empirical survival functions ``S(t)`` = share of scores ``>= t``.

    Raises
    ------
    ValueError
        If a score is NaN, ``negatives_sorted`` is empty, not 1D or not
        sorted, ``positives`` has no column, or ``prevalence`` is outside
        (0, 1] or of the wrong shape.

    Notes
    -----
    Counting ties as ``>=`` is scikit-learn's convention: a threshold
    detects every pixel scoring at least ``t``. With ``prevalence`` equal to
    the sample proportion ``P / (P + Q)``, ``pi S_A(t)`` and
    ``(1 - pi) S_N(t)`` are the true- and false-positive counts over
    ``P + Q``, and the result equals ``average_precision_score`` on the
    pooled sample (and
    ``pitfalls.sweeps.ap_against_sorted_negatives``). Any other prevalence
    weighs the normal sample as if it were ``(1 - pi) / pi * P`` pixels, which
    is how a distribution of normal residuals is set against a disk of a
    given size. Cost ``O(M P log Q)``.

    Examples
    --------
    >>> import numpy as np
    >>> neg = np.array([0.1, 0.8])
    >>> float(population_average_precision([0.9, 0.8], neg, 0.5))
    0.8333333333333333
    >>> float(population_average_precision([0.9, 0.8], neg, 0.1))  # rarer: worse
    0.5909090909090909
    """
    pos = _check_scores(positives, "positives")
    if pos.ndim not in (1, 2):
        raise ValueError(f"`positives` must be 1D or 2D, got shape {pos.shape}")
    squeeze = pos.ndim == 1
    pos = np.atleast_2d(pos)
    if pos.shape[1] == 0:
        raise ValueError(
            f"`positives` must hold at least one score, got shape {pos.shape}"
        )
    neg = _check_sorted_negatives(negatives_sorted)
    pi = _check_prevalence(prevalence, pos.shape[0])
    pi = np.broadcast_to(pi, pos.shape[:1])
    ap = _population_ap_ranked(np.sort(pos, axis=1), neg, pi)
    return ap[0] if squeeze else ap


def precision_curve(thresholds, positives, negatives, prevalence):
    """Survival functions of both populations and the precision at thresholds.

    Parameters
    ----------
    thresholds : array_like, shape (T,)
        Score thresholds ``t``.
    positives, negatives : array_like
        Anomalous and normal scores (any shape, any order).
    prevalence : float
        Share of anomalous pixels, in (0, 1].

    Returns
    -------
    s_a, s_n, precision : numpy.ndarray, shape (T,) each
        ``S_A(t)``, ``S_N(t)`` (shares ``>= t``) and
        ``pi S_A / (pi S_A + (1 - pi) S_N)``, NaN where both are 0.

    Examples
    --------
    >>> s_a, s_n, p = precision_curve([0.5, 2.0], [1.0, 3.0], [0.0, 1.0], 0.5)
    >>> s_a.tolist(), s_n.tolist(), p.tolist()
    ([1.0, 0.5], [0.5, 0.0], [0.6666666666666666, 1.0])
    """
    t = _check_scores(thresholds, "thresholds").ravel()
    pos = np.sort(_check_scores(positives, "positives").ravel())
    neg = np.sort(_check_scores(negatives, "negatives").ravel())
    if pos.size == 0 or neg.size == 0:
        raise ValueError(
            "`positives` and `negatives` must not be empty, got sizes "
            f"{pos.size} and {neg.size}"
        )
    pi = float(_check_prevalence(prevalence, 1))
    s_a, s_n = _survival_at(pos, t), _survival_at(neg, t)
    hits, false = pi * s_a, (1 - pi) * s_n
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(hits + false > 0, hits / (hits + false), np.nan)
    return s_a, s_n, precision


def critical_residual(normal_sorted, prevalence) -> float:
    """Residual a disk pixel must exceed to reach a precision of one half.

    Parameters
    ----------
    normal_sorted : array_like, shape (Q,)
        Normal residuals, sorted ascending.
    prevalence : float
        Share of anomalous pixels ``pi``, in (0, 1].

    Returns
    -------
    float
        ``t*``: every anomalous pixel with residual ``a <= t*`` has precision
        below 1/2, whatever the other anomalous residuals. ``-inf`` when
        ``pi >= 1/2`` (no such bound).

    Notes
    -----
    ``prec(a) >= 1/2`` needs ``(1 - pi) S_N(a) <= pi S_A(a) <= pi``, i.e. at
    most a share ``pi / (1 - pi)`` of normal residuals may reach ``a``. With a
    disk of prevalence a few percent, the anomalous residual must therefore
    lie in the top few percent of normal residuals: the threshold is a high
    quantile of the normal residual, not its typical size.

    Examples
    --------
    >>> critical_residual(np.arange(100) / 100, 0.05)  # 5 may reach a > t*
    0.94
    """
    neg = _check_sorted_negatives(normal_sorted)
    pi = float(_check_prevalence(prevalence, 1))
    if pi >= 0.5:
        return float("-inf")
    allowed = int(np.floor(pi / (1 - pi) * neg.size))  # normal pixels >= a
    return float(neg[neg.size - allowed - 1])


def disk_area(radius) -> int:
    """Pixels of a disk of ``radius`` around a pixel centre, as the disks are drawn.

    Examples
    --------
    >>> disk_area(2), disk_area(20)
    (9, 1245)
    """
    from .anomalies import disk_label

    radius = check_positive(radius, "radius")
    side = 2 * int(np.ceil(radius)) + 3
    return int(disk_label((side, side), (side // 2, side // 2), radius).sum())


class Prevalence(NamedTuple):
    """Share of brain pixels inside the disk, per slice."""

    nominal: np.ndarray
    """``disk_area(radius) / |M|``: the disk as if it lay wholly in the brain."""
    actual: np.ndarray
    """``|A| / |M|`` of the disk as pasted, clipped at the brain's edge."""


def disk_prevalences(masks, radius, centres) -> Prevalence:
    """Nominal and actual prevalence of the disk on each slice.

    Parameters
    ----------
    masks : array_like of bool, shape (N, H, W)
        Brain masks ``M``.
    radius : float
        Disk radius in pixels.
    centres : array_like, shape (N, 2)
        Disk centres, e.g. from ``pitfalls.anomalies.sample_centres``.

    Returns
    -------
    Prevalence

    Examples
    --------
    >>> masks = np.zeros((1, 20, 20), dtype=bool); masks[0, :, :10] = True
    >>> prev = disk_prevalences(masks, 3, [[10, 9]])  # half the disk sticks out
    >>> float(prev.nominal[0]), float(prev.actual[0])
    (0.125, 0.075)
    """
    masks = check_binary_mask(masks, "masks")
    if masks.ndim != 3:
        raise ValueError(f"`masks` must be 3D (N, H, W), got shape {masks.shape}")
    radius = check_positive(radius, "radius")
    centres = resolve_centres(masks, centres)
    brain = masks.sum(axis=(1, 2))
    if (brain == 0).any():
        k = int(np.flatnonzero(brain == 0)[0])
        raise ValueError(f"`masks[{k}]` holds no brain pixel")
    labels = _labels(masks, centres, radius)
    return Prevalence(disk_area(radius) / brain, labels.sum(axis=(1, 2)) / brain)


# --------------------------------------------------------------------------- #
# Distributions of the blur experiment
# --------------------------------------------------------------------------- #


class BrainResiduals(NamedTuple):
    """Reconstruction and normal residual of all brain pixels, pooled over slices."""

    recon: np.ndarray
    """``G_sigma * h`` at each brain pixel, shape (B,)."""
    normal: np.ndarray
    """``|h - G_sigma * h|`` at each brain pixel, same order, shape (B,)."""

    def anomalous(self, intensity) -> np.ndarray:
        """Anomalous residuals ``|i - G_sigma h(p)|``, ``p`` over all brain pixels."""
        return np.abs(float(intensity) - self.recon)


def brain_residuals(images, sigma, *, masks=None) -> BrainResiduals:
    """Blur the healthy slices and collect recon values and normal residuals.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Healthy slices ``h``.
    sigma : float
        Blur width in pixels, ``>= 0``.
    masks : array_like of bool, shape (N, H, W), optional
        Brain masks; default ``images > 0``.

    Returns
    -------
    BrainResiduals
        Flat arrays over the brain pixels of all slices (slice-major,
        row-major), so that ``recon[k]`` and ``normal[k]`` belong to the same
        pixel.

    Examples
    --------
    >>> img = np.zeros((1, 8, 8)); img[0, 2:6, 2:6] = 0.5
    >>> res = brain_residuals(img, 0.0)
    >>> res.recon.shape, float(res.normal.max()), float(res.anomalous(0.75)[0])
    ((16,), 0.0, 0.25)
    """
    images, masks = check_images_and_masks(images, masks)
    recon = gaussian_blur(images, check_non_negative(sigma, "sigma"))
    r = recon[masks]
    return BrainResiduals(r, np.abs(images[masks] - r))


def _order_statistics(sorted_values: np.ndarray, n_quantiles) -> np.ndarray:
    """``n_quantiles`` evenly spaced order statistics (mid-ranks), or all values."""
    n = sorted_values.size
    if n_quantiles is None or n_quantiles >= n:
        return sorted_values
    ranks = ((np.arange(n_quantiles) + 0.5) * (n / n_quantiles)).astype(np.intp)
    return sorted_values[ranks]


def _sorted_distances(intensities: np.ndarray, values_sorted: np.ndarray) -> np.ndarray:
    """Rows ``sort(|i - v|)`` for each intensity, from ``v`` sorted once: (n_i, m)."""
    m = values_sorted.size
    split = np.searchsorted(values_sorted, intensities)[:, None]  # (n_i, 1)
    j = np.arange(m)[None, :]
    # Left of the split |i - v| grows as v falls, right of it as v rises: reading
    # the left part backwards gives two ascending runs, which the stable sort
    # (a merge sort that detects runs) joins in linear time.
    index = np.where(j < split, split - 1 - j, j)  # (n_i, m)
    dist = np.abs(intensities[:, None] - values_sorted[index])
    return np.sort(dist, axis=1, kind="stable")


#: Largest number of (intensity, value) entries built at once; bounds memory
#: when every brain pixel of many slices is used (``n_quantiles=None``).
_CHUNK = 1 << 22


def _intensity_rows(intensities, values_sorted, *normals_and_prevalences):
    """Population AP of ``|i - v|`` per intensity, against each (normals, pi) pair.

    Returns shape (n_pairs, n_i); the anomalous residuals are sorted once and
    shared by the pairs.
    """
    out = np.empty((len(normals_and_prevalences), intensities.size))
    step = max(1, _CHUNK // max(values_sorted.size, 1))
    for start in range(0, intensities.size, step):
        chunk = slice(start, start + step)
        ranked = _sorted_distances(intensities[chunk], values_sorted)
        for k, (normal_sorted, prevalence) in enumerate(normals_and_prevalences):
            out[k, chunk] = _population_ap_ranked(ranked, normal_sorted, prevalence)
    return out


def predict_landscape(
    images, intensities, sigmas, *, radius, masks=None, n_quantiles=4096
) -> np.ndarray:
    """Predict the AP landscape from two pooled residual distributions, no disk pasted.

    For each blur ``sigma`` the normal residuals ``|h - G_sigma h|`` of all brain
    pixels of all slices form ``N``; for each intensity ``i`` the anomalous
    residuals ``|i - G_sigma h(p)|``, ``p`` over all brain pixels, form ``A``;
    they are mixed at the prevalence of the disk, its area over the mean brain
    area, and scored by :func:`population_average_precision`.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Healthy slices in [0, 1].
    intensities : array_like, shape (n_i,)
        Disk intensities in [0, 1].
    sigmas : array_like, shape (n_s,)
        Blur widths in pixels, ``>= 0``.
    radius : float
        Disk radius in pixels; sets the prevalence through :func:`disk_area`.
    masks : array_like of bool, shape (N, H, W), optional
        Brain masks; default ``images > 0`` as in the simulation.
    n_quantiles : int or None, optional
        Summarise the recon values of the brain by this many evenly spaced
        order statistics (each standing for the same number of pixels);
        ``None`` uses every brain pixel.

    Returns
    -------
    numpy.ndarray, shape (n_i, n_s)
        Predicted AP per (intensity, sigma).

    Raises
    ------
    ValueError
        For grids outside their ranges, a mask without brain pixels, or a
        disk not smaller than the mean brain.

    Notes
    -----
    The summary only changes which anomalous residuals are averaged over;
    the normal residuals are always all used. Its effect on AP shrinks like
    ``1 / n_quantiles``; the chapter measures it. It is exact for a brain
    of constant reconstruction.

    Examples
    --------
    >>> img = np.full((1, 32, 32), 0.5)  # constant tissue fills the image
    >>> ap = predict_landscape(img, [0.5, 1.0], [0.0, 2.0], radius=4)
    >>> ap.round(4).tolist()  # AP = prevalence for i = 0.5, else 1
    [[0.0439, 0.0439], [1.0, 1.0]]
    """
    images, masks = check_images_and_masks(images, masks)
    intensities = _check_grid(intensities, "intensities", 0.0, 1.0)
    sigmas = _check_grid(sigmas, "sigmas", 0.0, None)
    n_quantiles = _check_n_quantiles(n_quantiles)
    prevalence = float(_nominal_prevalence(radius, masks.sum(axis=(1, 2)).mean()))
    out = np.empty((intensities.size, sigmas.size))
    for j, sigma in enumerate(sigmas):
        res = brain_residuals(images, float(sigma), masks=masks)
        normal = np.sort(res.normal)
        recon = _order_statistics(np.sort(res.recon), n_quantiles)
        out[:, j] = _intensity_rows(intensities, recon, (normal, prevalence))[0]
    return out


class SlicePredictions(NamedTuple):
    """Per-slice predictions, each one assumption closer to the simulation.

    Every field has shape ``(n_i, n_s, N)`` like
    ``pitfalls.sweeps.intensity_blur_landscape``.
    """

    brain: np.ndarray
    """Each slice's own two distributions at its nominal prevalence."""
    label: np.ndarray
    """As ``brain``, but with the disk's clipped label: prevalence
    ``|A| / |M|`` and the normal residuals of ``M \\ A`` only."""
    disk: np.ndarray
    """As ``label``, but anomalous residuals from the disk's own pixels:
    equal to the simulation."""


def _slice_predictions(image, mask, label, intensities, sigmas, area, n_quantiles):
    normal_mask = mask & ~label
    n_brain, n_label = int(mask.sum()), int(label.sum())
    nominal, actual = area / n_brain, n_label / n_brain
    out = np.empty((3, intensities.size, sigmas.size))
    for j, sigma in enumerate(sigmas):
        recon = gaussian_blur(image, float(sigma))
        r = recon[mask]
        normal_all = np.sort(np.abs(image[mask] - r))
        # the same subtraction as the simulation, so the disk variant is exact
        normal_out = np.sort(np.abs(image[normal_mask] - recon[normal_mask]))
        values = _order_statistics(np.sort(r), n_quantiles)
        out[:2, :, j] = _intensity_rows(
            intensities, values, (normal_all, nominal), (normal_out, actual)
        )
        disk = np.sort(np.abs(intensities[:, None] - recon[label][None, :]), axis=1)
        out[2, :, j] = _population_ap_ranked(disk, normal_out, actual)
    return out


def slice_predictions(
    images,
    intensities,
    sigmas,
    *,
    radius,
    centres=None,
    seed=0,
    masks=None,
    n_quantiles=1024,
    n_jobs=None,
) -> SlicePredictions:
    """Predict AP per slice, relaxing the prediction step by step to the simulation.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Healthy slices in [0, 1].
    intensities, sigmas : array_like
        The grids, as in ``pitfalls.sweeps.intensity_blur_landscape``.
    radius : float
        Disk radius in pixels.
    centres : array_like, shape (N, 2), optional
        Disk centres; sampled from the brain with ``seed`` when omitted, exactly
        as the simulation samples them.
    seed : int or numpy.random.Generator, optional
        Seed of the centre sampling.
    masks : array_like of bool, shape (N, H, W), optional
        Brain masks; default ``images > 0``.
    n_quantiles : int or None, optional
        Order statistics summarising each slice's recon values in the
        ``brain`` and ``label`` variants (see :func:`predict_landscape`);
        ``None`` uses every brain pixel. The ``disk`` variant always uses
        every disk pixel.
    n_jobs : int, optional
        Worker threads over slices; default all cores.

    Returns
    -------
    SlicePredictions
        Three landscapes of shape ``(n_i, n_s, N)``:

        ``brain``
            anomalous residuals over all brain pixels, normal residuals over
            all brain pixels, prevalence ``disk_area(radius) / |M|``;
        ``label``
            the same anomalous residuals, normal residuals over ``M \\ A``,
            prevalence ``|A| / |M|`` of the disk as pasted (clipped at the
            brain's edge);
        ``disk``
            anomalous residuals over ``A`` only: the population AP at the
            sample proportion, hence the simulated AP itself.

    Notes
    -----
    The mean over slices of ``brain`` differs from :func:`predict_landscape`
    only by averaging per-slice APs instead of pooling the distributions;
    ``brain`` to ``label`` isolates the disk's clipping and its removal from
    the normal pixels; ``label`` to ``disk`` isolates where the disk sits: its
    pixels are one spatially correlated patch of recon values, not a sample
    of the whole brain.
    """
    images, intensities, sigmas, radius, centres, masks = _prepare(
        images, intensities, sigmas, radius, centres, seed, masks
    )
    n_quantiles = _check_n_quantiles(n_quantiles)
    labels = _labels(masks, centres, radius)
    area = disk_area(radius)
    _nominal_prevalence(radius, masks.sum(axis=(1, 2)))

    def one(k):
        return _slice_predictions(
            images[k], masks[k], labels[k], intensities, sigmas, area, n_quantiles
        )

    workers = _n_workers(n_jobs)
    if workers == 1:
        results = list(map(one, range(len(images))))
    else:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, range(len(images))))
    stacked = np.stack(results, axis=-1)  # (3, n_i, n_s, N)
    return SlicePredictions(*stacked)


# --------------------------------------------------------------------------- #
# The blind spot, intensity by intensity
# --------------------------------------------------------------------------- #


class BlindSpot(NamedTuple):
    """Per-intensity view of the residual distributions at one blur."""

    intensity: np.ndarray
    """The intensities ``i``, shape (n_i,)."""
    typical_residual: np.ndarray
    """Median over brain pixels ``p`` of ``|i - G_sigma h(p)|``."""
    exceedance: np.ndarray
    """Share of normal residuals ``>=`` the typical anomalous residual."""
    mean_exceedance: np.ndarray
    """``P(n >= a)`` for a normal residual ``n`` and an anomalous ``a``."""
    ap: np.ndarray
    """Population AP at the disk's prevalence (:func:`predict_landscape`)."""
    critical_residual: float
    """See :func:`critical_residual`."""
    prevalence: float
    """Disk area over mean brain area."""


def blind_spot_profile(
    images, intensities, sigma, *, radius, masks=None, n_quantiles=4096
) -> BlindSpot:
    """Typical anomalous residual and how often normal residuals beat it, per intensity.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Healthy slices in [0, 1].
    intensities : array_like, shape (n_i,)
        Intensities in [0, 1].
    sigma : float
        Blur width in pixels.
    radius : float
        Disk radius, for the prevalence.
    masks : array_like of bool, shape (N, H, W), optional
        Brain masks; default ``images > 0``.
    n_quantiles : int or None, optional
        Summary of the recon values as in :func:`predict_landscape`; the
        typical residual is the median of the summarised sample.

    Returns
    -------
    BlindSpot

    Notes
    -----
    ``|i - G_sigma h(p)|`` is small for most ``p`` exactly when many brain
    pixels are reconstructed near ``i``, that is where normal intensities are
    dense (``G_sigma h`` is close to ``h``). Normal residuals do not depend on
    ``i`` at all, so the exceedance rises where the typical anomalous residual
    falls. ``mean_exceedance`` is one minus the AUROC of the two
    distributions (ties counted against the anomaly).

    Examples
    --------
    >>> img = np.zeros((1, 32, 32)); img[0, 4:28, 4:28] = 0.5
    >>> spot = blind_spot_profile(img, [0.5, 0.9], 0.0, radius=3)
    >>> spot.typical_residual.tolist(), spot.ap.round(4).tolist()
    ([0.0, 0.4], [0.0434, 1.0])
    """
    images, masks = check_images_and_masks(images, masks)
    intensities = _check_grid(intensities, "intensities", 0.0, 1.0)
    n_quantiles = _check_n_quantiles(n_quantiles)
    prevalence = float(_nominal_prevalence(radius, masks.sum(axis=(1, 2)).mean()))
    res = brain_residuals(images, check_non_negative(sigma, "sigma"), masks=masks)
    normal = np.sort(res.normal)
    values = _order_statistics(np.sort(res.recon), n_quantiles)
    typical, mean_exceedance, ap = np.empty((3, intensities.size))
    step = max(1, _CHUNK // values.size)
    for start in range(0, intensities.size, step):
        chunk = slice(start, start + step)
        ranked = _sorted_distances(intensities[chunk], values)  # (n_chunk, m)
        typical[chunk] = np.median(ranked, axis=1)
        mean_exceedance[chunk] = _survival_at(normal, ranked).mean(axis=1)
        ap[chunk] = _population_ap_ranked(ranked, normal, prevalence)
    return BlindSpot(
        intensity=intensities,
        typical_residual=typical,
        exceedance=_survival_at(normal, typical),
        mean_exceedance=mean_exceedance,
        ap=ap,
        critical_residual=critical_residual(normal, prevalence),
        prevalence=prevalence,
    )


# --------------------------------------------------------------------------- #
# Agreement of two landscapes
# --------------------------------------------------------------------------- #


class Agreement(NamedTuple):
    """How far two AP landscapes lie apart, on their means over slices."""

    mean_abs: float
    """Mean absolute difference of the means over all cells."""
    bias: float
    """Mean signed difference, first minus second."""
    max_abs: float
    """Largest absolute difference."""
    worst: tuple
    """``(intensity index, sigma index)`` of the largest difference."""
    per_sigma: np.ndarray
    """Mean absolute difference per sigma, shape (n_s,)."""
    per_intensity: np.ndarray
    """Mean absolute difference per intensity, shape (n_i,)."""
    within_noise: float
    """Share of cells where the difference is within the slices' sampling noise
    (see :func:`landscape_agreement`); NaN without per-slice values."""
    per_slice_mean_abs: float
    """Mean absolute difference slice by slice (paired inputs only, else NaN)."""


def landscape_agreement(first, second, *, confidence=0.95) -> Agreement:
    """Compare two AP landscapes cell by cell, against the noise of the slices.

    Parameters
    ----------
    first, second : array_like, shape (n_i, n_s) or (n_i, n_s, N)
        Landscapes, either already averaged over slices or per slice, e.g. a
        prediction and ``pitfalls.sweeps.intensity_blur_landscape``.
    confidence : float, optional
        Coverage of the Student-t intervals of ``pitfalls.sweeps.mean_interval``.

    Returns
    -------
    Agreement
        Differences of the means over slices; ``within_noise`` is, when both
        are per slice (paired by slice), the share of cells whose interval of
        the mean per-slice difference contains 0, and when only one is per
        slice, the share of cells where the other lies inside the interval of
        its mean.

    Raises
    ------
    ValueError
        If the shapes do not match or ``confidence`` is outside (0, 1).

    Examples
    --------
    >>> agree = landscape_agreement([[0.5, 1.0], [0.2, 0.9]], [[0.5, 0.8], [0.2, 1.0]])
    >>> round(agree.mean_abs, 3), agree.worst, agree.per_sigma.round(2).tolist()
    (0.075, (0, 1), [0.0, 0.15])
    """
    from .sweeps import mean_interval

    a = _check_scores(first, "first")
    b = _check_scores(second, "second")
    if a.ndim not in (2, 3) or b.ndim not in (2, 3) or a.shape[:2] != b.shape[:2]:
        raise ValueError(
            "`first` and `second` must be (n_i, n_s) or (n_i, n_s, N) with the "
            f"same (n_i, n_s), got {a.shape} and {b.shape}"
        )
    if a.ndim == b.ndim == 3 and a.shape != b.shape:
        raise ValueError(
            f"per-slice `first` and `second` must have the same shape, got {a.shape} "
            f"and {b.shape}"
        )
    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` must lie in (0, 1), got {confidence!r}")
    mean_a = a.mean(axis=-1) if a.ndim == 3 else a
    mean_b = b.mean(axis=-1) if b.ndim == 3 else b
    diff = mean_a - mean_b
    gap = np.abs(diff)
    worst = np.unravel_index(int(np.argmax(gap)), gap.shape)

    within, per_slice = float("nan"), float("nan")
    tol = 1e-12  # zero-width intervals (every slice alike) still hold their mean
    if a.ndim == b.ndim == 3:
        paired = a - b
        _, low, high = mean_interval(paired, axis=-1, confidence=confidence)
        within = float(np.mean((low - tol <= 0) & (high + tol >= 0)))
        per_slice = float(np.abs(paired).mean())
    elif a.ndim == 3 or b.ndim == 3:
        spread, point = (a, mean_b) if a.ndim == 3 else (b, mean_a)
        _, low, high = mean_interval(spread, axis=-1, confidence=confidence)
        within = float(np.mean((low - tol <= point) & (point <= high + tol)))
    return Agreement(
        mean_abs=float(gap.mean()),
        bias=float(diff.mean()),
        max_abs=float(gap.max()),
        worst=(int(worst[0]), int(worst[1])),
        per_sigma=gap.mean(axis=0),
        per_intensity=gap.mean(axis=1),
        within_noise=within,
        per_slice_mean_abs=per_slice,
    )
