"""Numbers the chapters quote: dense intensity bands, blind bands, safe blur levels.

Each function reduces a computed result (intensities of the brain, a landscape
of AP) to the few values the prose reads through ``glue``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "closest_curve",
    "dense_band",
    "blind_band",
    "safe_sigma",
    "chance_level",
    "chance_sigma",
    "histogram_peaks",
    "label_change",
    "sigma_below",
]


def dense_band(values, *, mass: float = 0.8) -> tuple[float, float]:
    """Shortest interval holding a fraction ``mass`` of the values.

    Parameters
    ----------
    values : array_like
        Samples, e.g. brain-pixel intensities.
    mass : float
        Fraction in (0, 1].

    Returns
    -------
    (low, high) : tuple of float

    Examples
    --------
    >>> dense_band([0, 1, 1.1, 1.2, 10], mass=0.6)
    (1.0, 1.2)
    """
    if not 0 < mass <= 1:
        raise ValueError(f"`mass` must lie in (0, 1], got {mass!r}")
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ValueError("`values` holds no finite value")
    k = max(int(np.ceil(mass * x.size)), 1)
    widths = x[k - 1 :] - x[: x.size - k + 1]
    start = int(np.argmin(widths))
    return float(x[start]), float(x[start + k - 1])


def histogram_peaks(values, *, bins: int = 100, value_range=(0.0, 1.0), n: int = 2):
    """Centres of the ``n`` highest local maxima of a smoothed histogram.

    Returns
    -------
    numpy.ndarray
        Peak positions sorted ascending (fewer than ``n`` if the histogram
        has fewer local maxima).
    """
    from scipy import ndimage

    counts, edges = np.histogram(
        np.asarray(values).ravel(), bins=bins, range=value_range
    )
    smooth = ndimage.gaussian_filter1d(counts.astype(float), 1.0, mode="constant")
    inner = (smooth[1:-1] > smooth[:-2]) & (smooth[1:-1] >= smooth[2:])
    idx = np.flatnonzero(inner) + 1
    idx = idx[np.argsort(smooth[idx])[::-1][:n]]
    centres = (edges[:-1] + edges[1:]) / 2
    return np.sort(centres[idx])


def blind_band(ap_curve, intensities, *, threshold: float = 0.5):
    """Intensity range over which a mean AP curve stays below ``threshold``.

    Parameters
    ----------
    ap_curve : array_like, shape (n_i,)
        Mean AP per intensity at one blur level.
    intensities : array_like, shape (n_i,)
        Ascending intensity grid.
    threshold : float
        AP below which the anomaly counts as missed.

    Returns
    -------
    (low, high) : tuple of float
        Smallest and largest intensity with AP below ``threshold``, or
        ``(nan, nan)`` if there is none. Gaps inside the range are not
        reported.

    Examples
    --------
    >>> blind_band([1.0, 0.3, 0.2, 0.9], [0.0, 0.25, 0.5, 0.75])
    (0.25, 0.5)
    """
    ap_curve = np.asarray(ap_curve, dtype=float)
    intensities = np.asarray(intensities, dtype=float)
    if ap_curve.shape != intensities.shape:
        raise ValueError(
            f"`ap_curve` and `intensities` must have the same shape, "
            f"got {ap_curve.shape} and {intensities.shape}"
        )
    below = ap_curve < threshold
    if not below.any():
        return float("nan"), float("nan")
    return float(intensities[below].min()), float(intensities[below].max())


def safe_sigma(ap_mean, sigmas, *, threshold: float = 0.9) -> float:
    """Largest blur up to which every intensity keeps a mean AP >= ``threshold``.

    Parameters
    ----------
    ap_mean : array_like, shape (n_i, n_s)
        Mean AP over slices per (intensity, sigma), sigmas ascending.
    sigmas : array_like, shape (n_s,)
    threshold : float

    Returns
    -------
    float
        The last sigma of the leading run of columns whose minimum over
        intensities is ``>= threshold``; NaN if already the first fails.

    Examples
    --------
    >>> safe_sigma([[1.0, 0.95, 0.5], [1.0, 0.92, 0.95]], [0.0, 1.0, 2.0])
    1.0
    """
    ap_mean = np.asarray(ap_mean, dtype=float)
    sigmas = np.asarray(sigmas, dtype=float)
    ok = ap_mean.min(axis=0) >= threshold
    if not ok[0]:
        return float("nan")
    first_bad = np.flatnonzero(~ok)
    last = sigmas.size - 1 if first_bad.size == 0 else int(first_bad[0]) - 1
    return float(sigmas[last])


def chance_level(labels, masks) -> np.ndarray:
    """AP of a random score per slice: the share of brain pixels that are anomalous."""
    labels = np.asarray(labels, dtype=bool)
    masks = np.asarray(masks, dtype=bool)
    axes = tuple(range(1, labels.ndim)) if labels.ndim > 2 else None
    return (labels & masks).sum(axis=axes) / masks.sum(axis=axes)


def closest_curve(curve, curves):
    """Index of the row of ``curves`` closest to ``curve`` in mean absolute difference.

    Parameters
    ----------
    curve : array_like, shape (n,)
        E.g. mean AP against sigma of a texture anomaly.
    curves : array_like, shape (m, n)
        E.g. mean AP against sigma for each disk intensity.

    Returns
    -------
    index : int
        Row of the smallest L1 distance (the first one on ties).
    distances : numpy.ndarray, shape (m,)
        Mean absolute difference to every row.

    Examples
    --------
    >>> closest_curve([0.5, 0.4], [[1.0, 1.0], [0.6, 0.4], [0.0, 0.0]])[0]
    1
    """
    curve = np.asarray(curve, dtype=float)
    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2 or curves.shape[1:] != curve.shape:
        raise ValueError(
            f"`curves` must have shape (m, {curve.size}), got {curves.shape}"
        )
    distances = np.abs(curves - curve).mean(axis=1)
    return int(np.argmin(distances)), distances


def sigma_below(ap_mean, sigmas, level):
    """Smallest grid blur from which on a mean AP curve stays at or below ``level``.

    Parameters
    ----------
    ap_mean : array_like, shape (..., n_s)
        Mean AP over slices against sigma; the last axis follows ``sigmas``.
    sigmas : array_like, shape (n_s,)
        Ascending blur grid.
    level : float or array_like, broadcastable to ``ap_mean.shape[:-1]``
        AP level, one per curve or shared.

    Returns
    -------
    float or numpy.ndarray, shape ``ap_mean.shape[:-1]``
        The grid sigma after the last one whose AP lies above ``level``, i.e.
        the start of the trailing run of sigmas with ``AP <= level``; NaN if
        the AP at the largest sigma is still above ``level``. A NaN AP counts
        as not above.

    Notes
    -----
    Requiring the AP to *stay* at or below ``level`` (rather than touching it
    once) keeps a noisy curve from reporting a blur it later recovers from.
    The answer is a grid value: its resolution is the grid step.

    Examples
    --------
    >>> sigma_below([1.0, 0.4, 0.6, 0.3, 0.2], [0, 1, 2, 3, 4], 0.5)
    3.0
    >>> sigma_below([[1.0, 0.9], [0.4, 0.1]], [0, 1], [0.5, 0.5]).tolist()
    [nan, 0.0]
    """
    ap_mean = np.asarray(ap_mean, dtype=float)
    sigmas = np.asarray(sigmas, dtype=float)
    if sigmas.ndim != 1 or ap_mean.ndim < 1 or ap_mean.shape[-1] != sigmas.size:
        raise ValueError(
            f"`ap_mean` must have shape (..., {sigmas.size}) to match `sigmas`, "
            f"got {ap_mean.shape}"
        )
    if sigmas.size == 0 or np.any(np.diff(sigmas) < 0):
        raise ValueError("`sigmas` must be a non-empty ascending 1D grid")
    level = np.broadcast_to(np.asarray(level, dtype=float), ap_mean.shape[:-1])
    above = ap_mean > level[..., None]  # (..., n_s)
    # Index of the last sigma above the level, -1 if none.
    last_above = sigmas.size - 1 - np.argmax(above[..., ::-1], axis=-1)
    last_above = np.where(above.any(axis=-1), last_above, -1)
    start = last_above + 1
    out = np.where(
        start < sigmas.size, sigmas[np.minimum(start, sigmas.size - 1)], np.nan
    )
    return float(out) if out.ndim == 0 else out


def chance_sigma(ap_mean, sigmas, chance, *, factor: float = 2.0):
    """Blur from which on a mean AP curve has fallen to chance.

    "Fallen to chance" means: from this sigma on, the mean AP stays at or
    below ``factor`` times the AP of a random score (the anomalous share of
    brain pixels, see :func:`chance_level`).

    Parameters
    ----------
    ap_mean : array_like, shape (..., n_s)
        Mean AP over slices against sigma.
    sigmas : array_like, shape (n_s,)
        Ascending blur grid.
    chance : float or array_like, broadcastable to ``ap_mean.shape[:-1]``
        Chance-level AP, e.g. the mean of :func:`chance_level` over slices.
    factor : float
        Multiple of ``chance`` that still counts as chance, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        As :func:`sigma_below` with ``level = factor * chance``; NaN if the
        curve is still above that level at the largest sigma.

    Notes
    -----
    AP can only reach the chance level itself in expectation, so a margin is
    needed; a multiple of chance (not an additive margin) keeps the definition
    meaningful for any disk size, since chance scales with the disk's area.

    Examples
    --------
    >>> chance_sigma([0.9, 0.3, 0.15, 0.1], [0, 1, 2, 3], 0.06)
    3.0
    >>> chance_sigma([0.9, 0.3, 0.15, 0.1], [0, 1, 2, 3], 0.06, factor=3)
    2.0
    """
    if not factor >= 1:
        raise ValueError(f"`factor` must be >= 1, got {factor!r}")
    chance = np.asarray(chance, dtype=float)
    if np.any(~(chance > 0) | (chance > 1)):
        raise ValueError(f"`chance` must lie in (0, 1], got {chance!r}")
    return sigma_below(ap_mean, sigmas, factor * chance)


def label_change(healthy, altered, labels):
    """How much an anomaly changes its pixels, and how much their histogram.

    Parameters
    ----------
    healthy, altered : array_like, shape (N, H, W) or (H, W)
        Slices before and after the anomaly.
    labels : array_like of bool, same shape
        The anomalous pixels of each slice.

    Returns
    -------
    pixel : numpy.ndarray, shape (N,) or float
        Mean over the label of ``|altered - healthy|``.
    histogram : numpy.ndarray, shape (N,) or float
        Wasserstein-1 distance between the label's intensities before and
        after: the mean absolute difference of the two sorted samples.

    Notes
    -----
    ``histogram <= pixel`` always. A permutation of the pixels (a shuffle)
    gives ``histogram == 0`` exactly while ``pixel`` can be large; a disk of
    constant intensity ``i`` on a region of constant value ``c`` gives both
    equal to ``|i - c|``. A slice with an empty label gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([[0.1, 0.2, 0.3, 0.4]])
    >>> label = np.ones_like(h, dtype=bool)
    >>> label_change(h, h[:, ::-1], label)  # reversed: same histogram
    (0.2, 0.0)
    """
    healthy = np.asarray(healthy, dtype=float)
    altered = np.asarray(altered, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    if not healthy.shape == altered.shape == labels.shape:
        raise ValueError(
            "`healthy`, `altered` and `labels` must have the same shape, got "
            f"{healthy.shape}, {altered.shape} and {labels.shape}"
        )
    single = healthy.ndim == 2
    if single:
        healthy, altered, labels = healthy[None], altered[None], labels[None]
    pixel = np.full(len(healthy), np.nan)
    histogram = np.full(len(healthy), np.nan)
    for k, (h, x, lab) in enumerate(zip(healthy, altered, labels)):
        if lab.any():
            before, after = h[lab], x[lab]  # (K,) each
            pixel[k] = np.abs(after - before).mean()
            histogram[k] = np.abs(np.sort(after) - np.sort(before)).mean()
    if single:
        return float(pixel[0]), float(histogram[0])
    return pixel, histogram


def rank_correlation(x, y) -> float:
    """Spearman rank correlation of two equally long samples (ties averaged).

    With the handful of models of the paper, this describes the sample; it is
    no test of a population trend.

    Examples
    --------
    >>> rank_correlation([1, 2, 3], [30, 20, 10])
    -1.0
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ValueError(
            f"`x` and `y` must be 1D of one length >= 3, got {x.shape} and {y.shape}"
        )
    return float(stats.spearmanr(x, y).statistic)
