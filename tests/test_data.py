"""Tests for pitfalls.data: template slices, NIfTI folders, synthetic subjects."""

import gzip
import re

import nibabel as nib
import numpy as np
import pytest

from pitfalls.data import (
    Slices,
    equalize_histogram,
    load_mni152_volumes,
    load_slices,
    normalise,
    synthetic_subjects,
)

# The MNI152 2009 template: 1 mm, (x, y, z) = (197, 233, 189); slices 38..130 have
# at least half the largest axial brain area (computed once from the template).
TEMPLATE_SHAPE = (197, 233, 189)
ELIGIBLE = np.arange(38, 131)


def _check_slices(result, n, size):
    assert isinstance(result, Slices)
    assert result.images.shape == (n, size, size)
    assert result.images.dtype == np.float64
    assert result.masks.dtype == bool
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    np.testing.assert_array_equal(result.masks, result.images > 0)
    assert result.masks.any(axis=(1, 2)).all()
    assert len(result.info) == n
    assert all({"source", "subject", "slice"} <= set(row) for row in result.info)


@pytest.fixture(scope="module")
def mni_256():
    return load_slices("mni152")


# ---------------------------------------------------------------------- template


def test_mni152_default_is_every_eligible_slice_at_256(mni_256):
    _check_slices(mni_256, ELIGIBLE.size, 256)
    assert [row["slice"] for row in mni_256.info] == ELIGIBLE.tolist()
    assert {row["source"] for row in mni_256.info} == {"mni152"}
    # 233 x 197 zero-padded, centred: rows 11..243, cols 29..225 may hold brain.
    outside = np.ones((256, 256), dtype=bool)
    outside[11:244, 29:226] = False
    assert not mni_256.masks[:, outside].any()
    assert mni_256.images.max() == 1.0


def test_mni152_orientation_matches_the_volume():
    t1 = load_mni152_volumes()["t1"]
    result = load_slices("mni152", slices=[84])
    expected = np.zeros((256, 256))
    # Rows anterior -> posterior (y reversed), columns left -> right (x).
    expected[11:244, 29:226] = t1[:, ::-1, 84].T
    np.testing.assert_array_equal(result.masks[0], expected > 0)
    ratio = result.images[0][expected > 0] / expected[expected > 0]
    unclipped = result.images[0][expected > 0] < 1
    np.testing.assert_allclose(ratio[unclipped], ratio[unclipped][0])


def test_mni152_at_128_is_resized():
    result = load_slices("mni152", size=128, n_slices=4)
    _check_slices(result, 4, 128)


def test_n_slices_are_evenly_spaced_among_eligible():
    result = load_slices("mni152", size=32, n_slices=3)
    assert [row["slice"] for row in result.info] == [38, 84, 130]


def test_explicit_slices_are_kept_in_order():
    result = load_slices("mni152", size=32, slices=[100, 40, 60])
    assert [row["slice"] for row in result.info] == [100, 40, 60]
    _check_slices(result, 3, 32)


def test_min_area_fraction_widens_the_selection():
    result = load_slices("mni152", size=16, min_area_fraction=0.1)
    assert len(result.info) > ELIGIBLE.size


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"slices": [10], "n_slices": 2}, ValueError, "either `slices`"),
        ({"slices": [500]}, ValueError, r"\[500\] lie outside"),
        ({"slices": [188]}, ValueError, r"slices \[188\] hold no brain"),
        ({"slices": [-1]}, ValueError, "`slices` must be >= 0"),
        ({"slices": [1.5]}, TypeError, "integer z indices"),
        ({"n_slices": 94}, ValueError, "`n_slices`=94 exceeds the 93"),
        ({"n_slices": 0}, ValueError, "`n_slices` must be >= 1"),
        ({"size": 0}, ValueError, "`size` must be >= 1"),
        ({"size": 64.0}, TypeError, "`size` must be an integer"),
        ({"min_area_fraction": 0}, ValueError, "`min_area_fraction`"),
        ({"percentile": 101}, ValueError, "`percentile`"),
    ],
)
def test_load_slices_rejects_bad_options(kwargs, error, match):
    kwargs = {"size": 16, **kwargs}
    with pytest.raises(error, match=match):
        load_slices("mni152", **kwargs)


