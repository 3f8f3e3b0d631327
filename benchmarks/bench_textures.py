"""Time the batched texture anomalies against a per-pixel Python loop.

For each texture anomaly of :mod:`pitfalls.anomalies` (sink, source, shuffle)
this script runs, on the same images, centres and random draws,

- the package's batched function (``sink_deformation_stack``,
  ``source_deformation_stack``, ``pixel_shuffle_stack``), which transforms the
  whole ``(N, H, W)`` stack in one vectorised pass;
- the package's single-image function, called once per slice (extra column);
- a reference implementation of the whole transform written one pixel at a
  time. The reference shares no code with the package: it visits every pixel
  of the disk's bounding box, decides with the inequality of
  :func:`skimage.draw.disk` whether the pixel belongs to the disk, checks the
  brain mask, and computes the output value of that pixel. Only the copy of
  the input image and the allocation of the label are whole-array operations.

The shuffle draws from one Generator seeded with ``--seed``, one permutation
per slice in slice order, in all three implementations.

The script prints the run times, the ratio loop / batched, and the largest
absolute difference between the loop's outputs and each package output
(images and labels). It exits with status 1 if any output differs, so a ratio
is only ever reported for identical results.

It also measures, in the same run, the *floor* of each anomaly: the work that
every implementation returning a new stack must do whatever its loop looks
like. For all three that is copying the input stack; for the shuffle it is
also drawing the N permutations (``Generator.permutation`` of each label's
size, the draws that make the outputs identical). ``loop / floor`` is then
the largest ratio any such implementation can reach on this machine, and the
last column says whether the target ratio (``--target``, default 50) is met
and, if not, whether it is reachable at all.

Run ``python benchmarks/bench_textures.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from pitfalls.anomalies import (
    deformation_exponent,
    pixel_shuffle,
    pixel_shuffle_stack,
    sample_centres,
    sink_deformation,
    sink_deformation_stack,
    source_deformation,
    source_deformation_stack,
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
# Per-pixel reference: the whole transform, one pixel at a time
# --------------------------------------------------------------------------- #


def disk_box(shape, centre, radius):
    """Bounding box and box-relative centre, as skimage.draw.disk computes them.

    skimage (``ellipse`` with zero rotation) takes the box from
    ``ceil(centre - radius)`` to ``floor(centre + radius)``, clipped to the
    image by ``shape``, and measures distances from ``centre - top_left``.
    Returns ``(top, left, bottom, right, c_row, c_col)`` with inclusive ends.
    """
    row, col = float(centre[0]), float(centre[1])
    r = float(radius)
    top = max(math.ceil(row - r), 0)
    left = max(math.ceil(col - r), 0)
    bottom = min(math.floor(row + r), shape[0] - 1)
    right = min(math.floor(col + r), shape[1] - 1)
    return top, left, bottom, right, row - top, col - left


def in_disk(i, j, box, radius):
    """skimage's membership test for pixel ``(i, j)`` of the image."""
    top, left, _, _, c_row, c_col = box
    # skimage: ((r * cos + c * sin) / R) ** 2 + ((r * sin - c * cos) / R) ** 2
    # with rotation 0, i.e. (r / R) ** 2 + (c / R) ** 2 < 1, where r and c are
    # float box coordinates minus the box-relative centre.
    qr = (float(i - top) - c_row) / radius
    qc = (float(j - left) - c_col) / radius
    return qr * qr + qc * qc < 1.0


def label_pixels(shape, centre, radius, mask):
    """Visit the disk's bounding box row by row; return the label and its pixels."""
    radius = float(radius)
    box = disk_box(shape, centre, radius)
    top, left, bottom, right = box[:4]
    label = np.zeros(shape, dtype=bool)
    pixels = []
    for i in range(top, bottom + 1):
        for j in range(left, right + 1):
            if in_disk(i, j, box, radius) and (mask is None or mask[i, j]):
                label[i, j] = True
                pixels.append((i, j))
    return label, pixels


