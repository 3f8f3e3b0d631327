"""Convolutional encoder and decoder shared by every network of the book.

The encoder halves the image with stride-2 3x3 convolutions until an 8x8 grid is
left; the decoder mirrors it with stride-2 transposed convolutions. Each
convolution is followed by batch normalisation and a leaky ReLU, except the final
1x1 convolution of the decoder, which has no activation (see the Notes of
:class:`Decoder`).
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

from .._validate import check_int

__all__ = [
    "GRID_SIZE",
    "check_image_size",
    "check_input",
    "check_int",
    "stage_channels",
    "Encoder",
    "Decoder",
]

#: Side length of the grid the encoder stops at, whatever the image size.
GRID_SIZE = 8


def check_image_size(image_size) -> int:
    """Return ``image_size`` as int, raising unless it is a power of two >= 16.

    The encoder halves the image until :data:`GRID_SIZE` (8) is reached, so the
    side length must be 8 times a power of two, and at least one halving is needed.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral):
        raise TypeError(f"`image_size` must be an integer, got {image_size!r}")
    size = int(image_size)
    if size < 2 * GRID_SIZE or size & (size - 1):
        raise ValueError(
            f"`image_size` must be a power of two >= {2 * GRID_SIZE}, "
            f"got {image_size!r}"
        )
    return size


def stage_channels(image_size: int, base_channels: int, max_channels: int) -> list[int]:
    """Return the output width of each encoder stage for a square image.

    There are ``log2(image_size / 8)`` stages; the width starts at
    ``base_channels`` and doubles at each stage, capped at ``max_channels``.

    Examples
    --------
    >>> stage_channels(128, 32, 128)
    [32, 64, 128, 128]
    >>> stage_channels(256, 32, 128)
    [32, 64, 128, 128, 128]
    """
    size = check_image_size(image_size)
    num_stages = (size // GRID_SIZE).bit_length() - 1
    return [min(base_channels * 2**i, max_channels) for i in range(num_stages)]


def _check_widths(base_channels, max_channels) -> tuple[int, int]:
    base = check_int(base_channels, "base_channels", 1)
    cap = check_int(max_channels, "max_channels", 1)
    if cap < base:
        raise ValueError(
            f"`max_channels` must be >= `base_channels` ({base}), got {max_channels!r}"
        )
    return base, cap


class Encoder(nn.Module):
    """Downsample ``(B, C, S, S)`` images to a ``(B, W, 8, 8)`` feature grid.

    Parameters
    ----------
    image_size : int
        Side length ``S`` of the square input; a power of two >= 16.
    in_channels : int
        Number of input channels ``C``.
    base_channels : int
        Width of the first stage; each further stage doubles it.
    max_channels : int
        Cap on the width; also the width ``W`` of the output grid at sizes >= 64.

    Attributes
    ----------
    channels : list of int
        Output width of each stage; ``out_channels`` is the last one.
    """

    def __init__(
        self,
        image_size: int,
        in_channels: int = 1,
        base_channels: int = 32,
        max_channels: int = 128,
    ) -> None:
        super().__init__()
        base, cap = _check_widths(base_channels, max_channels)
        self.in_channels = check_int(in_channels, "in_channels", 1)
        self.channels = stage_channels(image_size, base, cap)
        self.out_channels = self.channels[-1]

        layers: list[nn.Module] = []
        previous = self.in_channels
        for width in self.channels:
            # No bias: the batch norm that follows would cancel it.
            layers.append(
                nn.Conv2d(previous, width, 3, stride=2, padding=1, bias=False)
            )
            layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU())
            previous = width
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the ``(B, out_channels, 8, 8)`` features of ``x``."""
        return self.layers(x)


class Decoder(nn.Module):
    """Upsample a ``(B, W, 8, 8)`` feature grid to ``(B, C, S, S)`` images.

    The mirror image of :class:`Encoder` built with the same arguments: the
    stage widths are traversed in reverse, each transposed convolution exactly
    doubles the grid, and a final 1x1 convolution maps to ``out_channels``.

    Parameters
    ----------
    image_size : int
        Side length ``S`` of the output; a power of two >= 16.
    out_channels : int
        Number of output channels ``C``.
    base_channels : int
        Width of the last stage (the first of the encoder).
    max_channels : int
        Cap on the width; the expected input width at sizes >= 64.

    Notes
    -----
    The output has no final activation: reconstructions are unbounded, as in the
    paper's networks. Images in [0, 1] and an L1 loss keep them close to that
    range in practice; clip downstream if a bounded image is needed.
    """

    def __init__(
        self,
        image_size: int,
        out_channels: int = 1,
        base_channels: int = 32,
        max_channels: int = 128,
    ) -> None:
        super().__init__()
        base, cap = _check_widths(base_channels, max_channels)
        self.out_channels = check_int(out_channels, "out_channels", 1)
        encoder_channels = stage_channels(image_size, base, cap)
        self.in_channels = encoder_channels[-1]
        # Stage i maps the width of encoder stage n-1-i to that of stage n-2-i;
        # the last stage keeps the first encoder width.
        widths = encoder_channels[::-1] + [encoder_channels[0]]

        layers: list[nn.Module] = []
        for previous, width in zip(widths[:-1], widths[1:], strict=True):
            # kernel 3, padding 1, output_padding 1: output exactly twice the input.
            layers.append(
                nn.ConvTranspose2d(
                    previous,
                    width,
                    3,
                    stride=2,
                    padding=1,
                    output_padding=1,
                    bias=False,
                )
            )
            layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU())
        layers.append(nn.Conv2d(widths[-1], self.out_channels, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return the ``(B, out_channels, S, S)`` images decoded from ``features``."""
        return self.layers(features)


def check_input(x: torch.Tensor, in_channels: int, image_size: int) -> None:
    """Raise ``ValueError`` unless ``x`` has shape ``(B, in_channels, S, S)``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`x` must be a torch.Tensor, got {type(x).__name__}")
    expected = (in_channels, image_size, image_size)
    if x.ndim != 4 or tuple(x.shape[1:]) != expected:
        raise ValueError(
            f"`x` must have shape (B, {in_channels}, {image_size}, {image_size}), "
            f"got {tuple(x.shape)}"
        )


class PlainAutoencoder(nn.Module):
    """Shared ``forward`` of the autoencoders without an auxiliary loss.

    Subclasses define ``encode`` and ``decode``.
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruct ``x``.

        Parameters
        ----------
        x : torch.Tensor
            Images of shape ``(B, C, S, S)``.

        Returns
        -------
        reconstruction : torch.Tensor
            Shape ``(B, C, S, S)``, unbounded.
        aux_loss : torch.Tensor
            Zero scalar: a plain autoencoder has no loss besides reconstruction.
        """
        reconstruction = self.decode(self.encode(x))
        return reconstruction, x.new_zeros(())