def test_load_slices_rejects_bad_source_type():
    with pytest.raises(TypeError, match="`source` must be"):
        load_slices(42)


def test_array_source():
    volume = np.zeros((12, 14, 6))
    volume[3:9, 2:12, 1:5] = np.linspace(0.1, 2.0, 6 * 10 * 4).reshape(6, 10, 4)
    result = load_slices(volume, size=16)
    _check_slices(result, 4, 16)
    assert [row["subject"] for row in result.info] == ["array"] * 4
    with pytest.raises(ValueError, match="`source` array must be a 3D"):
        load_slices(volume[0], size=16)


def test_load_mni152_volumes():
    volumes = load_mni152_volumes()
    assert set(volumes) == {"t1", "gm", "wm", "affine"}
    for key in ("t1", "gm", "wm"):
        assert volumes[key].shape == TEMPLATE_SHAPE
        assert volumes[key].dtype == np.float64
        assert 0 <= volumes[key].min() and volumes[key].max() <= 1
    np.testing.assert_array_equal(np.diag(volumes["affine"]), [1, 1, 1, 1])
    volumes["t1"][:] = 0  # callers get copies
    assert load_mni152_volumes()["t1"].max() == 1.0


# ------------------------------------------------------------------- normalise


def test_normalise_maps_percentile_to_one_and_zeroes_outside_mask():
    volume = np.array([-1.0, 0.0, 1.0, 2.0, 4.0, 8.0])
    np.testing.assert_allclose(
        normalise(volume, percentile=100), [0, 0, 0.125, 0.25, 0.5, 1]
    )
    mask = np.array([0, 0, 1, 1, 1, 0], dtype=bool)
    np.testing.assert_allclose(
        normalise(volume, mask, percentile=50), [0, 0, 0.5, 1, 1, 0]
    )


@pytest.mark.parametrize(
    ("volume", "kwargs", "match"),
    [
        (np.array([1.0, np.nan]), {}, "1 NaN or infinite"),
        (np.zeros(3), {}, "`mask` is empty"),
        (np.ones(3), {"percentile": 0}, r"`percentile` must lie in \(0, 100\]"),
        (np.array([-1.0, 1.0]), {"mask": np.array([1, 0])}, "must be > 0"),
        (np.ones(3), {"mask": np.ones(2, bool)}, "same shape"),
    ],
)
def test_normalise_rejects_bad_input(volume, kwargs, match):
    with pytest.raises(ValueError, match=match):
        normalise(volume, **kwargs)


# ----------------------------------------------------------- synthetic subjects


def test_synthetic_subjects_shapes_range_masks():
    result = synthetic_subjects(3, seed=0, size=64, n_slices=4)
    _check_slices(result, 12, 64)
    subjects = [row["subject"] for row in result.info]
    assert subjects == [f"seed0-00{i}" for i in range(3) for _ in range(4)]
    assert {row["source"] for row in result.info} == {"synthetic"}
    assert all(38 <= row["slice"] <= 130 for row in result.info)


def test_synthetic_subjects_are_deterministic_per_seed():
    first = synthetic_subjects(2, seed=3, size=48, n_slices=3)
    again = synthetic_subjects(2, seed=3, size=48, n_slices=3)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.masks, again.masks)
    assert first.info == again.info
    # Subject i depends on (seed, i) only.
    one = synthetic_subjects(1, seed=3, size=48, n_slices=3)
    np.testing.assert_array_equal(one.images, first.images[:3])


def test_synthetic_subjects_differ_between_seeds_and_subjects():
    kwargs = {"size": 64, "slices": [84]}
    train = synthetic_subjects(2, seed=0, **kwargs)
    test = synthetic_subjects(1, seed=1, **kwargs)
    assert test.info[0]["subject"] == "seed1-000"
    assert np.abs(train.images[0] - test.images[0]).mean() > 0.01
    assert np.abs(train.images[0] - train.images[1]).mean() > 0.01
    # Deformation moves the brain outline, not only the intensities.
    assert (train.masks[0] ^ test.masks[0]).sum() > 10


