"""Autoencoder with a spatial bottleneck, the paper's "AE (spatial, 8x8xc)"."""

from __future__ import annotations

import torch
from torch import nn

from ._blocks import Decoder, Encoder, PlainAutoencoder, check_input, check_int

__all__ = ["SpatialAutoencoder"]


class SpatialAutoencoder(PlainAutoencoder):
    """Convolutional autoencoder whose bottleneck is an 8x8 grid of few channels.

    The encoder reduces a ``(B, C, S, S)`` image to an 8x8 grid of features and
    a 1x1 convolution squeezes them to ``latent_channels``; a second 1x1
    convolution and the mirrored decoder map the grid back to an image. Unlike the
    dense bottleneck the latent keeps where things are. The paper trains this
    network with 8x8x1 and 8x8x2 latents.

    Parameters
    ----------
    image_size : int
        Side length ``S`` of the square input; a power of two >= 16. The encoder
        has ``log2(S / 8)`` stride-2 stages (4 at 128, 5 at 256).
    in_channels : int
        Number of image channels ``C``; the reconstruction has as many.
    latent_channels : int
        Number of channels of the 8x8 latent grid.
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
    scalar tensor, the contract shared by every network of
    :mod:`pitfalls.models`. The reconstruction has no final activation and is
    therefore unbounded.

    Examples
    --------
    >>> import torch
    >>> model = SpatialAutoencoder(image_size=32, latent_channels=2)
    >>> tuple(model.encode(torch.zeros(2, 1, 32, 32)).shape)
    (2, 2, 8, 8)
    >>> tuple(model(torch.zeros(2, 1, 32, 32))[0].shape)
    (2, 1, 32, 32)
    """

    def __init__(
        self,
        image_size: int = 128,
        in_channels: int = 1,
        latent_channels: int = 1,
        base_channels: int = 32,
        max_channels: int = 128,
    ) -> None:
        super().__init__()
        self.latent_channels = check_int(latent_channels, "latent_channels", 1)
        self.encoder = Encoder(image_size, in_channels, base_channels, max_channels)
        self.image_size = int(image_size)
        self.in_channels = int(in_channels)

        grid_channels = self.encoder.out_channels
        self.to_latent = nn.Conv2d(grid_channels, self.latent_channels, 1)
        self.from_latent = nn.Conv2d(self.latent_channels, grid_channels, 1)
        self.decoder = Decoder(image_size, in_channels, base_channels, max_channels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map images ``(B, C, S, S)`` to latent grids ``(B, c, 8, 8)``.

        Here ``c`` is ``latent_channels``.
        """
        check_input(x, self.in_channels, self.image_size)
        return self.to_latent(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map latent grids ``(B, c, 8, 8)`` to images ``(B, C, S, S)``."""
        return self.decoder(self.from_latent(z))
