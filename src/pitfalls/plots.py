"""Figures of the book. Every function returns a matplotlib Figure; none saves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .sweeps import mean_interval

__all__ = [
    "residual_examples",
    "landscape_figure",
    "ap_curves",
    "texture_examples",
    "texture_curves",
    "notation_figure",
    "residual_histograms",
    "survival_figure",
    "blind_spot_figure",
    "prediction_figure",
    "agreement_figure",
    "prediction_curves",
    "training_curves",
    "model_curves",
    "error_against_ap",
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
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)),
    )


def residual_examples(
    anomalous, label, reconstructions, titles, *, vmax=None, crop=True
):
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
    fig, axes = plt.subplots(
        2,
        n + 1,
        figsize=(1.9 * (n + 1) + 0.6, 4.2),
        squeeze=False,
        layout="constrained",
    )
    _image_axis(axes[0, 0], anomalous[box], "input x")
    axes[0, 0].contour(
        np.asarray(label)[box], levels=[0.5], colors="tab:red", linewidths=0.8
    )
    axes[1, 0].set_axis_off()
    for j, (recon, res, title) in enumerate(zip(reconstructions, residuals, titles), 1):
        _image_axis(axes[0, j], np.asarray(recon)[box], f"r: {title}")
        handle = _image_axis(
            axes[1, j], res, f"|x - r|: {title}", cmap="magma", vmax=vmax
        )
        axes[1, j].contour(
            np.asarray(label)[box], levels=[0.5], colors="cyan", linewidths=0.6
        )
    fig.colorbar(handle, ax=axes[1, 1:].tolist(), shrink=0.9, label="residual")
    return fig


def _grid_extent(intensities, sigmas):
    intensities, sigmas = np.asarray(intensities), np.asarray(sigmas)
    di = (intensities[-1] - intensities[0]) / max(intensities.size - 1, 1) / 2
    ds = (sigmas[-1] - sigmas[0]) / max(sigmas.size - 1, 1) / 2
    return [intensities[0] - di, intensities[-1] + di, sigmas[0] - ds, sigmas[-1] + ds]


def _ap_heatmap(ax, values, intensities, sigmas, *, contour_label=False):
    """Draw AP over (intensity, sigma) with its 0.5 contour; return the image."""
    values = np.asarray(values)
    handle = ax.imshow(
        values.T,
        origin="lower",
        aspect="auto",
        extent=_grid_extent(intensities, sigmas),
        cmap="viridis",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    if len(intensities) > 2 and len(sigmas) > 2:
        contour = ax.contour(
            intensities, sigmas, values.T, levels=[0.5], colors="white", linewidths=1.0
        )
        if contour_label:
            ax.clabel(contour, fmt="AP %.1f", fontsize=7)
    return handle


def landscape_figure(
    ap_mean, intensities, sigmas, brain_values, *, band=None, title=None, bins=100
):
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
        2,
        1,
        figsize=(6.4, 6.2),
        sharex=True,
        height_ratios=[3, 1],
        layout="constrained",
    )
    image = _ap_heatmap(ax_map, ap_mean, intensities, sigmas, contour_label=True)
    fig.colorbar(image, ax=ax_map, label="mean AP over slices")
    ax_map.set_ylabel(r"blur $\sigma$ (pixels)")
    if title:
        ax_map.set_title(title)
    ax_hist.hist(
        np.asarray(brain_values).ravel(),
        bins=bins,
        range=(0, 1),
        color="0.4",
        density=True,
    )
    ax_hist.set_xlabel("disk intensity  /  normal-tissue intensity")
    ax_hist.set_ylabel("density")
    if band is not None:
        for edge in band:
            ax_map.axvline(edge, color="tab:orange", ls="--", lw=1.2)
        ax_hist.axvspan(*band, color="tab:orange", alpha=0.25, lw=0)
        ax_hist.text(
            np.mean(band),
            ax_hist.get_ylim()[1] * 0.85,
            "dense band",
            ha="center",
            fontsize=8,
            color="tab:orange",
        )
    return fig


def ap_curves(
    ap,
    intensities,
    sigmas,
    which,
    *,
    chance=None,
    confidence=0.95,
    ax=None,
    label_fmt=r"$\sigma$ = {:.2g}",
):
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


def _window(shape, centre, half_width):
    """Row and column slices of a square close-up around ``centre``, clipped."""
    row, col = (int(round(float(c))) for c in centre)
    h, w = shape
    return (
        slice(max(row - half_width, 0), min(row + half_width + 1, h)),
        slice(max(col - half_width, 0), min(col + half_width + 1, w)),
    )


def texture_examples(
    healthy, anomalous, label, reconstructions, titles, *, centre, half_width, vmax=None
):
    """Close-ups of texture anomalies and their residuals, one row per image.

    The first row is the healthy slice, whose residual is the normal
    reconstruction error the anomaly competes with; each further row is one
    altered slice. Columns: the image, then ``|x - r|`` for each reconstruction.

    Parameters
    ----------
    healthy : array_like, shape (H, W)
        The slice before any anomaly.
    anomalous : dict of str to array_like, shape (H, W)
        Altered slices by name, all sharing ``label``.
    label : array_like of bool, shape (H, W)
        The altered region, outlined on every panel.
    reconstructions : sequence of (H, W) arrays
        E.g. the healthy slice blurred with several sigmas.
    titles : sequence of str
        One per reconstruction.
    centre : (float, float)
        Centre ``(row, col)`` of the close-up, e.g. the disk centre.
    half_width : int
        Half side of the close-up in pixels.
    vmax : float, optional
        Upper end of the residual colour scale; default the largest residual
        shown.
    """
    healthy = np.asarray(healthy)
    box = _window(healthy.shape, centre, half_width)
    rows = [("healthy", healthy)] + [(k, np.asarray(v)) for k, v in anomalous.items()]
    residuals = [[np.abs(x - r)[box] for r in reconstructions] for _, x in rows]
    if vmax is None:
        vmax = max(float(res.max()) for row in residuals for res in row)
    outline = np.asarray(label)[box]
    n_rows, n_cols = len(rows), len(reconstructions) + 1
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(1.75 * n_cols + 0.6, 1.8 * n_rows),
        squeeze=False,
        layout="constrained",
    )
    for i, ((name, image), row_res) in enumerate(zip(rows, residuals)):
        _image_axis(axes[i, 0], image[box], name)
        axes[i, 0].contour(outline, levels=[0.5], colors="tab:red", linewidths=0.7)
        for j, (res, title) in enumerate(zip(row_res, titles), 1):
            handle = _image_axis(
                axes[i, j],
                res,
                f"|x - r|: {title}" if i == 0 else "",
                cmap="magma",
                vmax=vmax,
            )
            axes[i, j].contour(outline, levels=[0.5], colors="cyan", linewidths=0.5)
    fig.colorbar(handle, ax=axes[:, 1:].ravel().tolist(), shrink=0.7, label="residual")
    return fig


def texture_curves(curves, sigmas, *, matched=None, chance=None, confidence=0.95):
    """Mean AP against blur, one panel per texture anomaly.

    Parameters
    ----------
    curves : dict of str to array_like, shape (n_s, N)
        Per-slice AP of each anomaly, as from ``sweeps.texture_blur_curves``;
        drawn as the mean with a confidence band over slices.
    sigmas : array_like, shape (n_s,)
        The blur grid.
    matched : dict of str to (float, array_like), optional
        For an anomaly's name, a disk intensity and its mean AP curve
        ``(n_s,)``, drawn dashed (e.g. the closest intensity curve).
    chance : float, optional
        AP of a random score, drawn as a dotted line.
    confidence : float
        Coverage of the bands, see ``sweeps.mean_interval``.
    """
    sigmas = np.asarray(sigmas, dtype=float)
    names = list(curves)
    fig, axes = plt.subplots(
        1,
        len(names),
        figsize=(3.1 * len(names) + 0.4, 3.3),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    colors = plt.cm.tab10(np.arange(len(names)))
    for ax, name, color in zip(axes[0], names, colors):
        mean, low, high = mean_interval(curves[name], axis=-1, confidence=confidence)
        ax.plot(sigmas, mean, color=color, label=name)
        ax.fill_between(sigmas, low, high, color=color, alpha=0.25, lw=0)
        if matched is not None and name in matched:
            intensity, curve = matched[name]
            ax.plot(
                sigmas,
                np.asarray(curve),
                color="0.25",
                ls="--",
                lw=1.2,
                label=f"disk, intensity {intensity:.2f}",
            )
        if chance is not None:
            ax.axhline(chance, color="k", ls=":", lw=1, label="chance")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(r"blur $\sigma$ (pixels)")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7.5, loc="upper right")
    axes[0, 0].set_ylabel("AP")
    return fig


# --------------------------------------------------------------------------- #
# Theory chapter
# --------------------------------------------------------------------------- #


def notation_figure(healthy, anomalous, recon, label, *, crop=True):
    """One slice in the notation of the theory: h, r, e = r - h, x and |x - r|.

    Parameters
    ----------
    healthy, anomalous, recon : array_like, shape (H, W)
        The healthy slice ``h``, the input ``x`` and the reconstruction ``r``.
    label : array_like of bool, shape (H, W)
        The anomalous region ``A``, outlined on ``x`` and on the residual.
    crop : bool
        Show only the nonzero region of ``h`` plus a margin.
    """
    healthy, anomalous, recon = (
        np.asarray(a, dtype=float) for a in (healthy, anomalous, recon)
    )
    box = _crop_box(healthy) if crop else (slice(None), slice(None))
    label = np.asarray(label)[box]
    error = (recon - healthy)[box]
    residual = np.abs(anomalous - recon)[box]
    limit = max(float(np.abs(error).max()), 1e-12)
    fig, axes = plt.subplots(1, 5, figsize=(10.5, 2.7), layout="constrained")
    _image_axis(axes[0], healthy[box], "healthy $h$")
    _image_axis(axes[1], recon[box], r"reconstruction $r$")
    handle = _image_axis(
        axes[2], error, r"error $e = r - h$", cmap="RdBu_r", vmin=-limit, vmax=limit
    )
    fig.colorbar(handle, ax=axes[2], shrink=0.7)
    _image_axis(axes[3], anomalous[box], r"input $x$, region $A$")
    handle = _image_axis(
        axes[4],
        residual,
        r"score $|x - r|$",
        cmap="magma",
        vmax=float(residual.max()) or 1.0,
    )
    fig.colorbar(handle, ax=axes[4], shrink=0.7)
    for ax, color in ((axes[3], "tab:red"), (axes[4], "cyan")):
        ax.contour(label, levels=[0.5], colors=color, linewidths=0.8)
    return fig


def residual_histograms(samples, intensities, *, ap=None, critical=None, bins=60):
    """Normal against anomalous residuals: one row per blur, one column per intensity.

    Parameters
    ----------
    samples : dict of float to pitfalls.theory.BrainResiduals
        Residuals of the brain pixels per blur sigma.
    intensities : sequence of float
        Anomaly intensities ``i``, one column each.
    ap : array_like, shape (n_sigmas, n_intensities), optional
        Population AP of each panel, written in its corner.
    critical : sequence of float, optional
        Critical residual ``t*`` per sigma, drawn as a dashed line.
    """
    sigmas = list(samples)
    edges = np.linspace(0.0, 1.0, bins + 1)
    fig, axes = plt.subplots(
        len(sigmas),
        len(intensities),
        squeeze=False,
        figsize=(2.5 * len(intensities) + 0.6, 2.1 * len(sigmas) + 0.5),
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    for row, sigma in enumerate(sigmas):
        res = samples[sigma]
        for col, intensity in enumerate(intensities):
            ax = axes[row, col]
            ax.hist(
                res.normal,
                bins=edges,
                density=True,
                color="0.6",
                label=r"normal $|h - r|$",
            )
            ax.hist(
                res.anomalous(intensity),
                bins=edges,
                density=True,
                histtype="step",
                color="tab:red",
                lw=1.4,
                label=r"anomalous $|i - r|$",
            )
            if critical is not None:
                ax.axvline(
                    critical[row], color="k", ls="--", lw=0.9, label=r"critical $t^*$"
                )
            if ap is not None:
                ax.text(
                    0.97,
                    0.92,
                    f"AP {ap[row][col]:.2f}",
                    ha="right",
                    va="top",
                    transform=ax.transAxes,
                    fontsize=8,
                )
            ax.set_yscale("log")
            ax.set_title(rf"$i$ = {intensity:.2f}, $\sigma$ = {sigma:g}", fontsize=9)
        axes[row, 0].set_ylabel("density")
    for ax in axes[-1]:
        ax.set_xlabel("residual")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    return fig


def survival_figure(thresholds, normal_survival, curves, *, prevalence, critical=None):
    """Survival functions of both residuals (left) and the precision they give (right).

    Parameters
    ----------
    thresholds : array_like, shape (T,)
    normal_survival : array_like, shape (T,)
        ``S_N(t)``.
    curves : dict of str to (array_like, array_like)
        Per anomaly, ``(S_A(t), precision(t))``.
    prevalence : float
        ``pi``; the bound ``pi / (1 - pi)`` on ``S_N`` is drawn dotted.
    critical : float, optional
        ``t*``, drawn dashed on both panels.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4), layout="constrained")
    left.plot(thresholds, normal_survival, color="k", label=r"normal $S_N$")
    colors = plt.cm.viridis(np.linspace(0.1, 0.8, len(curves)))
    for (name, (s_a, precision)), color in zip(curves.items(), colors):
        left.plot(thresholds, s_a, color=color, label=rf"$S_A$, {name}")
        right.plot(thresholds, precision, color=color, label=name)
    bound = prevalence / (1 - prevalence)
    left.axhline(bound, color="k", ls=":", lw=1, label=r"$\pi / (1 - \pi)$")
    left.set_yscale("log")
    left.set_ylim(1e-4, 1.5)
    left.set_ylabel(r"share of residuals $\geq t$")
    right.axhline(0.5, color="0.5", ls=":", lw=1)
    right.set_ylim(0, 1.02)
    right.set_ylabel(r"precision$(t)$")
    for ax in (left, right):
        if critical is not None:
            ax.axvline(critical, color="k", ls="--", lw=0.9)
        ax.set_xlabel("threshold $t$")
        ax.set_xlim(thresholds[0], thresholds[-1])
        ax.legend(fontsize=7)
    return fig


