"""Numbers the chapters quote: dense intensity bands, blind bands, safe blur levels.

Each function reduces a computed result (intensities of the brain, a landscape
of AP) to the few values the prose reads through ``glue``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["closest_curve", "dense_band", "blind_band", "safe_sigma", "chance_level", "histogram_peaks"]


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

    counts, edges = np.histogram(np.asarray(values).ravel(), bins=bins, range=value_range)
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
    """AP of a random score per slice: the fraction of brain pixels that are anomalous."""
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
