"""Tests of pitfalls.scores."""

import numpy as np
import pytest

from pitfalls.metrics import auroc, average_precision
from pitfalls.scores import RESIDUAL_KINDS, residual


def test_absolute_residual_by_hand():
    # |0.2 - 0.3| = 0.1, |0.5 - 0.5| = 0, |0.9 - 0.5| = 0.4, |0 - 1| = 1
    image = np.array([[0.2, 0.5], [0.9, 0.0]])
    reconstruction = np.array([[0.3, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(
        residual(image, reconstruction), [[0.1, 0.0], [0.4, 1.0]], atol=1e-15
    )


def test_squared_residual_by_hand():
    # 0.1**2 = 0.01, 0, 0.4**2 = 0.16, 1**2 = 1
    image = np.array([[0.2, 0.5], [0.9, 0.0]])
    reconstruction = np.array([[0.3, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(
        residual(image, reconstruction, kind="squared"),
        [[0.01, 0.0], [0.16, 1.0]],
        atol=1e-15,
    )


@pytest.mark.parametrize("kind", RESIDUAL_KINDS)
@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 5), (1, 1, 1)])
def test_shape_dtype_and_values(rng, kind, shape):
    image, reconstruction = rng.random(shape), rng.random(shape)
    result = residual(image, reconstruction, kind=kind)
    assert result.shape == shape and result.dtype == np.float64
    difference = image - reconstruction
    expected = np.abs(difference) if kind == "absolute" else difference**2
    np.testing.assert_array_equal(result, expected)


def test_stack_equals_each_image(rng):
    images, reconstructions = rng.random((3, 6, 7)), rng.random((3, 6, 7))
    stacked = residual(images, reconstructions)
    for i in range(3):
        single = residual(images[i], reconstructions[i])
        np.testing.assert_array_equal(stacked[i], single)


def test_unsigned_integers_do_not_wrap():
    # uint8 arithmetic would give 10 - 250 = 16; float64 gives |-240| = 240
    image = np.array([[10, 250]], dtype=np.uint8)
    reconstruction = np.array([[250, 10]], dtype=np.uint8)
    np.testing.assert_array_equal(residual(image, reconstruction), [[240.0, 240.0]])
    np.testing.assert_array_equal(
        residual(image, reconstruction, kind="squared"), [[57600.0, 57600.0]]
    )


def test_inputs_are_not_modified(rng):
    image, reconstruction = rng.random((5, 5)), rng.random((5, 5))
    image_before, reconstruction_before = image.copy(), reconstruction.copy()
    residual(image, reconstruction, kind="squared")
    np.testing.assert_array_equal(image, image_before)
    np.testing.assert_array_equal(reconstruction, reconstruction_before)


def test_squared_and_absolute_rank_alike(rng):
    # squaring is monotone on |x - r|, so rank metrics agree exactly
    image, reconstruction = rng.random((16, 16)), rng.random((16, 16))
    target = rng.random((16, 16)) < 0.2
    absolute = residual(image, reconstruction)
    squared = residual(image, reconstruction, kind="squared")
    assert average_precision(target, absolute) == average_precision(target, squared)
    assert auroc(target, absolute) == auroc(target, squared)


@pytest.mark.parametrize("kind", ["abs", "Absolute", "l2", None, 2])
def test_bad_kind_raises(kind):
    with pytest.raises(ValueError, match=rf"`kind` must be one of .*got {kind!r}"):
        residual(np.zeros((2, 2)), np.zeros((2, 2)), kind=kind)


def test_shape_mismatch_raises():
    with pytest.raises(
        ValueError,
        match=r"`image` and `reconstruction` must have the same shape, "
        r"got \(2, 2\) and \(2, 3\)",
    ):
        residual(np.zeros((2, 2)), np.zeros((2, 3)))


def test_stack_against_single_image_raises():
    with pytest.raises(ValueError, match="`image` and `reconstruction` must have"):
        residual(np.zeros((1, 2, 2)), np.zeros((2, 2)))


@pytest.mark.parametrize("shape", [(4,), (1, 2, 3, 4), ()])
def test_wrong_dimensions_raise(shape):
    with pytest.raises(ValueError, match=r"`image` must be 2D \(H, W\) or 3D"):
        residual(np.zeros(shape), np.zeros(shape))


def test_empty_image_raises():
    with pytest.raises(ValueError, match="`image` must not be empty"):
        residual(np.zeros((0, 3)), np.zeros((0, 3)))


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 2), dtype=bool), np.zeros((2, 2), dtype=complex)]
)
def test_non_real_reconstruction_raises(bad):
    with pytest.raises(TypeError, match="`reconstruction` must be (a )?real-valued"):
        residual(np.zeros((2, 2)), bad)


def test_reconstruction_error_pools_brain_pixels():
    from pitfalls.scores import reconstruction_error

    images = np.zeros((2, 3, 3))
    recons = np.full((2, 3, 3), 0.5)
    recons[1] = 0.1
    masks = np.zeros((2, 3, 3), bool)
    masks[0, 0, 0] = True
    masks[1, :2] = True  # 6 pixels at 0.1, 1 pixel at 0.5
    assert reconstruction_error(images, recons, masks=masks) == pytest.approx(1.1 / 7)
    assert reconstruction_error(images, recons) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="`masks` selects no pixel"):
        reconstruction_error(images, recons, masks=np.zeros_like(masks))
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_error(images, recons, masks=masks[0])