def blind_spot_figure(profiles, brain_values, recon_values, titles, *, bins=100):
    """Per-intensity view of the blind spot, one column per version of the images.

    Rows: histograms of the brain intensities ``h`` and the reconstruction
    ``G_sigma h``; the typical anomalous residual against the critical residual
    ``t*``; the share of normal residuals above it and the population AP.

    Parameters
    ----------
    profiles : sequence of pitfalls.theory.BlindSpot
    brain_values, recon_values : sequence of array_like
        Per column, the brain pixels of ``h`` and of the reconstruction.
    titles : sequence of str
    """
    n = len(profiles)
    fig, axes = plt.subplots(
        3, n, figsize=(4.4 * n, 7.2), squeeze=False, sharex=True, layout="constrained"
    )
    for col, (spot, h, r, title) in enumerate(
        zip(profiles, brain_values, recon_values, titles)
    ):
        top, mid, low = axes[:, col]
        top.hist(
            np.ravel(h), bins=bins, range=(0, 1), density=True, color="0.6", label="$h$"
        )
        top.hist(
            np.ravel(r),
            bins=bins,
            range=(0, 1),
            density=True,
            histtype="step",
            color="tab:blue",
            label=r"$G_\sigma h$",
        )
        top.set_title(title, fontsize=10)
        top.legend(fontsize=8)
        mid.plot(
            spot.intensity,
            spot.typical_residual,
            color="tab:red",
            label=r"median$_p\,|i - G_\sigma h(p)|$",
        )
        mid.axhline(
            spot.critical_residual, color="k", ls="--", lw=0.9, label=r"critical $t^*$"
        )
        mid.fill_between(
            spot.intensity,
            0,
            spot.typical_residual,
            where=spot.typical_residual <= spot.critical_residual,
            color="tab:orange",
            alpha=0.3,
            lw=0,
        )
        mid.legend(fontsize=8)
        low.plot(
            spot.intensity,
            spot.exceedance,
            color="tab:purple",
            label="share of normal residuals\n$\\geq$ the median anomalous",
        )
        low.plot(spot.intensity, spot.ap, color="tab:green", label="population AP")
        low.set_ylim(0, 1.02)
        low.set_xlabel("intensity $i$")
        low.legend(fontsize=8)
    axes[0, 0].set_ylabel("density")
    axes[1, 0].set_ylabel("residual")
    axes[2, 0].set_ylabel("share / AP")
    return fig


