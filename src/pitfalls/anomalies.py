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
already present in the image.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from skimage.draw import disk

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


def _disk_pixels(shape, centre, radius, mask):
    """Validate; return ``(label, rows, cols, centre)`` of disk ∩ mask.

    ``rows, cols`` list the label's pixels in row-major order; ``centre`` is
    the validated ``(row, col)`` float pair.
    """
    shape = _check_shape(shape)
    row, col = check_centre(centre, shape)
    radius = check_positive(radius, "radius")

    # skimage evaluates its disk test on every pixel of `shape`. Running it on
    # the disk's bounding box instead gives the same pixels bit-for-bit (the
    # integer offsets cancel exactly in floating point) at a fraction of the cost
    # on a large image. The box keeps a 1-pixel safety margin.
    top = max(math.floor(row - radius) - 1, 0)
    left = max(math.floor(col - radius) - 1, 0)
    bottom = min(math.ceil(row + radius) + 2, shape[0])
    right = min(math.ceil(col + radius) + 2, shape[1])
    rows, cols = disk(
        (row - top, col - left), radius, shape=(bottom - top, right - left)
    )  # (K,) each, in box coordinates
    # skimage returns np.nonzero of the box, hence row-major order (tested).
    rows, cols = rows + top, cols + left
    if mask is not None:
        inside = _check_mask_for(mask, shape)[rows, cols]
        rows, cols = rows[inside], cols[inside]
    label = np.zeros(shape, dtype=bool)
    label[rows, cols] = True
    return label, rows, cols, (row, col)


def _prepare(image, centre, radius, mask):
    """Validate the common arguments of an anomaly.

    Returns ``(image, centre, radius, label, rows, cols)`` with ``rows, cols``
    the label's pixels in row-major order.
    """
    arr = check_image_2d(image)
    label, rows, cols, centre = _disk_pixels(arr.shape, centre, radius, mask)
    return arr, centre, float(radius), label, rows, cols


def _bilinear(image: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample ``image`` at real-valued ``(rows, cols)`` by bilinear interpolation.

    Coordinates are clamped to the image extent first, so points beyond the
    border take the nearest edge value. Interpolation uses the ``a + (b - a) * t``
    form, which returns ``a`` exactly at ``t = 0`` and a constant exactly on a
    constant image; at the last row/column the upper neighbour is the pixel
    itself, so integer positions return the pixel value bit-for-bit.
    """
    n_rows, n_cols = image.shape
    r = np.minimum(np.maximum(rows, 0.0), n_rows - 1.0)
    c = np.minimum(np.maximum(cols, 0.0), n_cols - 1.0)
    # Truncation is floor here: the clamped coordinates are non-negative.
    r0 = r.astype(np.intp)
    c0 = c.astype(np.intp)
    fr = r - r0
    fc = c - c0
    # Gather the four neighbours through flat indices (cheaper than 2D fancy
    # indexing). The lower/right neighbour is the pixel itself on the last
    # row/column, where the weight fr or fc is 0 anyway.
    i00 = r0 * n_cols + c0
    i01 = i00 + (c0 < n_cols - 1)
    i10 = i00 + (r0 < n_rows - 1) * n_cols
    i11 = i10 + (c0 < n_cols - 1)
    flat = np.ravel(image)
    v00, v01, v10, v11 = flat[i00], flat[i01], flat[i10], flat[i11]
    top = v00 + (v01 - v00) * fc
    bottom = v10 + (v11 - v10) * fc
    return top + (bottom - top) * fr


def _radial_remap(image, centre, radius, exponent, mask):
    """Resample the disk so distance ``rho`` reads from ``r * (rho / r) ** p``."""
    arr, (c_row, c_col), r, label, rows, cols = _prepare(image, centre, radius, mask)
    out = arr.copy()
    if rows.size == 0:
        return out, label

    dy = rows - c_row
    dx = cols - c_col
    rho = np.sqrt(dy * dy + dx * dx)
    # Source point = centre + (x - centre) * (rho / r) ** (p - 1); written as a
    # displacement of x so that p = 1 gives a zero shift and an exact identity.
    # The centre pixel itself (rho = 0) maps to itself for every p.
    scale = np.power(rho / r, exponent - 1.0, out=np.ones_like(rho), where=rho > 0)
    shift = scale - 1.0
    src_rows = rows + dy * shift
    src_cols = cols + dx * shift

    out[rows, cols] = _bilinear(arr, src_rows, src_cols)
    return out, label


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
    loses the part outside the image. skimage's test is run on the disk's
    bounding box rather than on the whole image, which selects exactly the
    same pixels at a lower cost. The label may be empty if the disk misses
    ``mask`` entirely; no warning is raised.

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
    label, _, _, _ = _disk_pixels(shape, centre, radius, mask)
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
        raise ValueError(
            f"`masks` must be (H, W) or (N, H, W), got shape {arr.shape}"
        )
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
    arr, _, _, label, rows, cols = _prepare(image, centre, radius, mask)
    out = arr.copy()
    out[rows, cols] = intensity
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
    return _radial_remap(image, centre, radius, p, mask)


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
    return _radial_remap(image, centre, radius, p, mask)


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
    arr, _, _, label, rows, cols = _prepare(image, centre, radius, mask)
    out = arr.copy()
    perm = generator.permutation(rows.size)
    out[rows, cols] = arr[rows[perm], cols[perm]]
    return out, label


# --------------------------------------------------------------------------- #
# Batches
# --------------------------------------------------------------------------- #


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
