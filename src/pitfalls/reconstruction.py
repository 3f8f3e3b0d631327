"""Reconstructions: the Gaussian blur that stands in for a model, and trained models.

The paper's first experiment replaces the reconstruction of a model by the healthy
image blurred with a Gaussian of standard deviation ``sigma``: a larger ``sigma`` is
a worse reconstruction of normal tissue. Trained models are reached through
:func:`pitfalls.train.reconstruct`, which has the same contract as
:func:`gaussian_blur`: a batch of images in, a batch of reconstructions out.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._validate import check_non_negative

__all__ = ["gaussian_blur"]


def gaussian_blur(images, sigma, *, truncate: float = 4.0) -> np.ndarray:
    """Blur each image (not across images) with an isotropic Gaussian.

    Parameters
    ----------
    images : array_like, shape (H, W) or (N, H, W)
        Image or stack of images.
    sigma : float
        Standard deviation in pixels, ``>= 0``. ``0`` returns a float copy.
    truncate : float, optional
        Kernel radius in standard deviations (scipy's ``truncate``).

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape.

    Notes
    -----
    Borders are handled by reflection (scipy's ``mode="reflect"``); the slices
    of the book have a zero background around the brain, so the choice matters
    only for brains that touch the image border.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((5, 5)); x[2, 2] = 1.0
    >>> float(gaussian_blur(x, 1.0).sum().round(6))
    1.0
    >>> bool(np.array_equal(gaussian_blur(x, 0), x))
    True
    """
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim not in (2, 3):
        raise ValueError(f"`images` must be (H, W) or (N, H, W), got shape {arr.shape}")
    sigma = check_non_negative(sigma, "sigma")
    if sigma == 0:
        return arr.copy()
    axes_sigma = (sigma, sigma) if arr.ndim == 2 else (0.0, sigma, sigma)
    return ndimage.gaussian_filter(arr, axes_sigma, mode="reflect", truncate=truncate)