def prediction_figure(
    predicted,
    simulated,
    intensities,
    sigmas,
    *,
    titles=("predicted", "simulated (mean over slices)"),
):
    """Predicted and simulated landscapes side by side, and their difference.

    Parameters
    ----------
    predicted, simulated : array_like, shape (n_i, n_s)
    intensities, sigmas : array_like
        The grids, ascending.
    titles : pair of str
    """
    predicted, simulated = np.asarray(predicted), np.asarray(simulated)
    extent = _grid_extent(intensities, sigmas)
    fig, axes = plt.subplots(
        1, 3, figsize=(11.5, 3.5), sharey=True, layout="constrained"
    )
    for ax, values, title in zip(axes, (predicted, simulated), titles):
        handle = _ap_heatmap(ax, values, intensities, sigmas)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("intensity $i$")
    fig.colorbar(handle, ax=axes[:2].tolist(), label="AP", shrink=0.9)
    diff = predicted - simulated
    limit = max(float(np.abs(diff).max()), 1e-6)
    handle = axes[2].imshow(
        diff.T,
        origin="lower",
        aspect="auto",
        extent=extent,
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        interpolation="nearest",
    )
    axes[2].set_title("predicted $-$ simulated", fontsize=10)
    axes[2].set_xlabel("intensity $i$")
    fig.colorbar(handle, ax=axes[2], label="AP difference", shrink=0.9)
    axes[0].set_ylabel(r"blur $\sigma$ (pixels)")
    return fig


