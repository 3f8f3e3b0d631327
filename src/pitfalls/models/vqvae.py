"""Vector-quantised variational autoencoder, the paper's "VQ-VAE"."""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import nn

from ._blocks import Decoder, Encoder, check_input, check_int

__all__ = ["VQVAE"]


class VQVAE(nn.Module):
    r"""VQ-VAE with an 8x8 grid of codebook vectors as its latent.

    The encoder reduces a ``(B, C, S, S)`` image to an 8x8 grid; a 1x1
    convolution maps it to ``embedding_dim`` channels, each grid vector is
    replaced by its nearest codebook vector, and a 1x1 convolution and the
    mirrored decoder map the quantised grid back to an image (van den Oord et
    al., 2017).

    Parameters
    ----------
    image_size : int
        Side length ``S`` of the square input; a power of two >= 16. The encoder
        has ``log2(S / 8)`` stride-2 stages (4 at 128, 5 at 256).
    in_channels : int
        Number of image channels ``C``; the reconstruction has as many.
    num_embeddings : int
        Number of codebook vectors ``K``.
    embedding_dim : int
        Length ``D`` of each codebook vector.
    commitment_cost : float
        Weight ``beta`` of the commitment term of the auxiliary loss; >= 0.
    base_channels : int
        Width of the first encoder stage; it doubles at each further stage.
    max_channels : int
        Cap on the stage width.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it and its value.
    TypeError
        If an argument has the wrong type.

    Notes
    -----
    ``forward`` returns ``(reconstruction, aux_loss)``, the contract shared by
    every network of :mod:`pitfalls.models`. Here ``aux_loss`` is the vector
    quantisation loss

    .. math:: \lVert \mathrm{sg}[z_e] - e \rVert_2^2
              + \beta \lVert z_e - \mathrm{sg}[e] \rVert_2^2,

    (both terms averaged over elements, ``sg`` the stop-gradient), which moves
    the codebook towards the encoder outputs and commits the encoder to its
    codes. Gradients pass the non-differentiable nearest-neighbour step with the
    straight-through estimator. The codebook is updated by this loss, not by
    exponential moving averages. The reconstruction has no final activation and
    is therefore unbounded.

    References
    ----------
    .. [1] A. van den Oord, O. Vinyals, K. Kavukcuoglu, "Neural Discrete
       Representation Learning", NeurIPS 2017.

    Examples
    --------
    >>> import torch
    >>> model = VQVAE(image_size=32, num_embeddings=16, embedding_dim=4)
    >>> reconstruction, aux_loss = model(torch.zeros(2, 1, 32, 32))
    >>> tuple(reconstruction.shape), aux_loss.ndim
    ((2, 1, 32, 32), 0)
    >>> latents = model.encode(torch.zeros(2, 1, 32, 32))
    >>> quantized, loss, indices = model.quantize(latents)
    >>> tuple(quantized.shape), tuple(indices.shape)
    ((2, 4, 8, 8), (2, 8, 8))
    """

    def __init__(
        self,
        image_size: int = 128,
        in_channels: int = 1,
        num_embeddings: int = 512,
        embedding_dim: int = 64,
        commitment_cost: float = 0.25,
        base_channels: int = 32,
        max_channels: int = 128,
    ) -> None:
        super().__init__()
        self.num_embeddings = check_int(num_embeddings, "num_embeddings", 1)
        self.embedding_dim = check_int(embedding_dim, "embedding_dim", 1)
        if isinstance(commitment_cost, bool) or not isinstance(
            commitment_cost, numbers.Real
        ):
            raise TypeError(
                f"`commitment_cost` must be a real number, got {commitment_cost!r}"
            )
        if not (0 <= commitment_cost < float("inf")):  # also rejects NaN
            raise ValueError(
                f"`commitment_cost` must be finite and >= 0, got {commitment_cost!r}"
            )
        self.commitment_cost = float(commitment_cost)
        self.encoder = Encoder(image_size, in_channels, base_channels, max_channels)
        self.image_size = int(image_size)
        self.in_channels = int(in_channels)

        grid_channels = self.encoder.out_channels
        self.to_embedding = nn.Conv2d(grid_channels, self.embedding_dim, 1)
        self.codebook = nn.Embedding(self.num_embeddings, self.embedding_dim)
        # Small uniform start, as in the original VQ-VAE: codes begin near the
        # origin, where freshly initialised encoder outputs also lie.
        nn.init.uniform_(
            self.codebook.weight, -1 / self.num_embeddings, 1 / self.num_embeddings
        )
        self.from_embedding = nn.Conv2d(self.embedding_dim, grid_channels, 1)
        self.decoder = Decoder(image_size, in_channels, base_channels, max_channels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map images ``(B, C, S, S)`` to unquantised latents ``(B, D, 8, 8)``."""
        check_input(x, self.in_channels, self.image_size)
        return self.to_embedding(self.encoder(x))

    def quantize(
        self, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Replace each latent vector by its nearest codebook vector.

        Parameters
        ----------
        z : torch.Tensor
            Unquantised latents of shape ``(B, D, h, w)``, as from :meth:`encode`.

        Returns
        -------
        quantized : torch.Tensor
            Shape ``(B, D, h, w)``; equal to the chosen codebook vectors in the
            forward pass, with the gradient of ``z`` (straight-through).
        vq_loss : torch.Tensor
            Scalar codebook plus ``commitment_cost`` times commitment loss.
        indices : torch.Tensor
            Codebook index of each grid cell, shape ``(B, h, w)``, dtype int64.
        """
        batch, dim, height, width = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, dim)  # (B*h*w, D)
        codes = self.codebook.weight  # (K, D)
        # Squared Euclidean distance expanded, to avoid a (B*h*w, K, D) tensor.
        distances = (
            flat.pow(2).sum(dim=1, keepdim=True)
            - 2 * flat @ codes.t()
            + codes.pow(2).sum(dim=1)
        )  # (B*h*w, K)
        indices = distances.argmin(dim=1)  # (B*h*w,)
        chosen = self.codebook(indices)  # (B*h*w, D)
        chosen = chosen.view(batch, height, width, dim).permute(0, 3, 1, 2)

        codebook_loss = F.mse_loss(chosen, z.detach())
        commitment_loss = F.mse_loss(z, chosen.detach())
        vq_loss = codebook_loss + self.commitment_cost * commitment_loss
        quantized = z + (chosen - z).detach()  # straight-through estimator
        return quantized, vq_loss, indices.view(batch, height, width)

    def decode(self, quantized: torch.Tensor) -> torch.Tensor:
        """Map quantised latents ``(B, D, 8, 8)`` to images ``(B, C, S, S)``."""
        return self.decoder(self.from_embedding(quantized))

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
            Scalar vector-quantisation loss (codebook plus weighted commitment);
            add it to the reconstruction loss when training.
        """
        quantized, vq_loss, _ = self.quantize(self.encode(x))
        return self.decode(quantized), vq_loss
