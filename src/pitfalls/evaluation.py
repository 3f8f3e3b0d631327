"""Evaluate a reconstruction function as the paper's third experiment does.

One call gathers what the chapter on trained models shows for each model: the
reconstruction error on normal slices, AP against disk intensity when the model
reconstructs the normal slice (3.1) and the anomalous slice (3.2), and the
blur-equivalent sigma.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .scores import reconstruction_error
from .sweeps import blur_equivalent_sigma, model_intensity_curves, resolve_centres

__all__ = [
    "ModelEvaluation",
    "evaluate_reconstruction",
    "evaluation_table",
    "load_model_for",
]


@dataclass(frozen=True)
class ModelEvaluation:
    """What :func:`evaluate_reconstruction` measured for one reconstruction.

    Attributes
    ----------
    name : str
    error : float
        Mean absolute reconstruction error over the brain pixels of the
        normal slices.
    intensities : numpy.ndarray, shape (n_i,)
    ap_normal : numpy.ndarray, shape (n_i, N)
        Per-slice AP when the model reconstructs the normal slice (3.1).
    anomalous_intensities : numpy.ndarray, shape (n_a,)
    ap_anomalous : numpy.ndarray, shape (n_a, N)
        Per-slice AP when the model reconstructs the anomalous slice (3.2).
    blur_sigma : float
        Blur-equivalent sigma of the 3.1 curve.
    blur_distance : float
        Mean absolute difference between the 3.1 curve and that blur's curve.
    """

    name: str
    error: float
    intensities: np.ndarray
    ap_normal: np.ndarray
    anomalous_intensities: np.ndarray
    ap_anomalous: np.ndarray
    blur_sigma: float
    blur_distance: float

    @property
    def mean_ap_normal(self) -> float:
        """AP of 3.1 averaged over intensities and slices."""
        return float(self.ap_normal.mean())

    @property
    def mean_ap_anomalous(self) -> float:
        """AP of 3.2 averaged over intensities and slices."""
        return float(self.ap_anomalous.mean())


def evaluate_reconstruction(
    name,
    reconstruct,
    images,
    *,
    radius,
    intensities,
    anomalous_intensities,
    sigmas,
    blur_ap,
    centres=None,
    seed=0,
    masks=None,
) -> ModelEvaluation:
    """Measure one reconstruction function on normal slices with pasted disks.

    Parameters
    ----------
    name : str
        Label of the model in tables and figures.
    reconstruct : callable
        ``(B, H, W) -> (B, H, W)``.
    images : array_like, shape (N, H, W)
        Normal test slices.
    radius : float
        Disk radius.
    intensities : array_like
        Intensity grid of the 3.1 curves and of ``blur_ap``.
    anomalous_intensities : array_like
        Intensity grid of the 3.2 curves (each costs one reconstruction of
        every slice).
    sigmas : array_like
        Sigma grid of ``blur_ap``.
    blur_ap : array_like, shape (n_i, n_s, N)
        The blur landscape on the same slices and disks
        (:func:`pitfalls.sweeps.intensity_blur_landscape`), shared by models.
    centres, seed, masks
        Disk centres and brain masks as in the sweeps.

    Returns
    -------
    ModelEvaluation
    """
    images = np.asarray(images, dtype=np.float64)
    masks = images > 0 if masks is None else np.asarray(masks, dtype=bool)
    centres = resolve_centres(masks, centres, seed)
    recons = np.asarray(reconstruct(images), dtype=np.float64)
    error = reconstruction_error(images, recons, masks=masks)
    # 3.1 reconstructs exactly these normal slices, in one call: hand over the
    # reconstructions already made instead of running the model again
    match = blur_equivalent_sigma(
        lambda batch: recons,
        images,
        radius=radius,
        intensities=intensities,
        sigmas=sigmas,
        centres=centres,
        masks=masks,
        blur_ap=blur_ap,
    )
    ap_anomalous = model_intensity_curves(
        reconstruct,
        images,
        anomalous_intensities,
        radius=radius,
        centres=centres,
        masks=masks,
        mode="anomalous",
    )
    return ModelEvaluation(
        name=str(name),
        error=error,
        intensities=match.intensities,
        ap_normal=match.model_ap,
        anomalous_intensities=np.asarray(anomalous_intensities, dtype=np.float64),
        ap_anomalous=ap_anomalous,
        blur_sigma=match.sigma,
        blur_distance=match.distance,
    )


def evaluation_table(evaluations):
    """One row per model: error, mean APs and blur-equivalent sigma.

    Parameters
    ----------
    evaluations : sequence of ModelEvaluation

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``error``, ``ap_normal``, ``ap_anomalous``,
        ``blur_sigma``, ``blur_distance``.
    """
    import pandas as pd

    return pd.DataFrame(
        {
            "model": [e.name for e in evaluations],
            "error": [e.error for e in evaluations],
            "ap_normal": [e.mean_ap_normal for e in evaluations],
            "ap_anomalous": [e.mean_ap_anomalous for e in evaluations],
            "blur_sigma": [e.blur_sigma for e in evaluations],
            "blur_distance": [e.blur_distance for e in evaluations],
        }
    )


def load_model_for(checkpoint, image_size: int):
    """Load a checkpoint written by :mod:`pitfalls.train` for images of one size.

    Parameters
    ----------
    checkpoint : path-like
        A checkpoint file or the run directory holding it.
    image_size : int
        Working size of the chapter; the network must have been built for it.

    Returns
    -------
    (model, config)

    Raises
    ------
    ValueError
        If the checkpoint's image size differs (the message names both), or
        the file is not a valid checkpoint (see
        :func:`pitfalls.train.load_checkpoint`).
    """
    from .train import load_checkpoint

    model, config, _ = load_checkpoint(checkpoint)
    if config.image_size != image_size:
        raise ValueError(
            f"checkpoint {str(checkpoint)!r} was trained at {config.image_size}x"
            f"{config.image_size}, but the chapter works at {image_size}x{image_size}: "
            f"set `size` to {config.image_size}"
        )
    return model, config
