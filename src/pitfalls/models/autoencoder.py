"""Autoencoder with a dense (vector) bottleneck, the paper's "AE (dense, d)"."""

from __future__ import annotations

import torch
from torch import nn

from ._blocks import (
    GRID_SIZE,
    Decoder,
    Encoder,
    PlainAutoencoder,
    check_input,
    check_int,
)

__all__ = ["DenseAutoencoder"]


class DenseAutoencoder(PlainAutoencoder):
    """Convolutional autoencoder whose bottleneck is a vector of ``latent_dim``.

    The encoder reduces a ``(B, C, S, S)`` image to an 8x8 grid of features,
    which is flattened and mapped by a linear layer to the latent vector; a second
    linear layer and the mirrored decoder map it back to an image. The paper
    trains this network with ``latent_dim`` 128 and 32.

    Parameters
    ----------
    image_size : int
        Side length ``S`` of the square input; a power of two >= 16. The encoder
        has ``log2(S / 8)`` stride-2 stages (4 at 128, 5 at 256).
    in_channels : int
        Number of image channels ``C``; the reconstruction has as many.
    latent_dim : int
        Length of the latent vector.
    base_channels : int
        Width of the first encoder stage; it doubles at each further stage.
    max_channels : int
        Cap on the stage width.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it and its value.
    TypeError
        If an integer argument is not an integer.

    Notes
    -----
    ``forward`` returns ``(reconstruction, aux_loss)`` with ``aux_loss`` a zero
    scalar tensor, so that every network of :mod:`pitfalls.models` shares the
    contract of :class:`~pitfalls.models.VQVAE`, whose auxiliary loss is not zero.
    The reconstruction has no final activation and is therefore unbounded.

    Examples
    --------
    >>> import torch
    >>> model = DenseAutoencoder(image_size=32, latent_dim=16)
    >>> reconstruction, aux_loss = model(torch.zeros(2, 1, 32, 32))
    >>> tuple(reconstruction.shape), float(aux_loss)
    ((2, 1, 32, 32), 0.0)
    >>> tuple(model.encode(torch.zeros(2, 1, 32, 32)).shape)
    (2, 16)
    """

    def __init__(
        self,
        image_size: int = 128,
        in_channels: int = 1,
        latent_dim: int = 128,
        base_channels: int = 32,
        max_channels: int = 128,
    ) -> None:
        super().__init__()
        self.latent_dim = check_int(latent_dim, "latent_dim", 1)
        self.encoder = Encoder(image_size, in_channels, base_channels, max_channels)
        self.image_size = int(image_size)
        self.in_channels = int(in_channels)

        grid_channels = self.encoder.out_channels
        self._grid_shape = (grid_channels, GRID_SIZE, GRID_SIZE)
        flat = grid_channels * GRID_SIZE * GRID_SIZE
        self.to_latent = nn.Linear(flat, self.latent_dim)
        self.from_latent = nn.Linear(self.latent_dim, flat)
        self.decoder = Decoder(image_size, in_channels, base_channels, max_channels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map images ``(B, C, S, S)`` to latent vectors ``(B, latent_dim)``."""
        check_input(x, self.in_channels, self.image_size)
        features = self.encoder(x)  # (B, W, 8, 8)
        return self.to_latent(features.flatten(start_dim=1))  # (B, latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map latent vectors ``(B, latent_dim)`` to images ``(B, C, S, S)``."""
        features = self.from_latent(z)  # (B, W * 8 * 8)
        features = features.view(-1, *self._grid_shape)  # (B, W, 8, 8)
        return self.decoder(features)
