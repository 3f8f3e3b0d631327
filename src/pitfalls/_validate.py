"""Shared input checks: one validator per concept, reused across the package.

Every message names the argument, the accepted range or set and the value
received. ``ValueError`` is raised for bad values, ``TypeError`` for bad types.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_image_2d",
    "check_images_3d",
    "check_same_shape",
    "check_images_and_masks",
    "check_binary_mask",
    "check_positive",
    "check_non_negative",
    "check_int",
    "check_in_range",
    "check_centre",
    "as_generator",
]


def check_image_2d(image, name: str = "image") -> np.ndarray:
    """Return ``image`` as a float64 ``(H, W)`` array, raising if it is not 2D real."""
    arr = np.asarray(image)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`{name}` must be a real-valued array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must be 2D (H, W), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False)


def check_images_3d(images, name: str = "images") -> np.ndarray:
    """Return ``images`` as a float64 ``(N, H, W)`` array, raising if it is not."""
    arr = np.asarray(images)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`{name}` must be a real-valued array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
    if arr.ndim != 3:
        raise ValueError(f"`{name}` must be 3D (N, H, W), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False)


def check_same_shape(a, b, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape, "
            f"got {np.shape(a)} and {np.shape(b)}"
        )


def check_binary_mask(mask, name: str = "mask") -> np.ndarray:
    """Return ``mask`` as a boolean array; accept bool or integer arrays of 0/1."""
    arr = np.asarray(mask)
    if arr.dtype == bool:
        return arr
    if not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`{name}` must be boolean or 0/1, got dtype {arr.dtype}")
    values = np.unique(arr)
    bad = values[(values != 0) & (values != 1)]
    if bad.size:
        raise ValueError(
            f"`{name}` must contain only 0 and 1, got values such as {bad[:5].tolist()}"
        )
    return arr.astype(bool)


def check_positive(value, name: str) -> float:
    """Return ``value`` as float, raising unless it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be > 0, got {value!r}")
    return float(value)


def check_non_negative(value, name: str) -> float:
    """Return ``value`` as float, raising unless it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"`{name}` must be >= 0, got {value!r}")
    return float(value)


def check_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as int, raising unless it is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value!r}")
    return int(value)


def check_in_range(value, name: str, low: float, high: float) -> float:
    """Return ``value`` as float, raising unless ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r}")
    if not (low <= value <= high):  # also rejects NaN
        raise ValueError(f"`{name}` must lie in [{low}, {high}], got {value!r}")
    return float(value)


def check_centre(centre, shape: tuple[int, int], name: str = "centre") -> tuple:
    """Return ``centre`` as a float ``(row, col)`` inside an image of ``shape``."""
    arr = np.asarray(centre, dtype=float) if np.ndim(centre) == 1 else None
    if arr is None or arr.shape != (2,):
        raise ValueError(f"`{name}` must be a (row, col) pair, got {centre!r}")
    row, col = arr
    if not (0 <= row <= shape[0] - 1 and 0 <= col <= shape[1] - 1):
        raise ValueError(
            f"`{name}` must lie inside the image of shape {tuple(shape)}, "
            f"got {tuple(arr.tolist())}"
        )
    return float(row), float(col)


def as_generator(seed_or_rng, name: str = "rng") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a seed, ``None`` or a Generator."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if seed_or_rng is None or (
        isinstance(seed_or_rng, numbers.Integral) and not isinstance(seed_or_rng, bool)
    ):
        return np.random.default_rng(seed_or_rng)
    raise TypeError(
        f"`{name}` must be an int seed, None or numpy.random.Generator, "
        f"got {type(seed_or_rng).__name__}"
    )


def check_images_and_masks(images, masks=None):
    """Return a float64 ``(N, H, W)`` stack and its boolean brain masks.

    ``masks`` defaults to ``images > 0``, the paper's brain mask. Raises if the
    shapes differ or a slice has no brain pixel (naming its index).
    """
    images = check_images_3d(images)
    if masks is None:
        masks = images > 0
    else:
        masks = check_binary_mask(masks, "masks")
        if masks.shape != images.shape:
            raise ValueError(
                f"`masks` must have the shape of `images` {images.shape}, "
                f"got {masks.shape}"
            )
    empty = ~masks.any(axis=(1, 2))
    if empty.any():
        raise ValueError(
            f"`masks[{int(np.flatnonzero(empty)[0])}]` holds no brain pixel"
        )
    return images, masks
