"""Figures of the book. Every function returns a matplotlib Figure; none saves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .sweeps import mean_interval

__all__ = [
    "residual_examples",
    "landscape_figure",
    "ap_curves",
]


def _image_axis(ax, image, title, *, cmap="gray", vmin=0.0, vmax=1.0):
    handle = ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    return handle


def _crop_box(image, margin=4):
    """Row and column slices of the nonzero region of ``image`` plus a margin."""
    rows = np.flatnonzero(np.any(image != 0, axis=1))
    cols = np.flatnonzero(np.any(image != 0, axis=0))
    if rows.size == 0:
        return slice(None), slice(None)
    h, w = image.shape
    return (slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
            slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)))


def residual_examples(anomalous, label, reconstructions, titles, *, vmax=None,
                      crop=True):
    """The anomalous slice, then each reconstruction's residual with the label outlined.

    Parameters
    ----------
    anomalous : array_like, shape (H, W)
    label : array_like of bool, shape (H, W)
    reconstructions : sequence of (H, W) arrays
    titles : sequence of str, one per reconstruction
    vmax : float, optional
        Upper end of the residual colour scale; default the largest residual.
    crop : bool
        Show only the nonzero region of the input (the brain) plus a margin.
    """
    anomalous = np.asarray(anomalous)
    box = _crop_box(anomalous) if crop else (slice(None), slice(None))
    residuals = [np.abs(anomalous - r)[box] for r in reconstructions]
    vmax = max(float(r.max()) for r in residuals) if vmax is None else vmax
    n = len(reconstructions)
    fig, axes = plt.subplots(2, n + 1, figsize=(1.9 * (n + 1) + 0.6, 4.2),
                             squeeze=False, layout="constrained")
    _image_axis(axes[0, 0], anomalous[box], "input x")
    axes[0, 0].contour(np.asarray(label)[box], levels=[0.5], colors="tab:red",
                       linewidths=0.8)
    axes[1, 0].set_axis_off()
    for j, (recon, res, title) in enumerate(zip(reconstructions, residuals, titles), 1):
        _image_axis(axes[0, j], np.asarray(recon)[box], f"r: {title}")
        handle = _image_axis(axes[1, j], res, f"|x - r|: {title}", cmap="magma",
                             vmax=vmax)
        axes[1, j].contour(np.asarray(label)[box], levels=[0.5], colors="cyan",
                           linewidths=0.6)
    fig.colorbar(handle, ax=axes[1, 1:].tolist(), shrink=0.9, label="residual")
    return fig


def landscape_figure(ap_mean, intensities, sigmas, brain_values, *, band=None,
                     title=None, bins=100):
    """AP heatmap over (intensity, sigma) above the histogram of brain intensities.

    Parameters
    ----------
    ap_mean : array_like, shape (n_i, n_s)
        Mean AP over slices.
    intensities, sigmas : array_like
        The grids, ascending.
    brain_values : array_like
        Intensities of normal brain pixels, for the histogram.
    band : (float, float), optional
        An intensity interval to shade on both panels (the dense band).
    """
    ap_mean = np.asarray(ap_mean)
    fig, (ax_map, ax_hist) = plt.subplots(
        2, 1, figsize=(6.4, 6.2), sharex=True, height_ratios=[3, 1],
        layout="constrained",
    )
    di = (intensities[-1] - intensities[0]) / max(len(intensities) - 1, 1) / 2
    ds = (sigmas[-1] - sigmas[0]) / max(len(sigmas) - 1, 1) / 2
    extent = [intensities[0] - di, intensities[-1] + di, sigmas[0] - ds, sigmas[-1] + ds]
    image = ax_map.imshow(ap_mean.T, origin="lower", aspect="auto", extent=extent,
                          cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    if len(intensities) > 2 and len(sigmas) > 2:
        contour = ax_map.contour(intensities, sigmas, ap_mean.T, levels=[0.5],
                                 colors="white", linewidths=1.0)
        ax_map.clabel(contour, fmt="AP %.1f", fontsize=7)
    fig.colorbar(image, ax=ax_map, label="mean AP over slices")
    ax_map.set_ylabel(r"blur $\sigma$ (pixels)")
    if title:
        ax_map.set_title(title)
    ax_hist.hist(np.asarray(brain_values).ravel(), bins=bins, range=(0, 1),
                 color="0.4", density=True)
    ax_hist.set_xlabel("disk intensity  /  normal-tissue intensity")
    ax_hist.set_ylabel("density")
    if band is not None:
        for edge in band:
            ax_map.axvline(edge, color="tab:orange", ls="--", lw=1.2)
        ax_hist.axvspan(*band, color="tab:orange", alpha=0.25, lw=0)
        ax_hist.text(np.mean(band), ax_hist.get_ylim()[1] * 0.85, "dense band",
                     ha="center", fontsize=8, color="tab:orange")
    return fig


def ap_curves(ap, intensities, sigmas, which, *, chance=None, confidence=0.95,
              ax=None, label_fmt=r"$\sigma$ = {:.2g}"):
    """Mean AP against intensity for a few sigmas, with confidence bands over slices.

    Parameters
    ----------
    ap : array_like, shape (n_i, n_s, N)
        Per-slice landscape.
    intensities, sigmas : array_like
        Its grids.
    which : sequence of float
        Sigmas to draw; the nearest grid sigma is used.
    chance : float, optional
        AP of a random score, drawn as a dotted line.
    """
    ap = np.asarray(ap)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    else:
        fig = ax.figure
    colors = plt.cm.plasma(np.linspace(0.05, 0.85, len(which)))
    for s, color in zip(which, colors):
        j = int(np.argmin(np.abs(np.asarray(sigmas) - s)))
        mean, low, high = mean_interval(ap[:, j, :], axis=-1, confidence=confidence)
        ax.plot(intensities, mean, color=color, label=label_fmt.format(sigmas[j]))
        ax.fill_between(intensities, low, high, color=color, alpha=0.2, lw=0)
    if chance is not None:
        ax.axhline(chance, color="k", ls=":", lw=1, label="chance")
    ax.set_xlabel("disk intensity")
    ax.set_ylabel("AP")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, ncol=2)
    return fig
