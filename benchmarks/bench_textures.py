"""Time the vectorised texture anomalies against per-pixel Python loops.

For each texture anomaly of :mod:`pitfalls.anomalies` (sink, source, shuffle)
this script runs the package function and a reference implementation that
does the same arithmetic one pixel at a time, on the same images, centres and
random draws. It reports both run times, their ratio and the largest absolute
difference of the outputs, which should be 0.

Run ``python benchmarks/bench_textures.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from pitfalls.anomalies import (
    deformation_exponent,
    disk_label,
    paste_disk,
    pixel_shuffle,
    sample_centres,
    sink_deformation,
    source_deformation,
)

# --------------------------------------------------------------------------- #
# Inputs
# --------------------------------------------------------------------------- #


def make_inputs(n_images, size, seed):
    """Return textured images in [0, 1], elliptic brain masks and centres."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n_images, size, size))
    # Coarse blobs plus fine grain, so both deformations visibly move texture.
    coarse = gaussian_filter(noise, sigma=(0, 6, 6))
    fine = gaussian_filter(rng.standard_normal(noise.shape), sigma=(0, 1, 1))
    images = coarse / coarse.std() + 0.5 * fine / fine.std()
    images = (images - images.min()) / (images.max() - images.min())

    rows, cols = np.mgrid[:size, :size] / (size - 1) - 0.5  # (H, W) each
    brain = (rows / 0.42) ** 2 + (cols / 0.36) ** 2 < 1
    masks = np.broadcast_to(brain, images.shape)
    centres = sample_centres(masks, rng=rng)
    return images, masks, centres


# --------------------------------------------------------------------------- #
# Per-pixel reference loops: same arithmetic, one pixel at a time
# --------------------------------------------------------------------------- #


def remap_loop(image, centre, radius, mask, exponent):
    """Radial remap of the disk, one pixel and one bilinear read at a time."""
    label = disk_label(image.shape, centre, radius, mask=mask)
    out = image.copy()
    n_rows, n_cols = image.shape
    c_row, c_col = float(centre[0]), float(centre[1])
    r = float(radius)
    for i, j in zip(*np.nonzero(label)):
        dy = i - c_row
        dx = j - c_col
        rho = math.sqrt(dy * dy + dx * dx)
        if rho > 0:
            # numpy's pow, not math.pow: numpy's SIMD pow may differ by an ulp.
            shift = float(np.power(rho / r, exponent - 1.0)) - 1.0
        else:
            shift = 0.0
        src_r = min(max(i + dy * shift, 0.0), n_rows - 1.0)
        src_c = min(max(j + dx * shift, 0.0), n_cols - 1.0)
        r0, c0 = math.floor(src_r), math.floor(src_c)
        r1, c1 = min(r0 + 1, n_rows - 1), min(c0 + 1, n_cols - 1)
        fr, fc = src_r - r0, src_c - c0
        v00, v01 = image[r0, c0], image[r0, c1]
        v10, v11 = image[r1, c0], image[r1, c1]
        top = v00 + (v01 - v00) * fc
        bottom = v10 + (v11 - v10) * fc
        out[i, j] = top + (bottom - top) * fr
    return out, label


def sink_loop(image, centre, radius, mask, strength):
    return remap_loop(
        image, centre, radius, mask, deformation_exponent("sink", strength)
    )


def source_loop(image, centre, radius, mask, strength):
    return remap_loop(
        image, centre, radius, mask, deformation_exponent("source", strength)
    )


def shuffle_loop(image, centre, radius, mask, rng):
    """Apply the documented permutation of the label, one pixel at a time."""
    label = disk_label(image.shape, centre, radius, mask=mask)
    out = image.copy()
    rows, cols = np.nonzero(label)
    perm = rng.permutation(rows.size)
    for k in range(rows.size):
        out[rows[k], cols[k]] = image[rows[perm[k]], cols[perm[k]]]
    return out, label


# --------------------------------------------------------------------------- #
# Timing
# --------------------------------------------------------------------------- #


def run_stack(fn, images, masks, centres, radius, option, value, seed):
    """Apply ``fn`` to every slice; a seed option becomes one shared Generator.

    Outputs are collected in a list and stacked by the caller after timing, so
    the timings hold no harness copy of the results.
    """
    if option == "rng":
        value = np.random.default_rng(seed)
    return [
        fn(images[i], centres[i], radius, mask=masks[i], **{option: value})[0]
        for i in range(images.shape[0])
    ]


def best_time(fn, repeats, *args):
    """Return ``(smallest wall time over repeats, last output)``."""
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def loop_kwargs_adapter(loop):
    """Wrap a reference loop so it is called like a package function."""

    def call(image, centre, radius, *, mask, **kwargs):
        (value,) = kwargs.values()
        return loop(image, centre, radius, mask, value)

    return call


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--radius", type=float, default=20.0)
    parser.add_argument("--strength", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats", type=int, default=5, help="timing repeats; the best is kept"
    )
    args = parser.parse_args(argv)

    images, masks, centres = make_inputs(args.n_images, args.size, args.seed)
    cases = [
        ("sink", sink_deformation, sink_loop, "strength", args.strength),
        ("source", source_deformation, source_loop, "strength", args.strength),
        ("shuffle", pixel_shuffle, shuffle_loop, "rng", None),
    ]
    n_pixels = sum(
        disk_label(images.shape[1:], c, args.radius, mask=m).sum()
        for c, m in zip(centres, masks)
    )
    # Both sides pay the same fixed cost per image: validation, rasterising the
    # disk and copying the full image. paste_disk does just that, plus one
    # vectorised assignment, so its time estimates this shared setup.
    t_setup, _ = best_time(
        run_stack,
        args.repeats,
        paste_disk,
        *(images, masks, centres, args.radius, "intensity", 0.5, args.seed),
    )
    print(
        f"{args.n_images} images of {args.size}x{args.size}, radius {args.radius:g}, "
        f"{n_pixels} label pixels in all, seed {args.seed}, best of {args.repeats}"
    )
    print(f"shared setup (paste_disk on the same inputs): {t_setup:.5f} s")
    print(
        f"{'anomaly':<8} {'vectorised [s]':>15} {'loop [s]':>10} {'loop/vec':>9} "
        f"{'excl. setup':>12} {'max |diff|':>11}"
    )
    for name, fast, loop, option, value in cases:
        common = (images, masks, centres, args.radius, option, value, args.seed)
        t_fast, out_fast = best_time(run_stack, args.repeats, fast, *common)
        t_loop, out_loop = best_time(
            run_stack, args.repeats, loop_kwargs_adapter(loop), *common
        )
        out_fast, out_loop = np.stack(out_fast), np.stack(out_loop)  # (N, H, W)
        diff = np.abs(out_fast - out_loop).max()
        changed = (out_fast != images).any(axis=(1, 2)).sum()
        # Ratio of the per-pixel work alone; noisy when t_fast is close to setup.
        core = (t_loop - t_setup) / max(t_fast - t_setup, 1e-9)
        print(
            f"{name:<8} {t_fast:>15.5f} {t_loop:>10.4f} {t_loop / t_fast:>8.1f}x "
            f"{core:>11.0f}x {diff:>11.2e}   ({changed}/{args.n_images} changed)"
        )

if __name__ == "__main__":
    main()
