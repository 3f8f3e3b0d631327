"""Tests of the paper's networks: shapes, argument checks and the forward contract."""

import math

import pytest
import torch

from pitfalls.models import (
    PAPER_MODELS,
    VQVAE,
    DenseAutoencoder,
    SpatialAutoencoder,
    create_model,
    model_arguments,
    paper_model_config,
)
from pitfalls.models._blocks import Decoder, Encoder, stage_channels

# (name, kwargs, input shape, expected latent shape from encode)
SHAPE_CASES = [
    ("dense_ae", {"image_size": 16, "latent_dim": 8}, (2, 1, 16, 16), (2, 8)),
    ("dense_ae", {"image_size": 32, "latent_dim": 32}, (3, 1, 32, 32), (3, 32)),
    ("dense_ae", {"image_size": 64, "latent_dim": 128}, (2, 1, 64, 64), (2, 128)),
    ("dense_ae", {"image_size": 128, "latent_dim": 32}, (1, 1, 128, 128), (1, 32)),
    ("dense_ae", {"image_size": 128, "latent_dim": 128}, (2, 1, 128, 128), (2, 128)),
    (
        "dense_ae",
        {"image_size": 32, "in_channels": 3, "latent_dim": 4},
        (2, 3, 32, 32),
        (2, 4),
    ),
    (
        "spatial_ae",
        {"image_size": 32, "latent_channels": 1},
        (2, 1, 32, 32),
        (2, 1, 8, 8),
    ),
    (
        "spatial_ae",
        {"image_size": 64, "latent_channels": 2},
        (2, 1, 64, 64),
        (2, 2, 8, 8),
    ),
    (
        "spatial_ae",
        {"image_size": 128, "latent_channels": 1},
        (1, 1, 128, 128),
        (1, 1, 8, 8),
    ),
    (
        "spatial_ae",
        {"image_size": 128, "latent_channels": 2},
        (2, 1, 128, 128),
        (2, 2, 8, 8),
    ),
    (
        "vqvae",
        {"image_size": 32, "num_embeddings": 16, "embedding_dim": 4},
        (2, 1, 32, 32),
        (2, 4, 8, 8),
    ),
    ("vqvae", {"image_size": 64}, (2, 1, 64, 64), (2, 64, 8, 8)),
    ("vqvae", {"image_size": 128}, (1, 1, 128, 128), (1, 64, 8, 8)),
]


@pytest.mark.parametrize(("name", "kwargs", "input_shape", "latent_shape"), SHAPE_CASES)
def test_output_and_latent_shapes(name, kwargs, input_shape, latent_shape):
    torch.manual_seed(0)
    model = create_model(name, **kwargs)
    x = torch.rand(input_shape)
    with torch.no_grad():
        reconstruction, aux_loss = model(x)
        latent = model.encode(x)
    assert reconstruction.shape == input_shape
    assert aux_loss.shape == ()
    assert latent.shape == latent_shape


@pytest.mark.parametrize(
    ("image_size", "expected"),
    [
        (16, [32]),
        (32, [32, 64]),
        (64, [32, 64, 128]),
        (128, [32, 64, 128, 128]),
        (256, [32, 64, 128, 128, 128]),
    ],
)
def test_stage_widths_double_from_32_and_cap_at_128(image_size, expected):
    assert stage_channels(image_size, 32, 128) == expected
    encoder = Encoder(image_size)
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == expected
    assert all(c.stride == (2, 2) and c.kernel_size == (3, 3) for c in convs)
    features = encoder(torch.zeros(1, 1, image_size, image_size))
    assert features.shape == (1, expected[-1], 8, 8)


def test_decoder_mirrors_encoder_and_ends_in_1x1_convolution():
    decoder = Decoder(128)
    transposed = [
        m for m in decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d)
    ]
    assert [(t.in_channels, t.out_channels) for t in transposed] == [
        (128, 128),
        (128, 64),
        (64, 32),
        (32, 32),
    ]
    last = decoder.layers[-1]
    assert isinstance(last, torch.nn.Conv2d) and last.kernel_size == (1, 1)
    assert last.out_channels == 1
    assert decoder(torch.zeros(2, 128, 8, 8)).shape == (2, 1, 128, 128)


@pytest.mark.parametrize("cls", [DenseAutoencoder, SpatialAutoencoder, VQVAE])
@pytest.mark.parametrize("image_size", [100, 8, 0, -16, 48])
def test_image_size_must_be_power_of_two_at_least_16(cls, image_size):
    with pytest.raises(ValueError, match=rf"`image_size`.*got {image_size}"):
        cls(image_size=image_size)