def agreement_figure(sigmas, curves, *, noise=None):
    """Mean absolute AP difference against sigma, one line per comparison.

    Parameters
    ----------
    sigmas : array_like, shape (n_s,)
    curves : dict of str to array_like of shape (n_s,)
    noise : array_like, shape (n_s,), optional
        Half-width of the simulation's confidence interval, averaged over
        intensities, drawn as a grey band from 0.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    if noise is not None:
        ax.fill_between(
            sigmas,
            0,
            noise,
            color="0.85",
            lw=0,
            label="simulation's 95 % interval (half-width)",
        )
    styles = ["-", "--", "-.", ":"]
    for k, (name, values) in enumerate(curves.items()):
        ax.plot(
            sigmas,
            values,
            ls=styles[k % len(styles)],
            lw=1.6 if k == 0 else 1.2,
            label=name,
        )
    ax.set_xlabel(r"blur $\sigma$ (pixels)")
    ax.set_ylabel("mean |AP difference|")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    return fig


def prediction_curves(
    intensities, sigmas, which, simulated, predictions, *, confidence=0.95
):
    """AP against intensity at a few sigmas: simulation with its interval, predictions.

    Parameters
    ----------
    intensities, sigmas : array_like
        The grids.
    which : sequence of float
        Sigmas to draw, one panel each; the nearest grid sigma is used.
    simulated : array_like, shape (n_i, n_s, N)
        Per-slice simulated AP.
    predictions : dict of str to array_like
        Landscapes ``(n_i, n_s)`` or per slice ``(n_i, n_s, N)`` (averaged).
    """
    simulated = np.asarray(simulated)
    fig, axes = plt.subplots(
        1,
        len(which),
        figsize=(3.4 * len(which) + 0.4, 3.3),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    styles = ["--", "-.", ":"]
    for ax, s in zip(axes[0], which):
        j = int(np.argmin(np.abs(np.asarray(sigmas) - s)))
        mean, low, high = mean_interval(
            simulated[:, j, :], axis=-1, confidence=confidence
        )
        ax.fill_between(intensities, low, high, color="0.8", lw=0)
        ax.plot(intensities, mean, color="k", label="simulated")
        for k, (name, values) in enumerate(predictions.items()):
            values = np.asarray(values)
            curve = values[:, j].mean(axis=-1) if values.ndim == 3 else values[:, j]
            ax.plot(intensities, curve, ls=styles[k % len(styles)], label=name)
        ax.set_title(rf"$\sigma$ = {sigmas[j]:.2f}", fontsize=10)
        ax.set_xlabel("intensity $i$")
        ax.set_ylim(0, 1.02)
    axes[0, 0].set_ylabel("AP")
    axes[0, 0].legend(fontsize=7)
    return fig


# ----------------------------------------------------------- trained models


def training_curves(histories):
    """Training and validation L1 loss against step, one line pair per model.

    Parameters
    ----------
    histories : dict of str to dict
        Model name to the ``history`` of :func:`pitfalls.train.train`
        (``step``, ``train_loss``, ``val_loss``); None entries are skipped.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
    colors = plt.cm.tab10(np.arange(len(histories)))
    for (name, history), color in zip(histories.items(), colors):
        if not history or not history.get("step"):
            continue
        ax.plot(history["step"], history["train_loss"], color=color, lw=1, alpha=0.6)
        val = [np.nan if v is None else v for v in history["val_loss"]]
        ax.plot(history["step"], val, color=color, lw=1.6, label=name)
    ax.set_xlabel("training step")
    ax.set_ylabel("L1 loss (thin: training, thick: validation)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return fig


def model_curves(
    evaluations, blur_ap, sigmas, *, mode="normal", chance=None, confidence=0.95
):
    """AP against intensity per model, with the blur that matches it dashed.

    Parameters
    ----------
    evaluations : sequence of pitfalls.evaluation.ModelEvaluation
    blur_ap : array_like, shape (n_i, n_s, N)
        The blur landscape the models were matched against.
    sigmas : array_like, shape (n_s,)
    mode : {"normal", "anomalous"}
        Which curves: the model reconstructs the normal slice (3.1) or the
        anomalous one (3.2). The matched blur is drawn in both.
    chance : float, optional
        AP of a random score, dotted.
    """
    n = len(evaluations)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.3 * cols, 2.8 * rows),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    blur_mean = np.asarray(blur_ap).mean(axis=-1)
    for ax, ev in zip(axes.flat, evaluations):
        if mode == "normal":
            x, ap = ev.intensities, ev.ap_normal
        else:
            x, ap = ev.anomalous_intensities, ev.ap_anomalous
        mean, low, high = mean_interval(ap, axis=-1, confidence=confidence)
        ax.plot(x, mean, color="tab:blue", label="model")
        ax.fill_between(x, low, high, color="tab:blue", alpha=0.25, lw=0)
        j = int(np.argmin(np.abs(np.asarray(sigmas) - ev.blur_sigma)))
        ax.plot(
            ev.intensities,
            blur_mean[:, j],
            color="k",
            ls="--",
            lw=1,
            label=rf"blur $\sigma$ = {ev.blur_sigma:.2f}",
        )
        if chance is not None:
            ax.axhline(chance, color="0.5", ls=":", lw=1)
        ax.set_title(ev.name, fontsize=9)
        ax.legend(fontsize=7, loc="lower left")
        ax.set_ylim(0, 1.02)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("disk intensity")
    for ax in axes[:, 0]:
        ax.set_ylabel("AP")
    return fig


def error_against_ap(table, *, ap_column="ap_normal"):
    """Reconstruction error against mean AP, one labelled point per model.

    Parameters
    ----------
    table : pandas.DataFrame
        As returned by :func:`pitfalls.evaluation.evaluation_table`.
    ap_column : str
        ``"ap_normal"`` or ``"ap_anomalous"``.
    """
    fig, ax = plt.subplots(figsize=(5.2, 3.6), layout="constrained")
    ax.scatter(table["error"], table[ap_column], color="tab:blue")
    for _, row in table.iterrows():
        ax.annotate(
            row["model"],
            (row["error"], row[ap_column]),
            fontsize=8,
            xytext=(4, 3),
            textcoords="offset points",
        )
    ax.set_xlabel("reconstruction error (mean |h - r| over the brain)")
    ax.set_ylabel("mean AP over intensities and slices")
    ax.margins(x=0.25, y=0.2)
    return fig