def bilinear_pixel(image, src_r, src_c):
    """Read ``image`` at one real-valued point, clamped to the image extent."""
    n_rows, n_cols = image.shape
    src_r = min(max(src_r, 0.0), n_rows - 1.0)
    src_c = min(max(src_c, 0.0), n_cols - 1.0)
    r0, c0 = math.floor(src_r), math.floor(src_c)
    r1, c1 = min(r0 + 1, n_rows - 1), min(c0 + 1, n_cols - 1)
    fr, fc = src_r - r0, src_c - c0
    v00, v01 = float(image[r0, c0]), float(image[r0, c1])
    v10, v11 = float(image[r1, c0]), float(image[r1, c1])
    top = v00 + (v01 - v00) * fc
    bottom = v10 + (v11 - v10) * fc
    return top + (bottom - top) * fr


def remap_loop(image, centre, radius, mask, exponent):
    """Radial remap: per pixel, decide membership, then read its source point."""
    radius = float(radius)
    box = disk_box(image.shape, centre, radius)
    top, left, bottom, right = box[:4]
    c_row, c_col = float(centre[0]), float(centre[1])
    out = image.copy()
    label = np.zeros(image.shape, dtype=bool)
    for i in range(top, bottom + 1):
        for j in range(left, right + 1):
            if not in_disk(i, j, box, radius):
                continue
            if mask is not None and not mask[i, j]:
                continue
            label[i, j] = True
            dy = i - c_row
            dx = j - c_col
            rho = math.sqrt(dy * dy + dx * dx)
            if rho > 0:
                # The ufunc on a scalar runs the same inner loop as on an array;
                # math.pow could differ from numpy's (SIMD) pow by an ulp.
                shift = float(np.power(rho / radius, exponent - 1.0)) - 1.0
            else:
                shift = 0.0
            out[i, j] = bilinear_pixel(image, i + dy * shift, j + dx * shift)
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
    """Collect the label's pixels one by one, then permute them one by one."""
    label, pixels = label_pixels(image.shape, centre, radius, mask)
    out = image.copy()
    perm = rng.permutation(len(pixels))  # the package's single draw
    for k, (i, j) in enumerate(pixels):
        src_i, src_j = pixels[perm[k]]
        out[i, j] = image[src_i, src_j]
    return out, label


# --------------------------------------------------------------------------- #
# Timing
# --------------------------------------------------------------------------- #


def run_stack(fn, images, masks, centres, radius, option, value, seed):
    """Apply ``fn`` to every slice; a seed option becomes one shared Generator.

    Returns the list of ``(anomalous, label)`` pairs; the caller stacks them
    after timing, so the timings hold no harness copy of the results.
    """
    if option == "rng":
        value = np.random.default_rng(seed)
    return [
        fn(images[i], centres[i], radius, mask=masks[i], **{option: value})
        for i in range(images.shape[0])
    ]


def run_batched(fn, images, masks, centres, radius, option, value, seed):
    """Apply a batched ``fn`` to the whole stack, seeding as :func:`run_stack`."""
    if option == "rng":
        value = np.random.default_rng(seed)
    return fn(images, centres, radius, masks=masks, **{option: value})


def draw_permutations(sizes, seed):
    """Draw the shuffle's permutations alone: the randomness every version needs."""
    generator = np.random.default_rng(seed)
    return [generator.permutation(k) for k in sizes]


def verdict(ratio, bound, target):
    """Say whether ``ratio`` meets ``target`` and, if not, whether it could."""
    if ratio >= target:
        return "met"
    if bound < target:
        return f"unreachable (floor allows {bound:.0f}x)"
    return "not met"


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


