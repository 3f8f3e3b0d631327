"""Evaluation of reconstruction functions under the third experiment's protocol."""

import numpy as np
import pytest

from pitfalls import data, evaluation, sweeps
from pitfalls.reconstruction import gaussian_blur
from pitfalls.scores import reconstruction_error


@pytest.fixture(scope="module")
def slices():
    return data.synthetic_subjects(2, size=64, n_slices=2, seed=3)


def test_evaluate_a_blur_as_a_model(slices):
    images, masks = slices.images, slices.masks
    intensities = np.linspace(0, 1, 11)
    sigmas = np.linspace(0, 3, 31)
    centres = sweeps.resolve_centres(masks, None, 1)
    blur_ap = sweeps.intensity_blur_landscape(
        images, intensities, sigmas, radius=5, centres=centres, masks=masks
    )

    def blur(batch):
        return gaussian_blur(batch, 1.2)

    result = evaluation.evaluate_reconstruction(
        "blur 1.2",
        blur,
        images,
        radius=5,
        intensities=intensities,
        anomalous_intensities=[0.2, 0.9],
        sigmas=sigmas,
        blur_ap=blur_ap,
        centres=centres,
        masks=masks,
    )
    assert result.blur_sigma == pytest.approx(1.2)
    assert result.blur_distance < 1e-12
    assert result.error == pytest.approx(
        reconstruction_error(images, blur(images), masks=masks)
    )
    expected = sweeps.model_intensity_curves(
        blur,
        images,
        [0.2, 0.9],
        radius=5,
        centres=centres,
        masks=masks,
        mode="anomalous",
    )
    np.testing.assert_array_equal(result.ap_anomalous, expected)
    table = evaluation.evaluation_table([result, result])
    assert list(table.model) == ["blur 1.2"] * 2
    assert table.ap_normal.iloc[0] == pytest.approx(result.ap_normal.mean())


def test_split_by_subject_keeps_subjects_apart(slices):
    bigger = data.synthetic_subjects(5, size=64, n_slices=2, seed=4)
    train, test = data.split_by_subject(bigger, test_fraction=0.4, seed=1)
    subject = lambda s: {row["subject"] for row in s.info}  # noqa: E731
    assert subject(train).isdisjoint(subject(test))
    assert len(subject(test)) == 2 and len(subject(train)) == 3
    assert len(train.images) + len(test.images) == len(bigger.images)
    again = data.split_by_subject(bigger, test_fraction=0.4, seed=1)[1]
    np.testing.assert_array_equal(again.images, test.images)
    with pytest.raises(ValueError, match="`test_fraction` must lie in"):
        data.split_by_subject(bigger, test_fraction=1.0)
    one = data.synthetic_subjects(1, size=64, n_slices=2, seed=4)
    with pytest.raises(ValueError, match="cannot split 1 subject"):
        data.split_by_subject(one)


def test_load_model_for_checks_the_size(tmp_path):
    from pitfalls.train import TrainConfig, save_checkpoint

    config = TrainConfig(
        model="dense_ae", model_kwargs={"latent_dim": 4}, image_size=32, steps=1
    )
    path = save_checkpoint(tmp_path / "run", config.build_model(), config)
    model, loaded = evaluation.load_model_for(tmp_path / "run", 32)
    assert loaded.image_size == 32
    with pytest.raises(
        ValueError, match="trained at 32x32, but the chapter works at 64x64"
    ):
        evaluation.load_model_for(path, 64)
