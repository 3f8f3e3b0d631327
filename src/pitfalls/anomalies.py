"""Synthetic anomalies pasted into 2D slices: disks, deformations and shuffles.

Every generator is a pure function of ``(image, centre, radius, ...)`` that
returns ``(anomalous, label)``: a new float64 ``(H, W)`` image and the boolean
``(H, W)`` mask of the pixels it was allowed to change. The input is never
modified, and every pixel outside ``label`` is returned bit-for-bit unchanged.

The region of an anomaly is always the rasterised disk of
:func:`skimage.draw.disk`, clipped by the image border (not squashed against
it) and, when a brain ``mask`` is given, restricted to the brain. Centres come
from :func:`sample_centres`, which draws uniformly from the brain pixels.

The four anomaly types are

- :func:`paste_disk`: the paper's anomaly, a disk of constant ``intensity``;
- :func:`sink_deformation` and :func:`source_deformation`: radial remaps that
  pull the texture toward the centre, or push it outward;
- :func:`pixel_shuffle`: the disk's pixels randomly permuted among themselves.

The last three change texture rather than brightness: the shuffle keeps the
disk's histogram exactly, and the deformations only interpolate between values
already present in the image. Each also has a batched form for an ``(N, H, W)``
stack, :func:`sink_deformation_stack`, :func:`source_deformation_stack` and
:func:`pixel_shuffle_stack`, which returns bit-for-bit what the single-image
function returns slice by slice, but rasterises and transforms all the disks
in one pass of array operations. The single-image functions run the same code
on a stack of one; :func:`apply_to_stack` loops any generator over a stack.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import (
    as_generator,
    check_binary_mask,
    check_centre,
    check_image_2d,
    check_images_3d,
    check_in_range,
    check_positive,
    check_same_shape,
)

__all__ = [
    "disk_label",
    "sample_centres",
    "paste_disk",
    "sink_deformation",
    "source_deformation",
    "deformation_exponent",
    "pixel_shuffle",
    "TEXTURES",
    "sink_deformation_stack",
    "source_deformation_stack",
    "pixel_shuffle_stack",
    "apply_to_stack",
]


# --------------------------------------------------------------------------- #
# Private helpers
# --------------------------------------------------------------------------- #


def _check_shape(shape, name: str = "shape") -> tuple[int, int]:
    """Return ``shape`` as a ``(H, W)`` tuple of positive Python ints."""
    try:
        values = tuple(shape)
    except TypeError:
        values = None
    if (
        values is None
        or len(values) != 2
        or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
            for v in values
        )
    ):
        raise ValueError(
            f"`{name}` must be a (rows, cols) pair of positive integers, got {shape!r}"
        )
    return int(values[0]), int(values[1])


def _check_mask_for(mask, shape: tuple[int, int], name: str = "mask") -> np.ndarray:
    """Return ``mask`` as a boolean array of exactly ``shape``."""
    arr = check_binary_mask(mask, name)
    if arr.shape != tuple(shape):
        raise ValueError(
            f"`{name}` must have the image shape {tuple(shape)}, got {arr.shape}"
        )
    return arr


def _check_strength(strength) -> float:
    """Return ``strength`` as float, raising unless ``0 <= strength < 1``."""
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real):
        raise TypeError(f"`strength` must be a real number, got {strength!r}")
    # The upper end is open: p = 1 / (1 - strength) diverges for the source.
    if not (0 <= strength < 1):  # also rejects NaN
        raise ValueError(f"`strength` must lie in [0, 1), got {strength!r}")
    return float(strength)


def _check_centres(centres, shape: tuple[int, int, int]) -> np.ndarray:
    """Return ``centres`` as float64 ``(N, 2)``, each inside the ``(H, W)`` slices."""
    n_images, n_rows, n_cols = shape
    try:
        arr = np.asarray(centres, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"`centres` must be an ({n_images}, 2) array of real numbers, "
            f"got {type(centres).__name__}"
        ) from err
    if arr.shape != (n_images, 2):
        raise ValueError(
            f"`centres` must have shape ({n_images}, 2) to match `images`, "
            f"got {arr.shape}"
        )
    rows, cols = arr[:, 0], arr[:, 1]
    inside = (rows >= 0) & (rows <= n_rows - 1) & (cols >= 0) & (cols <= n_cols - 1)
    if not inside.all():  # NaN fails every comparison and lands here too
        i = int(np.flatnonzero(~inside)[0])
        raise ValueError(
            f"`centres[{i}]` must lie inside the images of shape {(n_rows, n_cols)}, "
            f"got {tuple(arr[i].tolist())}"
        )
    return arr


class _Disks(NamedTuple):
    """The rasterised disks of a stack, on one window per slice.

    Slice ``i``'s window is rows ``top[i] + arange(Bh)`` and columns
    ``left[i] + arange(Bw)`` of the image; it lies inside the image and
    contains the slice's whole (clipped) disk.
    """

    inside: np.ndarray  # (N, Bh, Bw) bool: disk ∩ mask on the windows
    top: np.ndarray  # (N,) intp
    left: np.ndarray  # (N,) intp
    flat: np.ndarray  # (K,) indices of the label pixels in the stack's ravel()

    def per_pixel(self, grid):
        """Values of a grid broadcastable to ``(N, Bh, Bw)`` at the label pixels."""
        return _at_pixels(self.inside, grid)


def _at_pixels(inside, grid):
    """Return ``grid`` (broadcast to ``inside.shape``) where ``inside``, ``(K,)``."""
    return np.broadcast_to(grid, inside.shape)[inside]


def _box_axis(centres, radius, size):
    """One axis of skimage's disk test, for every slice at once.

    Returns ``(start, q)``: the image index of each slice's window start,
    ``(N,)``, and ``q[i, k] = (d / radius) ** 2`` with ``d`` the distance of
    window offset ``k`` from the centre, measured as skimage measures it;
    offsets outside skimage's clipped box hold ``inf`` so they never pass the
    test. All windows have the length ``B`` of the longest box, ``(N, B)``.
    """
    # skimage.draw.ellipse: the box runs from ceil(c - r) to floor(c + r),
    # clipped to [0, size - 1]; with rotation 0 its "rotated radius" is r
    # exactly (cos 0 = 1, sin 0 = 0).
    box_start = np.maximum(np.ceil(centres - radius), 0.0)  # (N,)
    box_stop = np.minimum(np.floor(centres + radius), size - 1.0)
    length = box_stop - box_start + 1.0  # <= 0 for a box without pixels
    n_box = max(int(length.max()), 0)  # <= size
    # Shift windows of the common length back inside the image where needed.
    start = np.minimum(box_start, size - n_box)  # (N,)
    # Box-relative offsets: exact integers in float, as skimage's ogrid; the
    # distance is taken from the box-relative centre c - box_start, and the
    # products with cos 0 and sin 0 in skimage's formula are exact no-ops.
    offsets = np.arange(n_box, dtype=np.float64) - (box_start - start)[:, None]
    q = offsets - (centres - box_start)[:, None]  # (N, B)
    q /= radius
    q *= q
    q[(offsets < 0) | (offsets >= length[:, None])] = np.inf
    return start.astype(np.intp), q


def _rasterise(labels, c_rows, c_cols, radius, masks):
    """Mark every slice's disk ∩ mask in ``labels`` and return them as ``_Disks``.

    ``labels`` is a zeroed C-contiguous bool ``(N, H, W)`` array, filled in
    place. The disk of slice ``i`` is exactly that of
    ``skimage.draw.disk((c_rows[i], c_cols[i]), radius, shape=(H, W))``: the
    same box and the same floating-point test, evaluated for all slices at
    once on windows of a common size. Pixels are listed slice by slice, in
    row-major order within a slice, as :func:`numpy.nonzero` lists them.
    """
    n_images, n_rows, n_cols = labels.shape
    top, q_rows = _box_axis(c_rows, radius, n_rows)  # (N,), (N, Bh)
    left, q_cols = _box_axis(c_cols, radius, n_cols)  # (N,), (N, Bw)
    inside = q_rows[:, :, None] + q_cols[:, None, :] < 1.0  # (N, Bh, Bw)
    if masks is not None:
        inside &= _windows(masks, top, left, inside.shape[1:])  # (N, Bh, Bw)
    row_start = (np.arange(n_images) * n_rows + top)[:, None]  # (N, 1)
    row_index = (row_start + np.arange(q_rows.shape[1])) * n_cols  # (N, Bh)
    col_index = left[:, None] + np.arange(q_cols.shape[1])  # (N, Bw)
    flat = _at_pixels(inside, row_index[:, :, None] + col_index[:, None, :])  # (K,)
    labels.reshape(-1)[flat] = True
    return _Disks(inside, top, left, flat)


def _windows(stack, top, left, size):
    """Return ``stack[i, top[i]:top[i] + Bh, left[i]:left[i] + Bw]`` for all ``i``.

    The windows lie inside the slices; the result is ``(N, Bh, Bw)``.
    """
    n_box_rows, n_box_cols = size
    if stack.shape[0] == 1:  # a plain slice: no view machinery for one image
        row, col = top[0], left[0]
        return stack[:, row : row + n_box_rows, col : col + n_box_cols]
    views = sliding_window_view(stack, size, axis=(1, 2))  # (N, H', W', Bh, Bw)
    return views[np.arange(stack.shape[0]), top, left]


def _bilinear(stack, offsets, rows, cols):
    """Sample ``stack`` at real ``(rows, cols)`` of the slices at ``offsets``.

    ``stack`` is a C-contiguous ``(N, H, W)`` array and ``offsets`` (float)
    the index of each point's slice start in ``stack.ravel()``. Coordinates
    are clamped to the image extent first, so points beyond the border take
    the nearest edge value. Interpolation uses the ``a + (b - a) * t`` form,
    which returns ``a`` exactly at ``t = 0`` and a constant exactly on a
    constant image; at the last row/column the upper neighbour is the pixel
    itself, so integer positions return the pixel value exactly (bit-for-bit,
    except that a -0.0 may come back as 0.0).
    """
    _, n_rows, n_cols = stack.shape
    fr = np.clip(rows, 0.0, n_rows - 1.0)
    fc = np.clip(cols, 0.0, n_cols - 1.0)
    r0 = np.floor(fr)
    c0 = np.floor(fc)
    on_last_row = fr.max() == n_rows - 1
    on_last_col = fc.max() == n_cols - 1
    fr -= r0  # weights in [0, 1)
    fc -= c0
    # Index of the upper-left neighbour; integers stay exact in float64.
    i00 = r0 * n_cols
    i00 += c0
    i00 += offsets
    i00 = i00.astype(np.intp)
    flat = stack.reshape(-1)
    v00 = flat.take(i00)
    if on_last_row or on_last_col:
        # The lower/right neighbour is the pixel itself on the last row/column,
        # where the weight fr or fc is 0 anyway.
        i01 = i00 + (c0 < n_cols - 1)
        i10 = i00 + (r0 < n_rows - 1) * n_cols
        i11 = i10 + (c0 < n_cols - 1)
        v01, v10, v11 = flat.take(i01), flat.take(i10), flat.take(i11)
    else:  # every neighbour is one step away: gather from shifted views
        v01 = flat[1:].take(i00)
        v10 = flat[n_cols:].take(i00)
        v11 = flat[n_cols + 1 :].take(i00)
    # top = v00 + (v01 - v00) * fc, bottom likewise, then top + (bottom - top)
    # * fr, computed in place.
    v01 -= v00
    v01 *= fc
    v01 += v00
    v11 -= v10
    v11 *= fc
    v11 += v10
    v11 -= v01
    v11 *= fr
    v11 += v01
    return v11


def _remap_into(out, disks, c_rows, c_cols, radius, exponent):
    """Radially remap the label pixels of every slice of ``out``, in place.

    A pixel at distance ``rho`` from its slice's centre reads the original
    image at distance ``r * (rho / r) ** p`` on the same ray. All values are
    read before any is written, so the remap sees only original pixels.
    """
    if disks.flat.size == 0:
        return
    n_images, n_rows, n_cols = out.shape
    _, n_box_rows, n_box_cols = disks.inside.shape
    rows = disks.top[:, None] + np.arange(n_box_rows, dtype=np.float64)  # (N, Bh)
    cols = disks.left[:, None] + np.arange(n_box_cols, dtype=np.float64)  # (N, Bw)
    dy = disks.per_pixel((rows - c_rows[:, None])[:, :, None])  # (K,)
    dx = disks.per_pixel((cols - c_cols[:, None])[:, None, :])
    rho = np.sqrt(dy * dy + dx * dx)
    # Source point = centre + (x - centre) * (rho / r) ** (p - 1); written as a
    # displacement of x so that p = 1 gives a zero shift and an exact identity.
    # The centre pixel itself (rho = 0) maps to itself for every p.
    with np.errstate(divide="ignore"):  # 0 ** (p - 1) at the centre, reset below
        shift = np.power(rho / radius, exponent - 1.0)
    shift[rho == 0] = 1.0
    shift -= 1.0
    dy *= shift
    dy += disks.per_pixel(rows[:, :, None])  # source rows, x + (x - c) * shift
    dx *= shift
    dx += disks.per_pixel(cols[:, None, :])
    size = n_rows * n_cols
    offsets = disks.per_pixel(np.arange(0.0, n_images * size, size)[:, None, None])
    out.reshape(-1)[disks.flat] = _bilinear(out, offsets, dy, dx)


def _shuffle_into(out, disks, generator):
    """Permute the label pixels of every slice of ``out`` among themselves.

    Slice ``i`` (in order, empty labels included) draws
    ``generator.permutation(K_i)``, the draw of :func:`pixel_shuffle`.
    """
    counts = np.count_nonzero(disks.inside, axis=(1, 2))  # (N,) label sizes
    perms = [generator.permutation(int(k)) for k in counts]
    # perms[i] indexes slice i's pixels; move it to their block of `flat`.
    starts = np.cumsum(counts) - counts
    order = np.concatenate(perms) + np.repeat(starts, counts)  # (K,)
    values = out.reshape(-1)
    values[disks.flat] = values.take(disks.flat.take(order))


def _prepare_one(image, centre, radius, mask):
    """Validate one slice; return ``(out, label, disks, c_rows, c_cols, radius)``.

    ``out`` is a C-contiguous float64 copy of ``image`` and ``label`` its
    disk ∩ mask; the stack helpers receive them as a stack of one.
    """
    arr = check_image_2d(image)
    row, col = check_centre(centre, arr.shape)
    radius = check_positive(radius, "radius")
    if mask is not None:
        mask = _check_mask_for(mask, arr.shape)[None]  # (1, H, W)
    out = np.array(arr, dtype=np.float64, order="C")  # always a copy
    label = np.zeros(arr.shape, dtype=bool)
    c_rows, c_cols = np.array([row]), np.array([col])  # (1,) each
    disks = _rasterise(label[None], c_rows, c_cols, radius, mask)
    return out, label, disks, c_rows, c_cols, radius


def _prepare_stack(images, centres, radius, masks):
    """Validate a stack; return ``(out, labels, disks, c_rows, c_cols, radius)``."""
    stack = check_images_3d(images)
    centres = _check_centres(centres, stack.shape)
    radius = check_positive(radius, "radius")
    if masks is not None:
        masks = check_binary_mask(masks, "masks")
        check_same_shape(masks, stack, "masks", "images")
    out = np.array(stack, dtype=np.float64, order="C")  # always a copy
    labels = np.zeros(stack.shape, dtype=bool)
    c_rows = np.ascontiguousarray(centres[:, 0])  # (N,)
    c_cols = np.ascontiguousarray(centres[:, 1])
    disks = _rasterise(labels, c_rows, c_cols, radius, masks)
    return out, labels, disks, c_rows, c_cols, radius


# --------------------------------------------------------------------------- #
# Geometry
# --------------------------------------------------------------------------- #


def disk_label(shape, centre, radius, *, mask=None):
    """Rasterise a disk into a boolean label, clipped by the border and the mask.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(H, W)``.
    centre : array_like of float, shape (2,)
        Disk centre ``(row, col)`` in pixel coordinates; must lie inside the
        image.
    radius : float
        Disk radius in pixels, > 0.
    mask : array_like of bool, shape (H, W), optional
        Region (e.g. the brain) the label is restricted to.

    Returns
    -------
    label : ndarray of bool, shape (H, W)
        ``True`` on the pixels of the disk that lie inside ``mask``.

    Raises
    ------
    ValueError
        If ``shape`` is not a pair of positive ints, ``centre`` lies outside
        the image, ``radius`` is not > 0, or ``mask`` is not 0/1 or has
        another shape.

    Notes
    -----
    The disk is :func:`skimage.draw.disk` with ``shape=shape``: the pixels
    ``(r, c)`` with ``(r - r0)**2 + (c - c0)**2 < radius**2``, clipped at the
    border. A disk near the border therefore keeps its round outline and only
    loses the part outside the image. skimage is not called: its arithmetic
    (the same bounding box, the same floating-point test
    ``((r - r0') / radius)**2 + ((c - c0') / radius)**2 < 1`` with
    box-relative ``r0', c0'``) is replicated in array operations shared with
    the batched anomalies, which select exactly the same pixels for integer
    and fractional centres alike (tested against skimage). The label may be
    empty if the disk misses ``mask`` entirely; no warning is raised.

    Examples
    --------
    >>> from pitfalls.anomalies import disk_label
    >>> label = disk_label((7, 7), (3, 3), 2.5)
    >>> label.astype(int)
    array([[0, 0, 0, 0, 0, 0, 0],
           [0, 0, 1, 1, 1, 0, 0],
           [0, 1, 1, 1, 1, 1, 0],
           [0, 1, 1, 1, 1, 1, 0],
           [0, 1, 1, 1, 1, 1, 0],
           [0, 0, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0, 0]])
    >>> int(disk_label((7, 7), (3, 3), 2).sum())  # strict inequality: 3 x 3
    9
    >>> int(disk_label((7, 7), (0, 0), 2.5).sum())  # a quarter-disk at the corner
    8
    """
    shape = _check_shape(shape)
    row, col = check_centre(centre, shape)
    radius = check_positive(radius, "radius")
    if mask is not None:
        mask = _check_mask_for(mask, shape)[None]  # (1, H, W)
    label = np.zeros(shape, dtype=bool)
    _rasterise(label[None], np.array([row]), np.array([col]), radius, mask)
    return label


def sample_centres(masks, rng=None):
    """Draw one integer centre per mask, uniformly over the mask's pixels.

    Parameters
    ----------
    masks : array_like of bool, shape (N, H, W) or (H, W)
        Brain masks; each must contain at least one ``True`` pixel.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator. Pass an int for reproducible centres.

    Returns
    -------
    centres : ndarray of int64, shape (N, 2) or (2,)
        ``(row, col)`` of a mask pixel for each mask; ``(2,)`` for a single
        ``(H, W)`` mask.

    Raises
    ------
    ValueError
        If ``masks`` is not 2D or 3D or not 0/1, or if a mask is empty (the
        message names its index).
    TypeError
        If ``rng`` is not an int, None or a Generator.

    Notes
    -----
    Every brain pixel is equally likely, as in the paper, which pastes the
    anomaly at a random position in the brain. No margin is kept from the
    brain outline or the image border: a disk centred near the edge is clipped
    by :func:`disk_label` and is smaller than ``pi * radius**2``. Callers that
    need full-size disks should erode the masks first (e.g. with
    :func:`scipy.ndimage.binary_erosion` and ``iterations=radius``).

    The draw consumes one call ``rng.integers(counts)`` with one entry per mask
    (``counts`` = pixels per mask); the ``k``-th pixel of mask ``i`` in
    row-major order is chosen for ``k = draw[i]``.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import sample_centres
    >>> masks = np.zeros((3, 8, 8), dtype=bool)
    >>> masks[:, 2:6, 3:5] = True
    >>> centres = sample_centres(masks, rng=0)
    >>> centres.shape
    (3, 2)
    >>> bool(masks[np.arange(3), centres[:, 0], centres[:, 1]].all())
    True
    >>> np.array_equal(centres, sample_centres(masks, rng=0))
    True
    """
    arr = np.asarray(masks)
    if arr.ndim not in (2, 3):
        raise ValueError(f"`masks` must be (H, W) or (N, H, W), got shape {arr.shape}")
    arr = check_binary_mask(arr, "masks")
    single = arr.ndim == 2
    stack = arr[None] if single else arr  # (N, H, W)
    if stack.shape[0] == 0 or stack[0].size == 0:
        raise ValueError(f"`masks` must not be empty, got shape {arr.shape}")
    generator = as_generator(rng)

    flat = stack.reshape(stack.shape[0], -1)  # (N, H*W)
    counts = flat.sum(axis=1)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        where = "`masks`" if single else f"`masks[{int(empty[0])}]`"
        more = f" (empty masks: {empty[:10].tolist()})" if empty.size > 1 else ""
        raise ValueError(f"{where} has no True pixel to place a centre on{more}")

    draw = generator.integers(counts)  # (N,), draw[i] uniform in [0, counts[i])
    # One pass per mask (not per pixel) keeps memory at O(H * W).
    flat_idx = np.array(
        [np.flatnonzero(m)[k] for m, k in zip(flat, draw)], dtype=np.intp
    )
    centres = np.stack(np.unravel_index(flat_idx, stack.shape[1:]), axis=1)
    centres = centres.astype(np.int64)  # (N, 2)
    return centres[0] if single else centres


# --------------------------------------------------------------------------- #
# Anomalies
# --------------------------------------------------------------------------- #


def paste_disk(image, centre, radius, intensity, *, mask=None):
    """Paste a disk of constant intensity: the paper's synthetic anomaly.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Image with intensities in [0, 1].
    centre : array_like of float, shape (2,)
        Disk centre ``(row, col)``, inside the image.
    radius : float
        Disk radius in pixels, > 0.
    intensity : float
        Value written into the disk, in [0, 1].
    mask : array_like of bool, shape (H, W), optional
        Brain mask; only disk pixels inside it are changed.

    Returns
    -------
    anomalous : ndarray of float64, shape (H, W)
        Copy of ``image`` with the label's pixels set to ``intensity``.
    label : ndarray of bool, shape (H, W)
        Disk ∩ mask, see :func:`disk_label`.

    Raises
    ------
    ValueError
        If ``image`` is not 2D, ``radius`` is not > 0, ``intensity`` is not in
        [0, 1], ``centre`` lies outside the image or ``mask`` has another shape.

    Notes
    -----
    Pixels in the label whose value already equals ``intensity`` are labelled
    anomalous although they did not change; this is the paper's convention and
    the very effect its first experiment measures.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import paste_disk
    >>> image = np.full((5, 5), 0.2)
    >>> out, label = paste_disk(image, (2, 2), 1.5, 0.9)
    >>> out
    array([[0.2, 0.2, 0.2, 0.2, 0.2],
           [0.2, 0.9, 0.9, 0.9, 0.2],
           [0.2, 0.9, 0.9, 0.9, 0.2],
           [0.2, 0.9, 0.9, 0.9, 0.2],
           [0.2, 0.2, 0.2, 0.2, 0.2]])
    >>> bool((out[label] == 0.9).all()), float(image.max())
    (True, 0.2)
    """
    intensity = check_in_range(intensity, "intensity", 0.0, 1.0)
    out, label, disks, _, _, _ = _prepare_one(image, centre, radius, mask)
    out.reshape(-1)[disks.flat] = intensity
    return out, label


def deformation_exponent(kind, strength):
    r"""Return the radial exponent ``p`` of a sink or source of given strength.

    Parameters
    ----------
    kind : {"sink", "source"}
        Deformation type.
    strength : float
        Strength in [0, 1); 0 is the identity.

    Returns
    -------
    p : float
        ``1 - strength`` for a sink, ``1 / (1 - strength)`` for a source.

    Raises
    ------
    ValueError
        If ``kind`` is unknown or ``strength`` is not in [0, 1).

    Notes
    -----
    At equal strength the two exponents are reciprocal, and the radial maps
    :math:`\rho \mapsto r (\rho / r)^{p}` and :math:`r (\rho / r)^{1/p}`
    are inverse to each other: in the continuum, a source undoes a sink of the
    same strength (on pixels, up to the blur of the interpolation).

    Examples
    --------
    >>> from pitfalls.anomalies import deformation_exponent
    >>> deformation_exponent("sink", 0.5), deformation_exponent("source", 0.5)
    (0.5, 2.0)
    """
    if kind not in ("sink", "source"):
        raise ValueError(f"`kind` must be 'sink' or 'source', got {kind!r}")
    strength = _check_strength(strength)
    return 1.0 - strength if kind == "sink" else 1.0 / (1.0 - strength)


def sink_deformation(image, centre, radius, *, mask=None, strength=0.5):
    r"""Pull the texture inside a disk toward its centre (a radial sink).

    Parameters
    ----------
    image : array_like, shape (H, W)
        Image to deform.
    centre : array_like of float, shape (2,)
        Disk centre ``(row, col)``, inside the image.
    radius : float
        Disk radius ``r`` in pixels, > 0.
    mask : array_like of bool, shape (H, W), optional
        Brain mask; only disk pixels inside it are changed.
    strength : float, default 0.5
        Strength in [0, 1); 0 returns the image unchanged.

    Returns
    -------
    anomalous : ndarray of float64, shape (H, W)
        Deformed copy of ``image``; pixels outside ``label`` are unchanged.
    label : ndarray of bool, shape (H, W)
        Disk ∩ mask, see :func:`disk_label`.

    Raises
    ------
    ValueError
        If ``image`` is not 2D, ``radius`` is not > 0, ``strength`` is not in
        [0, 1), ``centre`` lies outside the image or ``mask`` has another shape.

    Notes
    -----
    A label pixel at distance :math:`\rho < r` from the centre takes the value
    of the image at distance

    .. math:: s(\rho) = r \left(\frac{\rho}{r}\right)^{p},
              \qquad p = 1 - \text{strength},

    along the same ray, read by bilinear interpolation. With :math:`p < 1`,
    :math:`s > \rho`: content from near the rim is drawn inward and the
    texture appears squeezed toward the centre. The map is the identity at the
    rim (:math:`s(r) = r`), so the disk joins its surroundings without a seam,
    and a pixel lying exactly on the centre keeps its value. The source point
    is computed as ``x + (x - centre) * ((rho / r) ** (p - 1) - 1)``, so
    ``strength = 0`` is an exact identity.

    Values are read from the whole image (the brain mask only limits which
    pixels are written), and source points beyond the image border take the
    nearest edge value. A constant image stays exactly constant.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import sink_deformation
    >>> image = np.tile(np.arange(9.0), (9, 1))  # a horizontal ramp
    >>> out, label = sink_deformation(image, (4, 4), 4, strength=0.5)
    >>> out[4, 4:8].round(4)  # the ramp steepens near the centre
    array([4.    , 6.    , 6.8284, 7.4641])
    >>> bool((out[~label] == image[~label]).all())
    True
    """
    p = deformation_exponent("sink", strength)
    out, label, *geometry = _prepare_one(image, centre, radius, mask)
    _remap_into(out[None], *geometry, p)
    return out, label


def source_deformation(image, centre, radius, *, mask=None, strength=0.5):
    r"""Push the texture inside a disk away from its centre (a radial source).

    Parameters
    ----------
    image : array_like, shape (H, W)
        Image to deform.
    centre : array_like of float, shape (2,)
        Disk centre ``(row, col)``, inside the image.
    radius : float
        Disk radius ``r`` in pixels, > 0.
    mask : array_like of bool, shape (H, W), optional
        Brain mask; only disk pixels inside it are changed.
    strength : float, default 0.5
        Strength in [0, 1); 0 returns the image unchanged.

    Returns
    -------
    anomalous : ndarray of float64, shape (H, W)
        Deformed copy of ``image``; pixels outside ``label`` are unchanged.
    label : ndarray of bool, shape (H, W)
        Disk ∩ mask, see :func:`disk_label`.

    Raises
    ------
    ValueError
        If ``image`` is not 2D, ``radius`` is not > 0, ``strength`` is not in
        [0, 1), ``centre`` lies outside the image or ``mask`` has another shape.

    Notes
    -----
    The same radial remap as :func:`sink_deformation`,

    .. math:: s(\rho) = r \left(\frac{\rho}{r}\right)^{p},
              \qquad p = \frac{1}{1 - \text{strength}},

    but with :math:`p > 1`, so :math:`s < \rho`: the pixel at :math:`\rho`
    shows content from nearer the centre, which is magnified and pushed
    outward. The map is the identity at the rim and ``strength = 0`` is an
    exact identity. Source points always lie inside the disk, on the segment
    between the centre and the pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import source_deformation
    >>> image = np.tile(np.arange(9.0), (9, 1))  # a horizontal ramp
    >>> out, label = source_deformation(image, (4, 4), 4, strength=0.5)
    >>> out[4, 4:8]  # the ramp flattens near the centre
    array([4.  , 4.25, 5.  , 6.25])
    """
    p = deformation_exponent("source", strength)
    out, label, *geometry = _prepare_one(image, centre, radius, mask)
    _remap_into(out[None], *geometry, p)
    return out, label


def pixel_shuffle(image, centre, radius, *, mask=None, rng=None):
    """Randomly permute the pixels of a disk among themselves.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Image to alter.
    centre : array_like of float, shape (2,)
        Disk centre ``(row, col)``, inside the image.
    radius : float
        Disk radius in pixels, > 0.
    mask : array_like of bool, shape (H, W), optional
        Brain mask; only disk pixels inside it take part in the permutation.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator of the permutation.

    Returns
    -------
    anomalous : ndarray of float64, shape (H, W)
        Copy of ``image`` whose label pixels hold a permutation of their
        original values.
    label : ndarray of bool, shape (H, W)
        Disk ∩ mask, see :func:`disk_label`.

    Raises
    ------
    ValueError
        If ``image`` is not 2D, ``radius`` is not > 0, ``centre`` lies outside
        the image or ``mask`` has another shape.
    TypeError
        If ``rng`` is not an int, None or a Generator.

    Notes
    -----
    With the ``K`` label pixels listed in row-major order, the function draws
    ``perm = rng.permutation(K)`` (exactly one call) and gives the ``k``-th
    pixel the value of the ``perm[k]``-th. The intensity histogram of the
    disk is preserved exactly; only its spatial structure is destroyed. A
    permutation may leave some pixels (or, for tiny disks, all) in place.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import pixel_shuffle
    >>> image = np.arange(49.0).reshape(7, 7)
    >>> out, label = pixel_shuffle(image, (3, 3), 2, rng=0)
    >>> np.array_equal(np.sort(out[label]), np.sort(image[label]))
    True
    >>> bool((out[~label] == image[~label]).all())
    True
    """
    generator = as_generator(rng)
    out, label, disks, _, _, _ = _prepare_one(image, centre, radius, mask)
    _shuffle_into(out[None], disks, generator)
    return out, label


#: The texture anomalies of the paper's second experiment, by name.
TEXTURES = {
    "sink": sink_deformation,
    "source": source_deformation,
    "shuffle": pixel_shuffle,
}


# --------------------------------------------------------------------------- #
# Batches
# --------------------------------------------------------------------------- #


def sink_deformation_stack(images, centres, radius, *, masks=None, strength=0.5):
    """Apply :func:`sink_deformation` to every slice of a stack in one pass.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Slices to deform.
    centres : array_like of float, shape (N, 2)
        One disk centre ``(row, col)`` per slice, inside the image, e.g. from
        :func:`sample_centres`.
    radius : float
        Disk radius ``r`` in pixels, > 0, shared by all slices.
    masks : array_like of bool, shape (N, H, W), optional
        One brain mask per slice; only disk pixels inside it are changed.
    strength : float, default 0.5
        Strength in [0, 1), shared by all slices; 0 returns the images
        unchanged.

    Returns
    -------
    anomalous : ndarray of float64, shape (N, H, W)
        Deformed copy of ``images``.
    labels : ndarray of bool, shape (N, H, W)
        Disk ∩ mask of every slice.

    Raises
    ------
    ValueError
        If ``images`` is not 3D, ``centres`` is not ``(N, 2)`` or a centre
        lies outside the images, ``masks`` has another shape, ``radius`` is
        not > 0 or ``strength`` is not in [0, 1).
    TypeError
        If ``images`` or ``centres`` are not real numbers.

    See Also
    --------
    sink_deformation : the same transform on one slice; see it for the map.

    Notes
    -----
    Slice ``i`` of the result is bit-for-bit
    ``sink_deformation(images[i], centres[i], radius, mask=masks[i],
    strength=strength)``, but the disks of all slices are rasterised and
    resampled together in whole-stack array operations, so the cost no longer
    carries a fixed per-slice overhead.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import sink_deformation, sink_deformation_stack
    >>> images = np.random.default_rng(0).random((3, 16, 16))
    >>> centres = [(8, 8), (0.5, 3.25), (15, 15)]
    >>> out, labels = sink_deformation_stack(images, centres, 5, strength=0.4)
    >>> out.shape, labels.shape
    ((3, 16, 16), (3, 16, 16))
    >>> one, label = sink_deformation(images[1], centres[1], 5, strength=0.4)
    >>> np.array_equal(out[1], one), np.array_equal(labels[1], label)
    (True, True)
    """
    p = deformation_exponent("sink", strength)
    out, labels, *geometry = _prepare_stack(images, centres, radius, masks)
    _remap_into(out, *geometry, p)
    return out, labels


def source_deformation_stack(images, centres, radius, *, masks=None, strength=0.5):
    """Apply :func:`source_deformation` to every slice of a stack in one pass.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Slices to deform.
    centres : array_like of float, shape (N, 2)
        One disk centre ``(row, col)`` per slice, inside the image.
    radius : float
        Disk radius ``r`` in pixels, > 0, shared by all slices.
    masks : array_like of bool, shape (N, H, W), optional
        One brain mask per slice; only disk pixels inside it are changed.
    strength : float, default 0.5
        Strength in [0, 1), shared by all slices; 0 returns the images
        unchanged.

    Returns
    -------
    anomalous : ndarray of float64, shape (N, H, W)
        Deformed copy of ``images``.
    labels : ndarray of bool, shape (N, H, W)
        Disk ∩ mask of every slice.

    Raises
    ------
    ValueError
        If ``images`` is not 3D, ``centres`` is not ``(N, 2)`` or a centre
        lies outside the images, ``masks`` has another shape, ``radius`` is
        not > 0 or ``strength`` is not in [0, 1).
    TypeError
        If ``images`` or ``centres`` are not real numbers.

    See Also
    --------
    source_deformation : the same transform on one slice.

    Notes
    -----
    Slice ``i`` of the result is bit-for-bit
    ``source_deformation(images[i], centres[i], radius, mask=masks[i],
    strength=strength)``; see :func:`sink_deformation_stack`.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import source_deformation_stack
    >>> ramps = np.tile(np.arange(9.0), (2, 9, 1))  # two horizontal ramps
    >>> out, labels = source_deformation_stack(ramps, [(4, 4), (4, 2)], 4)
    >>> out[0, 4, 4:8]  # the ramp flattens near the centre
    array([4.  , 4.25, 5.  , 6.25])
    >>> [int(n) for n in labels.sum(axis=(1, 2))]  # the second disk is clipped
    [45, 40]
    """
    p = deformation_exponent("source", strength)
    out, labels, *geometry = _prepare_stack(images, centres, radius, masks)
    _remap_into(out, *geometry, p)
    return out, labels


def pixel_shuffle_stack(images, centres, radius, *, masks=None, rng=None):
    """Apply :func:`pixel_shuffle` to every slice of a stack in one pass.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
        Slices to alter.
    centres : array_like of float, shape (N, 2)
        One disk centre ``(row, col)`` per slice, inside the image.
    radius : float
        Disk radius in pixels, > 0, shared by all slices.
    masks : array_like of bool, shape (N, H, W), optional
        One brain mask per slice; only disk pixels inside it take part in the
        permutation.
    rng : int, numpy.random.Generator or None, optional
        Seed or generator of the permutations.

    Returns
    -------
    anomalous : ndarray of float64, shape (N, H, W)
        Copy of ``images`` whose label pixels hold a permutation of their
        slice's original values.
    labels : ndarray of bool, shape (N, H, W)
        Disk ∩ mask of every slice.

    Raises
    ------
    ValueError
        If ``images`` is not 3D, ``centres`` is not ``(N, 2)`` or a centre
        lies outside the images, ``masks`` has another shape or ``radius`` is
        not > 0.
    TypeError
        If ``images`` or ``centres`` are not real numbers, or ``rng`` is not
        an int, None or a Generator.

    See Also
    --------
    pixel_shuffle : the same transform on one slice.

    Notes
    -----
    ``rng`` becomes one Generator, which draws ``permutation(K_i)`` for the
    slices ``i = 0, 1, ..., N - 1`` in order (``K_i`` = label size, also for
    empty labels): exactly the draws of
    ``apply_to_stack(pixel_shuffle, images, centres, masks=masks,
    radius=radius, rng=rng)``, so the two give identical results. Pixels are
    only permuted within their own slice.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import apply_to_stack, pixel_shuffle
    >>> from pitfalls.anomalies import pixel_shuffle_stack
    >>> images = np.arange(2 * 7 * 7.0).reshape(2, 7, 7)
    >>> centres = [(3, 3), (1, 5)]
    >>> out, labels = pixel_shuffle_stack(images, centres, 2.5, rng=0)
    >>> ref, _ = apply_to_stack(pixel_shuffle, images, centres, radius=2.5, rng=0)
    >>> np.array_equal(out, ref)
    True
    >>> np.array_equal(np.sort(out[labels]), np.sort(images[labels]))
    True
    """
    generator = as_generator(rng)
    out, labels, disks, _, _, _ = _prepare_stack(images, centres, radius, masks)
    _shuffle_into(out, disks, generator)
    return out, labels


def apply_to_stack(fn, images, centres, *, masks=None, **kwargs):
    """Apply one anomaly function to every slice of a stack.

    Parameters
    ----------
    fn : callable
        An anomaly of this module, called as
        ``fn(images[i], centres[i], mask=masks[i], **kwargs)``.
    images : array_like, shape (N, H, W)
        Slices.
    centres : array_like, shape (N, 2)
        One ``(row, col)`` centre per slice, e.g. from :func:`sample_centres`.
    masks : array_like of bool, shape (N, H, W), optional
        One brain mask per slice.
    **kwargs
        Further arguments of ``fn`` (``radius``, ``intensity``, ``strength``,
        ``rng``), shared by all slices.

    Returns
    -------
    anomalous : ndarray of float64, shape (N, H, W)
        Altered slices.
    labels : ndarray of bool, shape (N, H, W)
        Their labels.

    Raises
    ------
    ValueError
        If ``images`` is not 3D, or ``centres`` or ``masks`` do not match it.

    Notes
    -----
    An ``rng`` argument is turned into one Generator before the loop, so a
    seed gives every slice a different but reproducible draw (the same as
    passing that Generator to the slices one by one).

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.anomalies import apply_to_stack, paste_disk
    >>> images = np.zeros((2, 8, 8))
    >>> out, labels = apply_to_stack(
    ...     paste_disk, images, [(2, 2), (5, 5)], radius=2, intensity=1.0
    ... )
    >>> out.shape, labels.shape, [int(n) for n in labels.sum(axis=(1, 2))]
    ((2, 8, 8), (2, 8, 8), [9, 9])
    """
    stack = check_images_3d(images)
    n_images = stack.shape[0]
    centres = np.asarray(centres, dtype=float)
    if centres.shape != (n_images, 2):
        raise ValueError(
            f"`centres` must have shape ({n_images}, 2) to match `images`, "
            f"got {centres.shape}"
        )
    if masks is not None:
        masks = check_binary_mask(masks, "masks")
        check_same_shape(masks, stack, "masks", "images")
    if "rng" in kwargs:
        kwargs["rng"] = as_generator(kwargs["rng"])

    anomalous = np.empty_like(stack)
    labels = np.empty(stack.shape, dtype=bool)
    for i in range(n_images):  # one call per slice, vectorised within
        mask = None if masks is None else masks[i]
        anomalous[i], labels[i] = fn(stack[i], centres[i], mask=mask, **kwargs)
    return anomalous, labels