def compare(result, reference):
    """Return ``(max |image difference|, labels equal)`` of two stacked outputs."""
    (out, lab), (out_ref, lab_ref) = result, reference
    return float(np.abs(out - out_ref).max()), bool(np.array_equal(lab, lab_ref))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--radius", type=float, default=20.0)
    parser.add_argument("--strength", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timing repeats of the per-pixel loop; the best is kept",
    )
    parser.add_argument(
        "--fast-repeats",
        type=int,
        default=50,
        help="timing repeats of the package functions and of the floor, which "
        "take milliseconds and so are noisier; the best is kept",
    )
    parser.add_argument(
        "--target", type=float, default=50.0, help="the loop / batched ratio sought"
    )
    args = parser.parse_args(argv)
    for name in ("n_images", "size", "repeats", "fast_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    for name in ("radius", "target"):
        if not getattr(args, name) > 0:
            parser.error(f"--{name} must be > 0, got {getattr(args, name)}")

    images, masks, centres = make_inputs(args.n_images, args.size, args.seed)
    cases = {  # name: (batched, single image, per-pixel loop, option)
        "sink": (sink_deformation_stack, sink_deformation, sink_loop, "strength"),
        "source": (
            source_deformation_stack,
            source_deformation,
            source_loop,
            "strength",
        ),
        "shuffle": (pixel_shuffle_stack, pixel_shuffle, shuffle_loop, "rng"),
    }
    sizes = [  # label size of every slice, for the shuffle's draws
        int(label_pixels(images.shape[1:], c, args.radius, m)[0].sum())
        for c, m in zip(centres, masks)
    ]
    print(
        f"{args.n_images} images of {args.size}x{args.size}, radius {args.radius:g}, "
        f"{sum(sizes)} label pixels in all, seed {args.seed}, best of "
        f"{args.repeats} (loop) and {args.fast_repeats} (package, floor)"
    )
    # Any implementation returning a new stack copies the input: a floor.
    t_copy, _ = best_time(np.copy, args.fast_repeats, images)
    t_draws, _ = best_time(draw_permutations, args.fast_repeats, sizes, args.seed)
    floors = {"sink": t_copy, "source": t_copy, "shuffle": t_copy + t_draws}
    print(
        f"floor: copying the input stack {t_copy * 1e3:.3f} ms; "
        f"the shuffle's {args.n_images} permutation draws {t_draws * 1e3:.3f} ms"
    )
    print(
        f"{'anomaly':<8} {'batched [s]':>12} {'per-slice [s]':>14} {'loop [s]':>9} "
        f"{'loop/batched':>13} {'loop/per-slice':>15} {'loop/floor':>11} "
        f"{'max |diff|':>11} {'labels':>7}  {args.target:g}x target"
    )
    mismatches = []
    for name, (batched, single, loop, option) in cases.items():
        value = args.strength if option == "strength" else None
        common = (images, masks, centres, args.radius, option, value, args.seed)
        t_batch, res_batch = best_time(run_batched, args.fast_repeats, batched, *common)
        t_single, res_single = best_time(run_stack, args.fast_repeats, single, *common)
        t_loop, res_loop = best_time(
            run_stack, args.repeats, loop_kwargs_adapter(loop), *common
        )
        res_single = tuple(np.stack(a) for a in zip(*res_single))  # (N, H, W) each
        res_loop = tuple(np.stack(a) for a in zip(*res_loop))
        checks = [compare(res_batch, res_loop), compare(res_single, res_loop)]
        diff = max(d for d, _ in checks)
        same_labels = all(same for _, same in checks)
        changed = (res_batch[0] != images).any(axis=(1, 2)).sum()
        ratio, bound = t_loop / t_batch, t_loop / floors[name]
        print(
            f"{name:<8} {t_batch:>12.5f} {t_single:>14.5f} {t_loop:>9.4f} "
            f"{ratio:>12.1f}x {t_loop / t_single:>14.1f}x {bound:>10.1f}x "
            f"{diff:>11.2e} {'equal' if same_labels else 'DIFFER':>7}  "
            f"{verdict(ratio, bound, args.target)}"
            f"   ({changed}/{args.n_images} changed)"
        )
        if diff != 0 or not same_labels:
            mismatches.append(name)
    if mismatches:
        print(f"outputs differ for: {', '.join(mismatches)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