@pytest.mark.parametrize("image_size", [128.0, "128", True])
def test_image_size_must_be_an_integer(image_size):
    with pytest.raises(TypeError, match="`image_size`"):
        DenseAutoencoder(image_size=image_size)


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "match"),
    [
        (DenseAutoencoder, {"latent_dim": 0}, ValueError, r"`latent_dim`.*got 0"),
        (DenseAutoencoder, {"latent_dim": 2.5}, TypeError, r"`latent_dim`.*2\.5"),
        (DenseAutoencoder, {"in_channels": 0}, ValueError, r"`in_channels`.*got 0"),
        (SpatialAutoencoder, {"latent_channels": 0}, ValueError, r"`latent_channels`"),
        (VQVAE, {"num_embeddings": 0}, ValueError, r"`num_embeddings`.*got 0"),
        (VQVAE, {"embedding_dim": -1}, ValueError, r"`embedding_dim`.*got -1"),
        (VQVAE, {"commitment_cost": -0.5}, ValueError, r"`commitment_cost`.*-0\.5"),
        (VQVAE, {"commitment_cost": math.nan}, ValueError, r"`commitment_cost`.*nan"),
        (VQVAE, {"commitment_cost": "0.25"}, TypeError, r"`commitment_cost`"),
        (
            SpatialAutoencoder,
            {"base_channels": 64, "max_channels": 32},
            ValueError,
            r"`max_channels`.*\(64\).*got 32",
        ),
        (DenseAutoencoder, {"base_channels": 0}, ValueError, r"`base_channels`"),
    ],
)
def test_constructor_errors_name_the_parameter(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls(image_size=32, **kwargs)


@pytest.mark.parametrize("name", ["dense_ae", "spatial_ae", "vqvae"])
def test_forward_rejects_wrong_input_shape(name):
    model = create_model(name, image_size=32)
    with pytest.raises(ValueError, match=r"`x` must have shape \(B, 1, 32, 32\)"):
        model(torch.zeros(2, 1, 64, 64))
    with pytest.raises(ValueError, match=r"`x`.*got \(1, 32, 32\)"):
        model(torch.zeros(1, 32, 32))


def test_create_model_rejects_unknown_name_and_argument():
    with pytest.raises(ValueError, match=r"`name` must be one of .*got 'vae'"):
        create_model("vae")
    with pytest.raises(ValueError, match=r"unknown \['latent_channels'\]"):
        create_model("dense_ae", image_size=32, latent_channels=2)
    assert "latent_dim" in model_arguments("dense_ae")


def test_paper_models_are_the_five_configurations():
    assert list(PAPER_MODELS) == [
        "AE (dense, 128)",
        "AE (dense, 32)",
        "AE (spatial, 8x8x1)",
        "AE (spatial, 8x8x2)",
        "VQ-VAE",
    ]
    expected_types = [
        DenseAutoencoder,
        DenseAutoencoder,
        SpatialAutoencoder,
        SpatialAutoencoder,
        VQVAE,
    ]
    for config, cls in zip(PAPER_MODELS.values(), expected_types, strict=True):
        model = create_model(config["model"], image_size=128, **config["model_kwargs"])
        assert type(model) is cls
    assert (
        create_model(
            "dense_ae", **PAPER_MODELS["AE (dense, 32)"]["model_kwargs"]
        ).latent_dim
        == 32
    )


def test_paper_model_config_returns_an_independent_copy():
    config = paper_model_config("AE (dense, 128)")
    config["model_kwargs"]["latent_dim"] = 7
    assert PAPER_MODELS["AE (dense, 128)"]["model_kwargs"]["latent_dim"] == 128
    with pytest.raises(ValueError, match=r"`label`.*got 'AE'"):
        paper_model_config("AE")


@pytest.mark.parametrize("name", ["dense_ae", "spatial_ae"])
def test_autoencoders_return_zero_aux_loss(name):
    model = create_model(name, image_size=16)
    _, aux_loss = model(torch.rand(2, 1, 16, 16))
    assert aux_loss.item() == 0.0


def test_vqvae_quantizes_to_the_nearest_codebook_vector():
    torch.manual_seed(0)
    model = VQVAE(image_size=16, num_embeddings=8, embedding_dim=3)
    z = torch.randn(2, 3, 8, 8)
    quantized, vq_loss, indices = model.quantize(z)
    codes = model.codebook.weight.detach()
    flat = z.permute(0, 2, 3, 1).reshape(-1, 3)
    nearest = torch.cdist(flat, codes).argmin(dim=1)
    assert torch.equal(indices.reshape(-1), nearest)
    expected = codes[nearest].view(2, 8, 8, 3).permute(0, 3, 1, 2)
    torch.testing.assert_close(quantized, expected)
    # codebook term + 0.25 * commitment term, both the same mean squared distance
    mse = torch.mean((z - expected) ** 2)
    torch.testing.assert_close(vq_loss, 1.25 * mse)


def test_vqvae_gradients_reach_encoder_and_codebook():
    torch.manual_seed(0)
    model = VQVAE(image_size=16, num_embeddings=8, embedding_dim=4)
    x = torch.rand(2, 1, 16, 16)
    reconstruction, aux_loss = model(x)
    assert aux_loss.item() > 0
    ((reconstruction - x).abs().mean() + aux_loss).backward()
    first_conv = model.encoder.layers[0]
    assert first_conv.weight.grad is not None  # straight-through estimator
    assert first_conv.weight.grad.abs().sum() > 0
    assert model.codebook.weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("dense_ae", {"latent_dim": 16}),
        ("spatial_ae", {"latent_channels": 2}),
        ("vqvae", {"num_embeddings": 32, "embedding_dim": 8}),
    ],
)
def test_one_optimisation_step_lowers_the_loss(name, kwargs):
    torch.manual_seed(0)
    model = create_model(name, image_size=32, **kwargs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=2e-2)
    x = torch.rand(4, 1, 32, 32)

    def loss():
        reconstruction, aux_loss = model(x)
        return (reconstruction - x).abs().mean() + aux_loss

    before = loss()
    before.backward()
    optimizer.step()
    with torch.no_grad():
        after = loss()
    assert after.item() < before.item()


def test_reconstruction_is_unbounded():
    # No final activation: a far-off input is reconstructed outside [0, 1].
    torch.manual_seed(0)
    model = DenseAutoencoder(image_size=16, latent_dim=4).eval()
    with torch.no_grad():
        out, _ = model(torch.full((1, 1, 16, 16), 50.0))
    assert out.min() < 0 or out.max() > 1
