"""The paper's networks: dense and spatial autoencoders and a VQ-VAE.

Every network takes images ``(B, C, S, S)`` with ``S`` a power of two >= 16,
shares one convolutional encoder/decoder (stride-2 stages down to an 8x8 grid,
widths doubling from 32 and capped at 128) and differs only in its bottleneck.
``forward`` always returns ``(reconstruction, aux_loss)``; ``aux_loss`` is a
zero scalar for the autoencoders and the vector-quantisation loss for the
VQ-VAE, so one training loop serves all of them. Reconstructions have no final
activation (unbounded output).

Examples
--------
>>> model = create_model("spatial_ae", image_size=32, latent_channels=2)
>>> type(model).__name__
'SpatialAutoencoder'
>>> sorted(PAPER_MODELS)[0]
'AE (dense, 128)'
>>> PAPER_MODELS["AE (dense, 32)"]
{'model': 'dense_ae', 'model_kwargs': {'latent_dim': 32}}
"""

from __future__ import annotations

import copy
import inspect

from torch import nn

from .autoencoder import DenseAutoencoder
from .spatial_autoencoder import SpatialAutoencoder
from .vqvae import VQVAE

__all__ = [
    "DenseAutoencoder",
    "SpatialAutoencoder",
    "VQVAE",
    "MODEL_CLASSES",
    "PAPER_MODELS",
    "create_model",
    "model_arguments",
    "paper_model_config",
]

#: Factory names and the class each one builds.
MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "dense_ae": DenseAutoencoder,
    "spatial_ae": SpatialAutoencoder,
    "vqvae": VQVAE,
}

#: The five networks of the paper's trained-model experiment, keyed by the label
#: used in its figures. Each value holds ``model`` (a :func:`create_model` name)
#: and ``model_kwargs``; ``TrainConfig(**PAPER_MODELS[label], ...)`` accepts it
#: directly. Use :func:`paper_model_config` for a copy that is safe to modify.
PAPER_MODELS: dict[str, dict] = {
    "AE (dense, 128)": {"model": "dense_ae", "model_kwargs": {"latent_dim": 128}},
    "AE (dense, 32)": {"model": "dense_ae", "model_kwargs": {"latent_dim": 32}},
    "AE (spatial, 8x8x1)": {
        "model": "spatial_ae",
        "model_kwargs": {"latent_channels": 1},
    },
    "AE (spatial, 8x8x2)": {
        "model": "spatial_ae",
        "model_kwargs": {"latent_channels": 2},
    },
    "VQ-VAE": {
        "model": "vqvae",
        "model_kwargs": {
            "num_embeddings": 512,
            "embedding_dim": 64,
            "commitment_cost": 0.25,
        },
    },
}


def paper_model_config(label: str) -> dict:
    """Return a deep copy of ``PAPER_MODELS[label]``.

    Parameters
    ----------
    label : str
        One of the keys of :data:`PAPER_MODELS`.

    Returns
    -------
    dict
        ``{"model": name, "model_kwargs": {...}}``.

    Raises
    ------
    ValueError
        If ``label`` is not a paper model.
    """
    if label not in PAPER_MODELS:
        raise ValueError(
            f"`label` must be one of {sorted(PAPER_MODELS)}, got {label!r}"
        )
    return copy.deepcopy(PAPER_MODELS[label])


def create_model(name: str, **kwargs) -> nn.Module:
    """Build a network by name.

    Parameters
    ----------
    name : {"dense_ae", "spatial_ae", "vqvae"}
        Which network: :class:`DenseAutoencoder` (takes ``latent_dim``),
        :class:`SpatialAutoencoder` (takes ``latent_channels``) or
        :class:`VQVAE` (takes ``num_embeddings``, ``embedding_dim``,
        ``commitment_cost``).
    **kwargs
        Constructor arguments of that class, such as ``image_size``.

    Returns
    -------
    torch.nn.Module
        The network, freshly initialised from torch's global random state.

    Raises
    ------
    ValueError
        If ``name`` is unknown or a keyword is not an argument of the class.
    """
    if name not in MODEL_CLASSES:
        raise ValueError(f"`name` must be one of {sorted(MODEL_CLASSES)}, got {name!r}")
    cls = MODEL_CLASSES[name]
    accepted = model_arguments(name)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"`{name}` ({cls.__name__}) takes the arguments {accepted}, "
            f"got unknown {unknown}"
        )
    return cls(**kwargs)


def model_arguments(name: str) -> list[str]:
    """Return the constructor argument names of the network called ``name``."""
    if name not in MODEL_CLASSES:
        raise ValueError(f"`name` must be one of {sorted(MODEL_CLASSES)}, got {name!r}")
    signature = inspect.signature(MODEL_CLASSES[name].__init__)
    return [p for p in signature.parameters if p != "self"]
