"""Time the sweep engine against the plain per-cell computation, in one run.

The plain computation (:func:`pitfalls.sweeps.intensity_blur_landscape_reference`)
pastes the disk, blurs, takes the residual and calls scikit-learn's
``average_precision_score`` for every (intensity, sigma, slice) cell. On the
full grid that takes hours, so by default it is timed on a random sample of
cells and its cost per cell is extrapolated to the grid; ``--reference-cells 0``
runs it on every cell instead. The engine always runs the full grid.

Both run on the same slices, disk centres and grids; the script prints the
two times, their ratio and the largest difference between the APs of the
sampled cells. Defaults: 60 slices of the bundled template at 1 mm
(233 x 197), a 100 x 100 grid, radius 20, both cores.

    python benchmarks/bench_landscape.py [--slices 60] [--grid 100] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pitfalls import anomalies, data, sweeps


def template_slices(n_slices: int):
    """``n_slices`` axial template slices cropped back to their 1 mm size."""
    shape = data.load_mni152_volumes()["t1"].shape  # (x, y, z) = (197, 233, 189)
    h, w = shape[1], shape[0]
    slices = data.load_slices("mni152", size=256, n_slices=n_slices)
    top, left = (256 - h) // 2, (256 - w) // 2
    images = slices.images[:, top : top + h, left : left + w]
    if images.shape[1:] != (h, w) or np.count_nonzero(images) != np.count_nonzero(
        slices.images
    ):
        raise RuntimeError("cropping the padded slices lost brain pixels")
    return np.ascontiguousarray(images)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=60)
    parser.add_argument("--grid", type=int, default=100, help="intensities = sigmas")
    parser.add_argument("--radius", type=float, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--reference-cells",
        type=int,
        default=300,
        help="cells timed for the plain computation; 0 = all",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    images = template_slices(args.slices)
    masks = images > 0
    centres = anomalies.sample_centres(masks, args.seed)
    intensities = np.linspace(0, 1, args.grid)
    sigmas = np.linspace(0, 5, args.grid)
    n_cells = intensities.size * sigmas.size * len(images)
    print(
        f"{len(images)} slices of {images.shape[1]} x {images.shape[2]}, "
        f"{intensities.size} x {sigmas.size} grid, radius {args.radius:g}: "
        f"{n_cells} cells"
    )

    start = time.perf_counter()
    fast = sweeps.intensity_blur_landscape(
        images,
        intensities,
        sigmas,
        radius=args.radius,
        centres=centres,
        masks=masks,
        n_jobs=args.jobs,
    )
    t_fast = time.perf_counter() - start
    print(f"engine ({args.jobs} threads): {t_fast:9.2f} s for the full grid")

    rng = np.random.default_rng(args.seed)
    if args.reference_cells == 0:
        cells = np.argwhere(np.ones(fast.shape, bool))
    else:
        cells = np.stack(
            [rng.integers(0, n, args.reference_cells) for n in fast.shape], axis=1
        )
    worst = 0.0
    start = time.perf_counter()
    for a, b, k in cells:
        ref = sweeps.intensity_blur_landscape_reference(
            images[k : k + 1],
            intensities[a : a + 1],
            sigmas[b : b + 1],
            radius=args.radius,
            centres=centres[k : k + 1],
            masks=masks[k : k + 1],
        )
        worst = max(worst, abs(float(ref[0, 0, 0]) - float(fast[a, b, k])))
    t_ref = time.perf_counter() - start
    per_cell = t_ref / len(cells)
    t_ref_grid = per_cell * n_cells
    kind = (
        "measured"
        if args.reference_cells == 0
        else (f"{len(cells)} sampled cells, {per_cell * 1e3:.2f} ms each, extrapolated")
    )
    print(f"plain per-cell computation: {t_ref_grid:9.2f} s for the full grid ({kind})")
    print(f"ratio plain / engine: {t_ref_grid / t_fast:.0f}x")
    print(f"largest |AP difference| over the compared cells: {worst:.3e}")
    if worst > 1e-9:
        print("MISMATCH: the engine disagrees with the plain computation")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