def test_synthetic_without_variation_is_the_renormalised_template():
    off = {"deformation_mm": 0, "bias_sd": 0, "gamma_sd": 0, "noise_sd": 0}
    synthetic = synthetic_subjects(1, size=64, slices=[70], **off)
    template = load_slices("mni152", size=64, slices=[70])
    np.testing.assert_array_equal(synthetic.masks, template.masks)
    np.testing.assert_allclose(
        synthetic.images, normalise(template.images, template.masks), atol=1e-12
    )


def test_synthetic_subjects_accept_a_template_volume():
    gm = load_mni152_volumes()["gm"]
    result = synthetic_subjects(1, size=32, n_slices=2, template=gm)
    _check_slices(result, 2, 32)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_slices": 500}, ValueError, "`n_slices`=500 exceeds"),
        ({"seed": -1}, ValueError, "`seed` must be >= 0"),
        ({"seed": 1.5}, TypeError, "`seed` must be an integer"),
        ({"deformation_mm": -1}, ValueError, "`deformation_mm` must be finite"),
        ({"noise_sd": np.inf}, ValueError, "`noise_sd` must be finite"),
        ({"control_spacing_mm": 0.5}, ValueError, "`control_spacing_mm`"),
        ({"slices": [188]}, ValueError, r"slices \[188\] hold no brain"),
        ({"template": np.zeros((4, 4, 4))}, ValueError, "`template` must be finite"),
        ({"template": np.ones((4, 4))}, ValueError, "`template` must be a 3D"),
    ],
)
def test_synthetic_subjects_reject_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        synthetic_subjects(1, size=16, **kwargs)


def test_synthetic_subjects_rejects_bad_count():
    with pytest.raises(ValueError, match="`n_subjects` must be >= 1"):
        synthetic_subjects(0)


# ----------------------------------------------------------- equalize_histogram


def test_equalize_histogram_is_uniform_inside_and_zero_outside(mni_256):
    images, masks = mni_256.images[40:43], mni_256.masks[40:43]
    out = equalize_histogram(images, masks)
    assert out.shape == images.shape and out.dtype == np.float64
    assert out.min() >= 0 and out.max() <= 1
    assert not out[~masks].any()
    np.testing.assert_array_equal(out > 0, masks)
    for k in range(3):
        values = np.sort(out[k][masks[k]])
        uniform = np.arange(1, values.size + 1) / values.size
        assert np.abs(values - uniform).max() < 0.02  # Kolmogorov-Smirnov distance


def test_equalize_histogram_2d_and_empty_mask():
    image = np.arange(16, dtype=float).reshape(4, 4) / 15
    mask = image > 0.5
    out = equalize_histogram(image, mask)
    assert out.shape == (4, 4) and not out[~mask].any() and out.max() == 1.0
    empty = np.zeros_like(mask)
    stack = equalize_histogram(np.stack([image, image]), np.stack([mask, empty]))
    assert not stack[1].any()


def test_equalize_histogram_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        equalize_histogram(np.zeros((4, 4)), np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match=r"\(H, W\) or \(N, H, W\)"):
        equalize_histogram(np.zeros(4), np.zeros(4, bool))


# ------------------------------------------------------------ NIfTI directories


