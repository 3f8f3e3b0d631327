"""Parameter sweeps of the experiments, exact and fast.

The landscape of the paper's first experiment is the average precision (AP) of
the residual ``|x - G_sigma * h|`` against a pasted disk, for every
(intensity, sigma, slice) cell. Computed plainly, each cell re-blurs the slice,
re-computes the residual and sorts every brain pixel
(:func:`intensity_blur_landscape_reference`). Almost all of that work repeats:

- the blur depends only on (sigma, slice);
- outside the disk the residual is the normal residual ``|h - G_sigma * h|``,
  which depends only on (sigma, slice): it is sorted once;
- inside the disk the residual is ``|i - G_sigma * h|``, so each intensity needs
  only the disk's pixels, ranked against the sorted normal residuals with a
  binary search.

:func:`intensity_blur_landscape` does exactly that and returns the same AP as
scikit-learn's ``average_precision_score`` on the plain computation (to rounding,
well below 1e-9). Three further savings keep it exact: the blur runs on the
window of the slice that holds brain plus the kernel's reach (bit for bit the
same values there), an intensity whose every disk pixel outscores every normal
pixel gets AP 1 without ranking, and sorts and binary searches compare the bit
patterns of the non-negative residuals as integers, which order the same way.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import anomalies
from ._validate import check_images_and_masks, check_positive
from .reconstruction import gaussian_blur

__all__ = [
    "ap_against_sorted_negatives",
    "intensity_blur_landscape",
    "intensity_blur_landscape_reference",
    "landscape_table",
    "mean_interval",
    "resolve_centres",
    "texture_blur_curves",
    "TEXTURE_ANOMALIES",
    "model_intensity_curves",
    "blur_equivalent_sigma",
    "BlurEquivalent",
]

#: Texture anomalies of the paper's second experiment, by name.
TEXTURE_ANOMALIES = tuple(anomalies.TEXTURES)


def ap_against_sorted_negatives(positives, negatives_sorted) -> np.ndarray:
    """Average precision of rows of positive scores against one set of negatives.

    Parameters
    ----------
    positives : array_like, shape (M, P) or (P,)
        Scores of the ``P`` positive pixels, one row per scoring (for example
        one row per disk intensity).
    negatives_sorted : array_like, shape (Q,)
        Scores of the negative pixels, sorted ascending; shared by all rows.

    Returns
    -------
    numpy.ndarray, shape (M,) or ()
        AP of each row, with scikit-learn's semantics: thresholds at the
        distinct scores, every pixel scoring ``>= t`` counted as detected, so
        ties between positives and negatives are grouped.

    Notes
    -----
    Recall changes only at scores held by a positive, so
    ``AP = mean over positives p of TP(>= s_p) / (TP(>= s_p) + FP(>= s_p))``.
    ``FP(>= s)`` is one binary search in the sorted negatives; ``TP(>= s)``
    follows from the position of the first member of ``s``'s tie group in
    the sorted row. Cost: ``O(M P log Q)`` after the one sort of the negatives.
    A row without positives (``P == 0``) gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> float(ap_against_sorted_negatives([0.9, 0.8], np.array([0.1, 0.8])))
    0.8333333333333333
    """
    pos = np.asarray(positives, dtype=np.float64)
    squeeze = pos.ndim == 1
    pos = np.atleast_2d(pos)
    neg = np.asarray(negatives_sorted, dtype=np.float64)
    if pos.shape[1] == 0:
        out = np.full(pos.shape[0], np.nan)
        return out[0] if squeeze else out
    ap = _ap_ranked(np.sort(pos, axis=1), neg)
    return ap[0] if squeeze else ap


def _ap_ranked(ranked, neg) -> np.ndarray:
    """AP per row of row-sorted positive scores against sorted negatives.

    ``ranked`` and ``neg`` may be any dtype whose order is the scores' order
    (the engine passes the int64 bit patterns of non-negative floats).
    """
    n_pos = ranked.shape[1]
    # TP(>= s) = P - index of the first element of s's tie group in its row;
    # without ties that is simply P, P - 1, ..., 1 along the row.
    tp = np.arange(n_pos, 0, -1, dtype=np.float64)
    if (ranked[:, 1:] == ranked[:, :-1]).any():
        starts = np.ones(ranked.shape, dtype=bool)
        starts[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
        first = np.where(starts, np.arange(n_pos), 0)
        np.maximum.accumulate(first, axis=1, out=first)
        tp = (n_pos - first).astype(np.float64)
    # FP(>= s) = Q - #(negatives < s); precision = TP / (TP + Q - #(neg < s))
    below = np.searchsorted(neg, ranked, side="left")  # (M, P)
    denominator = (tp + neg.size) - below
    np.divide(tp, denominator, out=denominator)
    return denominator.sum(axis=1) / n_pos


def _as_ordered_ints(nonnegative: np.ndarray) -> np.ndarray:
    """View non-negative float64 values as int64 with the same order.

    IEEE 754 doubles that are >= +0.0 order exactly like their bit patterns
    read as signed integers, and integer comparisons make the sorts and binary
    searches of the engine faster. Valid only for values produced by
    ``np.abs`` (never -0.0, never NaN here).
    """
    return nonnegative.view(np.int64)


def resolve_centres(masks, centres=None, seed=0) -> np.ndarray:
    """Return one integer (row, col) centre per slice, sampling brain pixels if needed.

    Parameters
    ----------
    masks : array_like of bool, shape (N, H, W)
        Brain masks.
    centres : array_like, shape (N, 2), optional
        Explicit centres, checked to lie inside the images.
    seed : int or numpy.random.Generator
        Used only when ``centres`` is None.

    Returns
    -------
    numpy.ndarray, shape (N, 2), int
    """
    masks = np.asarray(masks)
    if centres is None:
        return np.asarray(anomalies.sample_centres(masks, seed)).reshape(len(masks), 2)
    arr = np.asarray(centres)
    if arr.shape != (len(masks), 2):
        raise ValueError(
            f"`centres` must have shape (N, 2) = ({len(masks)}, 2), got {arr.shape}"
        )
    h, w = masks.shape[1:]
    outside = (
        (arr[:, 0] < 0) | (arr[:, 0] > h - 1) | (arr[:, 1] < 0) | (arr[:, 1] > w - 1)
    )
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"`centres[{k}]` = {tuple(arr[k].tolist())} lies outside the image "
            f"of shape {(h, w)}"
        )
    return arr


def _check_grid(values, name: str, low: float, high: float | None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1D sequence, got shape {arr.shape}"
        )
    bad = ~np.isfinite(arr) | (arr < low)
    if high is not None:
        bad |= arr > high
    if bad.any():
        accepted = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"`{name}` must lie in {accepted}, got {float(arr[bad][0])!r}")
    return arr


def _prepare(images, intensities, sigmas, radius, centres, seed, masks):
    images, masks = check_images_and_masks(images, masks)
    intensities = _check_grid(intensities, "intensities", 0.0, 1.0)
    sigmas = _check_grid(sigmas, "sigmas", 0.0, None)
    check_positive(radius, "radius")
    centres = resolve_centres(masks, centres, seed)
    return images, intensities, sigmas, float(radius), centres, masks


def _labels(masks, centres, radius) -> np.ndarray:
    labels = np.stack(
        [
            anomalies.disk_label(m.shape, c, radius, mask=m)
            for m, c in zip(masks, centres)
        ]
    )
    empty = ~labels.any(axis=(1, 2))
    if empty.any():
        raise ValueError(
            f"the disk of slice {int(np.flatnonzero(empty)[0])} holds no brain pixel"
        )
    return labels


def _blur_window(image, mask, sigma_max, truncate=4.0):
    """Rows and columns of the part of ``image`` that blurs need to see.

    Pixels outside the box of nonzero and masked pixels are zero, so blurring a
    window that extends past that box by more than the kernel's radius gives,
    inside the box, bit for bit the values of blurring the whole image: every
    output pixel there reads the same inputs in the same order, and the border
    handling only reaches pixels within one radius of the window's edge (or of
    the image's, exactly as for the whole image).
    """
    region = (image != 0) | mask
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    reach = int(truncate * sigma_max + 0.5) + 1  # scipy's kernel radius, plus one
    return (
        slice(max(rows[0] - reach, 0), min(rows[-1] + 1 + reach, image.shape[0])),
        slice(max(cols[0] - reach, 0), min(cols[-1] + 1 + reach, image.shape[1])),
    )


def _blurred_slice(image, mask, label, sigmas, *, anomalous=None):
    """Per sigma: the reconstruction on the label and the sorted normal residuals.

    Yields ``(disk_recon, negatives, disk_values)`` for each sigma in turn:
    ``G_sigma * image`` on the label's pixels, the residuals ``|h - G_sigma h|``
    of the other brain pixels as sorted ordered integers (see
    :func:`_as_ordered_ints`), and the label's pixels of ``anomalous`` (None
    if not given), all label arrays in one pixel order.
    """
    window = _blur_window(image, mask, float(np.max(sigmas)))
    image, mask, label = image[window], mask[window], label[window]
    normal = np.flatnonzero(mask & ~label)
    disk = np.flatnonzero(label)
    healthy = image.ravel()[normal]
    disk_values = None if anomalous is None else anomalous[window].ravel()[disk]
    for sigma in sigmas:
        recon = gaussian_blur(image, float(sigma)).ravel()
        negatives = _as_ordered_ints(np.abs(healthy - recon[normal]))
        negatives.sort()
        yield recon[disk], negatives, disk_values


def _slice_landscape(image, mask, label, intensities, sigmas) -> np.ndarray:
    """AP of one slice for every (intensity, sigma): shape (n_i, n_s)."""
    out = np.empty((intensities.size, sigmas.size))
    # (n_i, P) buffer reused across sigmas: the pasted disk holds intensity i,
    # and the reconstruction, made from the healthy slice, is blind to it
    positives = np.empty((intensities.size, int(label.sum())))
    blurred = _blurred_slice(image, mask, label, sigmas)
    for j, (disk_recon, negatives, _) in enumerate(blurred):
        np.subtract(intensities[:, None], disk_recon[None, :], out=positives)
        np.abs(positives, out=positives)
        # an intensity whose every disk pixel outscores every normal pixel has
        # AP exactly 1 (each precision is TP / TP); only the others are ranked
        out[:, j] = 1.0
        if negatives.size == 0:  # the disk covers the whole brain
            continue
        hard = positives.min(axis=1) <= negatives.view(np.float64)[-1]
        if hard.any():
            rows = positives[hard]  # (n_hard, P) copy
            rows.sort(axis=1)
            out[hard, j] = _ap_ranked(_as_ordered_ints(rows), negatives)
    return out


def _n_workers(n_jobs) -> int:
    if n_jobs is None:
        return os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"`n_jobs` must be a positive int or None, got {n_jobs!r}")
    return n_jobs


def intensity_blur_landscape(
    images,
    intensities,
    sigmas,
    *,
    radius,
    centres=None,
    seed=0,
    masks=None,
    n_jobs=None,
    progress=False,
) -> np.ndarray:
    """Per-slice AP of the residual for a disk of each intensity and each blur.

    The paper's first experiment: a disk of intensity ``i`` is pasted at one
    position per slice; the "reconstruction" is the *healthy* slice blurred
    with a Gaussian of ``sigma``; the score is the absolute residual; AP is
    computed per slice over the brain pixels against the disk label.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Healthy slices in [0, 1].
    intensities : array_like, shape (n_i,)
        Disk intensities in [0, 1].
    sigmas : array_like, shape (n_s,)
        Blur standard deviations in pixels, ``>= 0``.
    radius : float
        Disk radius in pixels.
    centres : array_like, shape (N, 2), optional
        Disk centre (row, col) per slice; sampled from the brain with ``seed``
        when omitted, so that runs can reuse positions.
    seed : int or numpy.random.Generator, optional
        Seed of the centre sampling.
    masks : array_like of bool, shape (N, H, W), optional
        Brain masks; default ``images > 0`` as in the paper. The disk label is
        restricted to the mask and AP is computed over mask pixels only.
    n_jobs : int, optional
        Worker threads over slices; default all cores.
    progress : bool, optional
        Show a progress bar over slices.

    Returns
    -------
    numpy.ndarray, shape (n_i, n_s, N)
        AP of every (intensity, sigma, slice) cell.

    Notes
    -----
    Exact: equal to :func:`intensity_blur_landscape_reference`, which uses
    scikit-learn, up to floating-point summation order. The gain comes from
    sorting the normal residual once per (sigma, slice) and scoring each
    intensity from the disk's pixels alone; see the module docstring and
    ``benchmarks/bench_landscape.py``.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((1, 32, 32)); img[0, 4:28, 4:28] = 0.5
    >>> ap = intensity_blur_landscape(img, [0.5, 1.0], [0.0], radius=3,
    ...                               centres=[[16, 16]])
    >>> ap.shape
    (2, 1, 1)
    >>> float(ap[1, 0, 0])  # a bright disk on a perfect reconstruction: found
    1.0
    """
    images, intensities, sigmas, radius, centres, masks = _prepare(
        images, intensities, sigmas, radius, centres, seed, masks
    )
    labels = _labels(masks, centres, radius)
    n = len(images)

    def one(k):
        return _slice_landscape(images[k], masks[k], labels[k], intensities, sigmas)

    return _run_slices(
        one, n, (intensities.size, sigmas.size), n_jobs, progress, "landscape"
    )


def _texture_function(anomaly):
    if callable(anomaly):
        return anomaly
    if anomaly not in anomalies.TEXTURES:
        raise ValueError(
            f"`anomaly` must be one of {sorted(anomalies.TEXTURES)} or a callable, "
            f"got {anomaly!r}"
        )
    return anomalies.TEXTURES[anomaly]


def texture_blur_curves(
    images,
    anomaly,
    sigmas,
    *,
    radius,
    centres=None,
    seed=0,
    masks=None,
    n_jobs=None,
    progress=False,
    **anomaly_kwargs,
) -> np.ndarray:
    """Per-slice AP of the residual for a texture anomaly at each blur.

    The paper's second experiment: the disk's pixels keep their intensities
    but change their texture (sink or source deformation, pixel shuffle); the
    reconstruction is the healthy slice blurred with each ``sigma``.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Healthy slices.
    anomaly : {"sink", "source", "shuffle"} or callable
        The texture anomaly, or any function
        ``f(image, centre, radius, *, mask, **kw) -> (anomalous, label)``.
    sigmas : array_like, shape (n_s,)
        Blur standard deviations, ``>= 0``.
    radius, centres, seed, masks, n_jobs, progress
        As in :func:`intensity_blur_landscape`. ``seed`` also seeds the
        shuffle: slice ``k`` uses a generator spawned from it.
    **anomaly_kwargs
        Passed to the anomaly, e.g. ``strength`` of a deformation.

    Returns
    -------
    numpy.ndarray, shape (n_s, N)
        AP of every (sigma, slice) cell.

    Notes
    -----
    The anomalous image is made once per slice; each blur then needs one sort
    of the normal residual outside the label and one ranking of the label's
    residuals, as in :func:`intensity_blur_landscape`.
    """
    fn = _texture_function(anomaly)
    images, _, sigmas, radius, centres, masks = _prepare(
        images, [0.0], sigmas, radius, centres, seed, masks
    )
    if fn is anomalies.pixel_shuffle:
        if isinstance(seed, np.random.Generator):
            generators = seed.spawn(len(images))
        else:
            streams = np.random.SeedSequence(seed).spawn(len(images))
            generators = [np.random.default_rng(s) for s in streams]
        extra = [{"rng": g} for g in generators]
    else:
        extra = [{} for _ in images]

    def one(k):
        image, mask = images[k], masks[k]
        anomalous, label = fn(
            image, centres[k], radius, mask=mask, **anomaly_kwargs, **extra[k]
        )
        row = np.empty(sigmas.size)
        blurred = _blurred_slice(image, mask, label, sigmas, anomalous=anomalous)
        for j, (disk_recon, negatives, disk_values) in enumerate(blurred):
            positives = np.sort(np.abs(disk_values - disk_recon))[None]  # (1, P)
            if positives.size == 0:  # the disk missed the brain
                row[j] = np.nan
                continue
            row[j] = _ap_ranked(_as_ordered_ints(positives), negatives)[0]
        return row

    return _run_slices(one, len(images), (sigmas.size,), n_jobs, progress, "texture")


def _run_slices(one, n, cell_shape, n_jobs, progress, desc) -> np.ndarray:
    """Evaluate ``one(k)`` for every slice ``k``, threaded, stacking on a last axis."""
    out = np.empty((*cell_shape, n))
    workers = _n_workers(n_jobs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=desc, unit="slice")
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    try:
        results = pool.map(one, range(n)) if pool else map(one, range(n))
        for k, res in enumerate(results):
            out[..., k] = res
            if bar is not None:
                bar.update()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return out


def intensity_blur_landscape_reference(
    images, intensities, sigmas, *, radius, centres=None, seed=0, masks=None
) -> np.ndarray:
    """The plain per-cell computation of :func:`intensity_blur_landscape`.

    For every (intensity, sigma, slice) cell: paste the disk, blur the healthy
    slice, take the absolute residual and call scikit-learn's
    ``average_precision_score`` on the brain pixels. Slow (milliseconds per
    cell); kept as the definition the fast engine is tested and benchmarked
    against.
    """
    from sklearn.metrics import average_precision_score

    images, intensities, sigmas, radius, centres, masks = _prepare(
        images, intensities, sigmas, radius, centres, seed, masks
    )
    out = np.empty((intensities.size, sigmas.size, len(images)))
    for a, intensity in enumerate(intensities):
        for b, sigma in enumerate(sigmas):
            for k, (image, mask, centre) in enumerate(zip(images, masks, centres)):
                anomalous, label = anomalies.paste_disk(
                    image, centre, radius, float(intensity), mask=mask
                )
                recon = gaussian_blur(image, float(sigma))
                score = np.abs(anomalous - recon)
                out[a, b, k] = average_precision_score(label[mask], score[mask])
    return out


def landscape_table(ap, intensities, sigmas):
    """Tidy table of a landscape: one row per (slice, intensity, sigma) cell.

    Parameters
    ----------
    ap : array_like, shape (n_i, n_s, N)
        As returned by :func:`intensity_blur_landscape`.
    intensities, sigmas : array_like
        The grids the landscape was computed on.

    Returns
    -------
    pandas.DataFrame
        Columns ``slice``, ``intensity``, ``sigma``, ``ap``.
    """
    import pandas as pd

    ap = np.asarray(ap)
    intensities = np.asarray(intensities, dtype=float)
    sigmas = np.asarray(sigmas, dtype=float)
    if ap.ndim != 3 or ap.shape[:2] != (intensities.size, sigmas.size):
        raise ValueError(
            f"`ap` must have shape ({intensities.size}, {sigmas.size}, N), "
            f"got {ap.shape}"
        )
    i_idx, s_idx, k_idx = np.meshgrid(
        np.arange(ap.shape[0]),
        np.arange(ap.shape[1]),
        np.arange(ap.shape[2]),
        indexing="ij",
    )
    return pd.DataFrame(
        {
            "slice": k_idx.ravel(),
            "intensity": intensities[i_idx.ravel()],
            "sigma": sigmas[s_idx.ravel()],
            "ap": ap.ravel(),
        }
    )


def mean_interval(values, *, axis=-1, confidence=0.95):
    """Mean and Student-t confidence interval of the mean along ``axis``.

    Parameters
    ----------
    values : array_like
        Samples, e.g. per-slice AP along the last axis.
    axis : int
        Axis of the samples.
    confidence : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    mean, low, high : numpy.ndarray
        Arrays with ``axis`` removed. NaN samples are ignored.

    Notes
    -----
    The interval treats slices as independent draws. Slices of one subject are
    correlated, so the interval is optimistic when many slices come from few
    subjects.

    Examples
    --------
    >>> m, lo, hi = mean_interval([1.0, 2.0, 3.0])
    >>> float(m), round(float(hi - m), 4)
    (2.0, 2.4841)
    """
    from scipy import stats

    if not 0 < confidence < 1:
        raise ValueError(f"`confidence` must lie in (0, 1), got {confidence!r}")
    values = np.asarray(values, dtype=np.float64)
    n = np.sum(~np.isnan(values), axis=axis)
    mean = np.nanmean(values, axis=axis)
    sem = np.nanstd(values, axis=axis, ddof=1) / np.sqrt(n)
    half = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sem
    return mean, mean - half, mean + half


def _call_reconstruct(reconstruct, batch: np.ndarray) -> np.ndarray:
    out = np.asarray(reconstruct(batch), dtype=np.float64)
    if out.shape != batch.shape:
        raise ValueError(
            f"`reconstruct` must return an array of the input's shape {batch.shape}, "
            f"got {out.shape}"
        )
    if not np.isfinite(out).all():
        raise ValueError("`reconstruct` returned NaN or infinite values")
    return out


def model_intensity_curves(
    reconstruct,
    images,
    intensities,
    *,
    radius,
    centres=None,
    seed=0,
    masks=None,
    mode="normal",
    progress=False,
) -> np.ndarray:
    """Per-slice AP against disk intensity for any reconstruction function.

    Parameters
    ----------
    reconstruct : callable
        Maps a batch ``(B, H, W)`` of images to reconstructions of the same
        shape: a trained model (see :func:`pitfalls.train.reconstruct`), a
        blur, or a user's own function.
    images : array_like, shape (N, H, W)
        Healthy slices.
    intensities : array_like, shape (n_i,)
        Disk intensities in [0, 1].
    radius, centres, seed, masks
        As in :func:`intensity_blur_landscape`.
    mode : {"normal", "anomalous"}
        ``"normal"`` (the paper's 3.1): the model reconstructs the healthy
        slice and the disk is pasted into the input only, so one
        reconstruction per slice serves every intensity. ``"anomalous"``
        (3.2): the model reconstructs the slice with the disk pasted in, one
        reconstruction per (intensity, slice).
    progress : bool
        Progress bar over intensities (``"anomalous"`` mode).

    Returns
    -------
    numpy.ndarray, shape (n_i, N)
        AP of the absolute residual over the brain pixels, per cell.
    """
    if mode not in ("normal", "anomalous"):
        raise ValueError(f"`mode` must be 'normal' or 'anomalous', got {mode!r}")
    if not callable(reconstruct):
        raise TypeError(
            f"`reconstruct` must be callable, got {type(reconstruct).__name__}"
        )
    images, intensities, _, radius, centres, masks = _prepare(
        images, intensities, [0.0], radius, centres, seed, masks
    )
    labels = _labels(masks, centres, radius)
    out = np.empty((intensities.size, len(images)))
    if mode == "normal":
        recons = _call_reconstruct(reconstruct, images)
        for k, (image, mask, label, recon) in enumerate(
            zip(images, masks, labels, recons)
        ):
            normal = mask & ~label
            negatives = np.sort(np.abs(image[normal] - recon[normal]))
            positives = np.abs(intensities[:, None] - recon[label][None, :])
            out[:, k] = ap_against_sorted_negatives(positives, negatives)
        return out
    rows = range(intensities.size)
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="intensities", unit="intensity")
    for a in rows:
        pasted = np.stack(
            [
                anomalies.paste_disk(
                    image, centre, radius, float(intensities[a]), mask=mask
                )[0]
                for image, centre, mask in zip(images, centres, masks)
            ]
        )
        recons = _call_reconstruct(reconstruct, pasted)
        residual = np.abs(pasted - recons)
        for k, (mask, label) in enumerate(zip(masks, labels)):
            negatives = np.sort(residual[k][mask & ~label])
            out[a, k] = ap_against_sorted_negatives(residual[k][label], negatives)
    return out


@dataclass(frozen=True)
class BlurEquivalent:
    """Result of :func:`blur_equivalent_sigma`.

    Attributes
    ----------
    sigma : float
        The blur whose mean AP-vs-intensity curve is closest to the model's.
    distance : float
        Mean absolute difference between the two curves.
    model_ap : numpy.ndarray, shape (n_i, N)
        Per-slice AP of the model.
    blur_ap : numpy.ndarray, shape (n_i, n_s, N)
        Per-slice AP of every blur, on the same slices and disks.
    distances : numpy.ndarray, shape (n_s,)
        Distance of the model's mean curve to each blur's mean curve.
    intensities, sigmas : numpy.ndarray
        The grids.
    """

    sigma: float
    distance: float
    model_ap: np.ndarray
    blur_ap: np.ndarray
    distances: np.ndarray
    intensities: np.ndarray
    sigmas: np.ndarray


def blur_equivalent_sigma(
    reconstruct,
    images,
    *,
    radius,
    intensities=None,
    sigmas=None,
    centres=None,
    seed=0,
    masks=None,
    mode="normal",
    blur_ap=None,
) -> BlurEquivalent:
    """The Gaussian blur that misses the same anomalies as a reconstruction.

    The model's mean AP-vs-intensity curve (:func:`model_intensity_curves`)
    is compared in L1 with the curve of every blur of the landscape computed
    on the same slices, disks, working size and radius; the closest blur's
    sigma summarises the model's blind spot in the units of the paper's first
    experiment.

    Parameters
    ----------
    reconstruct : callable
        ``(B, H, W) -> (B, H, W)``, see :func:`model_intensity_curves`.
    images : array_like, shape (N, H, W)
    radius : float
    intensities : array_like, optional
        Default 51 values in [0, 1].
    sigmas : array_like, optional
        Default 101 values in [0, 5].
    centres, seed, masks, mode
        As in :func:`model_intensity_curves`.
    blur_ap : array_like, shape (n_i, n_s, N), optional
        A landscape already computed on exactly these slices, disks and
        grids, to compare several models without recomputing it.

    Returns
    -------
    BlurEquivalent

    Notes
    -----
    A model that is a Gaussian blur of ``s`` comes back with ``sigma`` within
    the grid spacing of ``s``. For a real model the match is a summary of one
    curve by one number: the distance says how good it is.
    """
    intensities = np.linspace(0, 1, 51) if intensities is None else intensities
    sigmas = np.linspace(0, 5, 101) if sigmas is None else sigmas
    images, intensities, sigmas, radius, centres, masks = _prepare(
        images, intensities, sigmas, radius, centres, seed, masks
    )
    model_ap = model_intensity_curves(
        reconstruct,
        images,
        intensities,
        radius=radius,
        centres=centres,
        masks=masks,
        mode=mode,
    )
    if blur_ap is None:
        blur_ap = intensity_blur_landscape(
            images, intensities, sigmas, radius=radius, centres=centres, masks=masks
        )
    blur_ap = np.asarray(blur_ap, dtype=np.float64)
    expected = (intensities.size, sigmas.size, len(images))
    if blur_ap.shape != expected:
        raise ValueError(f"`blur_ap` must have shape {expected}, got {blur_ap.shape}")
    curve = model_ap.mean(axis=-1)
    distances = np.abs(blur_ap.mean(axis=-1) - curve[:, None]).mean(axis=0)
    best = int(np.argmin(distances))
    return BlurEquivalent(
        sigma=float(sigmas[best]),
        distance=float(distances[best]),
        model_ap=model_ap,
        blur_ap=blur_ap,
        distances=distances,
        intensities=intensities,
        sigmas=sigmas,
    )
