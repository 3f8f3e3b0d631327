"""Turn an image and its reconstruction into a pixel-wise anomaly score.

The paper scores each pixel by the residual between the input and its
reconstruction. This module holds that residual; other scores (SSIM-based maps,
intensity baselines) can sit beside it with the same ``(image, reconstruction)``
signature.
"""

from __future__ import annotations

import numpy as np

from pitfalls._validate import (
    check_binary_mask,
    check_image_2d,
    check_images_3d,
    check_same_shape,
)

__all__ = ["RESIDUAL_KINDS", "reconstruction_error", "residual"]

#: The residual kinds accepted by :func:`residual`.
RESIDUAL_KINDS = ("absolute", "squared")


def _check_image_stack(image, name: str) -> np.ndarray:
    """Return ``image`` as a float64 ``(H, W)`` or ``(N, H, W)`` array."""
    if np.ndim(image) == 3:
        return check_images_3d(image, name)
    if np.ndim(image) == 2:
        return check_image_2d(image, name)
    raise ValueError(
        f"`{name}` must be 2D (H, W) or 3D (N, H, W), got shape {np.shape(image)}"
    )


def residual(image, reconstruction, *, kind="absolute"):
    """Compute the pixel-wise residual between an image and its reconstruction.

    Parameters
    ----------
    image : array_like, shape (H, W) or (N, H, W)
        Input image or stack of images, real-valued.
    reconstruction : array_like, same shape as `image`
        Reconstruction of `image`, for example a blurred copy or a model output.
    kind : {"absolute", "squared"}, optional
        ``"absolute"`` gives ``|image - reconstruction|``, ``"squared"`` gives
        ``(image - reconstruction) ** 2``.

    Returns
    -------
    numpy.ndarray, same shape as `image`
        The residual as float64; the inputs are not modified.

    Raises
    ------
    ValueError
        If `kind` is not one of the accepted kinds, if the arrays are not 2D or
        3D, are empty or differ in shape.
    TypeError
        If either array is not real-valued (boolean arrays are rejected too).

    Notes
    -----
    Both inputs are converted to float64 before subtracting, so unsigned integer
    images (``uint8`` and the like) do not wrap around.

    The squared residual ranks pixels exactly as the absolute one does, so
    rank-based metrics such as average precision and AUROC give the same value
    for both; only thresholds and averages differ.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.array([[0.2, 0.5], [0.9, 0.0]])
    >>> reconstruction = np.array([[0.3, 0.5], [0.5, 0.0]])
    >>> residual(image, reconstruction).round(2)
    array([[0.1, 0. ],
           [0.4, 0. ]])
    >>> residual(image, reconstruction, kind="squared").round(2)
    array([[0.01, 0.  ],
           [0.16, 0.  ]])
    """
    if not isinstance(kind, str) or kind not in RESIDUAL_KINDS:
        raise ValueError(f"`kind` must be one of {RESIDUAL_KINDS}, got {kind!r}")
    image = _check_image_stack(image, "image")
    reconstruction = _check_image_stack(reconstruction, "reconstruction")
    check_same_shape(image, reconstruction, "image", "reconstruction")

    difference = image - reconstruction
    if kind == "absolute":
        return np.abs(difference)
    return np.square(difference)


def reconstruction_error(images, reconstructions, *, masks=None) -> float:
    """Mean absolute error of reconstructions of normal images, over brain pixels.

    Parameters
    ----------
    images, reconstructions : array_like, shape (N, H, W) or (H, W)
        Normal images and their reconstructions.
    masks : array_like of bool, optional
        Pixels to average over (the brain); default every pixel.

    Returns
    -------
    float
        The pooled mean of ``|image - reconstruction|`` over the selected pixels,
        the "reconstruction error" the paper sets against AP.

    Examples
    --------
    >>> import numpy as np
    >>> reconstruction_error(np.ones((2, 2)), np.zeros((2, 2)),
    ...                      masks=np.eye(2, dtype=bool))
    1.0
    """
    res = residual(images, reconstructions, kind="absolute")
    if masks is None:
        return float(res.mean())
    masks = check_binary_mask(masks, "masks")
    check_same_shape(res, masks, "images", "masks")
    if not masks.any():
        raise ValueError("`masks` selects no pixel")
    return float(res[masks].mean())