def _brain(shape, dtype=np.float32, seed=0):
    """A box 'brain' of positive values in a zero background."""
    rng = np.random.default_rng(seed)
    volume = np.zeros(shape, dtype=dtype)
    inner = tuple(slice(n // 5, n - n // 5) for n in shape[:3])
    volume[inner] = (rng.random(volume[inner].shape) * 100 + 10).astype(dtype)
    return volume


def _save(path, data, affine=None):
    nib.save(nib.Nifti1Image(data, np.eye(4) if affine is None else affine), path)
    return path


def test_nifti_directory_of_mixed_files(tmp_path):
    _save(tmp_path / "a_float.nii.gz", _brain((20, 24, 10)))
    _save(tmp_path / "b_4d.nii", _brain((17, 13, 9, 1), seed=1))
    _save(tmp_path / "c_int16.nii.gz", _brain((31, 25, 7), np.int16, seed=2))
    (tmp_path / "notes.txt").write_text("ignored")
    result = load_slices(tmp_path, size=24)
    subjects = [row["subject"] for row in result.info]
    assert subjects == ["a_float"] * 6 + ["b_4d"] * 7 + ["c_int16"] * 5
    _check_slices(result, 18, 24)
    assert result.info[0]["source"] == str(tmp_path / "a_float.nii.gz")
    # c_int16's 25 x 31 slices exceed 24 pixels: padded to 31 x 31, then resized,
    # so its brain spans more than half of the 24 columns.
    assert result.masks[-1].any(axis=0).sum() > 12


def test_nifti_explicit_slices_and_single_file(tmp_path):
    path = _save(tmp_path / "vol.nii", _brain((20, 24, 10)))
    result = load_slices(str(path), size=32, slices=[3, 5])
    assert [row["slice"] for row in result.info] == [3, 5]
    _check_slices(result, 2, 32)


def test_nifti_is_reoriented_to_ras(tmp_path):
    volume = _brain((20, 24, 10))
    _save(tmp_path / "ras.nii", volume)
    flipped = _save(tmp_path / "las.nii", volume[::-1].copy(), np.diag([-1, 1, 1, 1]))
    ras = load_slices(tmp_path / "ras.nii", size=32)
    las = load_slices(flipped, size=32)
    np.testing.assert_array_equal(ras.images, las.images)


def test_nifti_anisotropic_in_plane_voxels_warn(tmp_path):
    path = _save(tmp_path / "aniso.nii", _brain((20, 24, 10)), np.diag([1, 2, 1, 1]))
    with pytest.warns(UserWarning, match="aniso.nii' has anisotropic"):
        load_slices(path, size=32)


def _bad_file(tmp_path, kind):
    """Write one bad input of `kind`; return (source, name expected in error)."""
    good = _brain((12, 14, 8))
    if kind == "missing":
        return tmp_path / "nowhere", "nowhere"
    if kind == "empty":
        (tmp_path / "empty").mkdir()
        return tmp_path / "empty", "empty"
    if kind == "no_nifti":
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "scan.png").write_bytes(b"png")
        return tmp_path / "d", "d"
    path = tmp_path / f"{kind}.nii.gz"
    if kind == "truncated":
        raw = gzip.compress(nib.Nifti1Image(good, np.eye(4)).to_bytes())
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "garbage":
        path = tmp_path / "garbage.nii"
        path.write_bytes(b"not a nifti file" * 30)
    elif kind == "all_zero":
        _save(path, np.zeros((12, 14, 8), np.float32))
    elif kind == "nan":
        bad = good.copy()
        bad[6, 7, 4] = np.nan
        _save(path, bad)
    elif kind == "4d":
        _save(path, np.stack([good, good], axis=-1))
    elif kind == "2d":
        _save(path, good[:, :, 4])
    return tmp_path, path.name


@pytest.mark.parametrize(
    ("kind", "error", "problem"),
    [
        ("missing", FileNotFoundError, "does not exist"),
        ("empty", ValueError, "is empty"),
        ("no_nifti", ValueError, r"holds no \.nii or \.nii\.gz files \(found scan"),
        ("truncated", ValueError, "truncated or corrupt"),
        ("garbage", ValueError, "could not read NIfTI file"),
        ("all_zero", ValueError, "no voxels > 0"),
        ("nan", ValueError, "1 NaN or infinite voxels"),
        ("4d", ValueError, r"4D with shape \(12, 14, 8, 2\)"),
        ("2d", ValueError, r"has shape \(12, 14\); expected a 3D"),
    ],
)
def test_bad_nifti_input_names_the_file(tmp_path, kind, error, problem):
    source, name = _bad_file(tmp_path, kind)
    with pytest.raises(error, match=re.escape(name)) as info:
        load_slices(source, size=16)
    assert re.search(problem, str(info.value))
    if kind in ("truncated", "garbage"):
        assert info.value.__cause__ is not None  # nibabel's error, chained


def test_nifti_selected_slices_without_brain(tmp_path):
    _save(tmp_path / "vol.nii", _brain((12, 14, 8)))
    with pytest.raises(ValueError, match=r"vol\.nii'.*slices \[0\] hold no brain"):
        load_slices(tmp_path, size=16, slices=[0, 3])
    with pytest.raises(ValueError, match=r"vol\.nii'.*\[9\] lie outside"):
        load_slices(tmp_path, size=16, slices=[9])
