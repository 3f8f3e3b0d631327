"""Tests of pitfalls.anomalies: invariants of every generator and its error paths."""

import numpy as np
import pytest
from skimage.draw import disk

from pitfalls.anomalies import (
    apply_to_stack,
    deformation_exponent,
    disk_label,
    paste_disk,
    pixel_shuffle,
    pixel_shuffle_stack,
    sample_centres,
    sink_deformation,
    sink_deformation_stack,
    source_deformation,
    source_deformation_stack,
)

SHAPE = (64, 64)
RNG = np.random.default_rng(20220706)
TEXTURE = RNG.random(SHAPE)  # white-noise texture in [0, 1)
_rr, _cc = np.mgrid[: SHAPE[0], : SHAPE[1]]
BRAIN = (_rr - 32) ** 2 + (_cc - 30) ** 2 < 27**2  # circular "brain"

# (function, extra keyword arguments) for every anomaly type.
GENERATORS = {
    "disk": (paste_disk, {"intensity": 0.75}),
    "sink": (sink_deformation, {"strength": 0.5}),
    "source": (source_deformation, {"strength": 0.5}),
    "shuffle": (pixel_shuffle, {"rng": 3}),
}
DEFORMATIONS = {"sink": sink_deformation, "source": source_deformation}


def run(name, image=TEXTURE, centre=(30, 28), radius=9, **kwargs):
    fn, extra = GENERATORS[name]
    return fn(image, centre, radius, **{**extra, **kwargs})


# --------------------------------------------------------------------------- #
# Invariants shared by all generators
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", GENERATORS)
def test_input_never_mutated(name):
    image, mask = TEXTURE.copy(), BRAIN.copy()
    image.setflags(write=False)  # any in-place write would raise
    run(name, image=image, mask=mask)
    np.testing.assert_array_equal(image, TEXTURE)
    np.testing.assert_array_equal(mask, BRAIN)


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("centre", [(30, 28), (5, 50), (0, 0), (63, 40)])
@pytest.mark.parametrize("use_mask", [False, True])
def test_outside_label_untouched(name, centre, use_mask):
    mask = BRAIN if use_mask else None
    out, label = run(name, centre=centre, mask=mask)
    assert out.dtype == np.float64 and out.shape == SHAPE
    assert label.dtype == bool and label.shape == SHAPE
    assert np.array_equal(out[~label], TEXTURE[~label])
    assert out is not TEXTURE


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("centre", [(30, 28), (8, 30), (33, 3)])
def test_label_is_disk_within_mask(name, centre):
    _, label = run(name, centre=centre, mask=BRAIN)
    assert not (label & ~BRAIN).any()
    np.testing.assert_array_equal(label, disk_label(SHAPE, centre, 9, mask=BRAIN))


@pytest.mark.parametrize("name", GENERATORS)
def test_integer_and_list_images_accepted(name):
    image = (TEXTURE * 255).astype(np.uint8)
    out, label = run(name, image=image.tolist())
    assert out.dtype == np.float64
    assert np.array_equal(out[~label], image[~label].astype(float))


@pytest.mark.parametrize("name", GENERATORS)
def test_label_missing_the_mask_changes_nothing(name):
    mask = np.zeros(SHAPE, dtype=bool)
    mask[50:, 50:] = True
    out, label = run(name, centre=(10, 10), mask=mask)
    assert not label.any()
    assert np.array_equal(out, TEXTURE)


# --------------------------------------------------------------------------- #
# disk_label
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("centre", [(32, 30), (6, 30), (32.4, 10.7)])
@pytest.mark.parametrize("radius", [1, 4.5, 12])
def test_disk_area_matches_skimage_inside_mask(centre, radius):
    rr, cc = disk(centre, radius, shape=SHAPE)
    label = disk_label(SHAPE, centre, radius, mask=BRAIN)
    assert label.sum() == BRAIN[rr, cc].sum()


def test_disk_label_matches_skimage_on_full_canvas():
    # disk_label rasterises on the disk's bounding box only; the pixels must be
    # exactly those of skimage.draw.disk evaluated on the whole image.
    rng = np.random.default_rng(0)
    for _ in range(300):
        shape = tuple(int(n) for n in rng.integers(1, 70, size=2))
        centre = rng.uniform(0, 1, size=2) * (np.array(shape) - 1)
        if rng.random() < 0.3:
            centre = np.round(centre)
        radius = float(rng.choice([rng.uniform(0.1, 40), rng.integers(1, 30)]))
        expected = np.zeros(shape, dtype=bool)
        expected[disk(centre, radius, shape=shape)] = True
        np.testing.assert_array_equal(disk_label(shape, centre, radius), expected)


@pytest.mark.parametrize("centre", [(2, 60), (0, 0), (63, 63), (40.5, 1.25)])
def test_disk_at_border_is_clipped_not_distorted(centre):
    radius, pad = 10, 16
    big_shape = (SHAPE[0] + 2 * pad, SHAPE[1] + 2 * pad)
    big = disk_label(big_shape, (centre[0] + pad, centre[1] + pad), radius)
    expected = big[pad:-pad, pad:-pad]
    np.testing.assert_array_equal(disk_label(SHAPE, centre, radius), expected)
    assert disk_label(SHAPE, centre, radius).sum() < np.pi * radius**2


def test_disk_label_accepts_integer_mask():
    label_bool = disk_label(SHAPE, (32, 30), 8, mask=BRAIN)
    label_int = disk_label(SHAPE, (32, 30), 8, mask=BRAIN.astype(np.uint8))
    np.testing.assert_array_equal(label_bool, label_int)


# --------------------------------------------------------------------------- #
# paste_disk
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("intensity", [0.0, 0.3, 1.0])
def test_paste_disk_sets_label_to_intensity(intensity):
    out, label = paste_disk(TEXTURE, (30, 28), 7, intensity, mask=BRAIN)
    assert label.any()
    assert (out[label] == intensity).all()


# --------------------------------------------------------------------------- #
# sink / source deformations
# --------------------------------------------------------------------------- #


def test_deformation_exponent_values():
    assert deformation_exponent("sink", 0.0) == 1.0
    assert deformation_exponent("source", 0.0) == 1.0
    assert deformation_exponent("sink", 0.25) == 0.75
    assert deformation_exponent("source", 0.75) == 4.0
    for s in (0.1, 0.5, 0.9):
        product = deformation_exponent("sink", s) * deformation_exponent("source", s)
        assert product == pytest.approx(1.0)


@pytest.mark.parametrize("kind", DEFORMATIONS)
@pytest.mark.parametrize("centre", [(30, 28), (31.3, 27.8), (1, 62), (63, 0)])
def test_deformation_at_zero_strength_is_exact_identity(kind, centre):
    out, label = DEFORMATIONS[kind](TEXTURE, centre, 11, strength=0.0)
    assert label.any()
    np.testing.assert_array_equal(out, TEXTURE)


@pytest.mark.parametrize("kind", DEFORMATIONS)
def test_deformation_tends_to_identity_as_strength_vanishes(kind):
    fn = DEFORMATIONS[kind]
    errors = [
        np.abs(fn(TEXTURE, (30, 28), 11, strength=s)[0] - TEXTURE).max()
        for s in (1e-2, 1e-4, 1e-6)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-4


@pytest.mark.parametrize("kind", DEFORMATIONS)
@pytest.mark.parametrize("strength", [0.3, 0.5, 0.9])
def test_deformation_changes_textured_disk(kind, strength):
    centre = (30, 28)
    out, label = DEFORMATIONS[kind](TEXTURE, centre, 10, strength=strength)
    changed = out != TEXTURE
    assert not (changed & ~label).any()
    # Only the centre pixel is a fixed point of the radial map.
    assert changed[label].mean() > 0.95
    assert out[centre] == TEXTURE[centre]


@pytest.mark.parametrize("kind", DEFORMATIONS)
@pytest.mark.parametrize("value", [0.0, 0.37, 1.0])
def test_constant_image_stays_constant(kind, value):
    image = np.full(SHAPE, value)
    for centre in [(30, 28), (0, 5), (63, 63)]:
        out, _ = DEFORMATIONS[kind](image, centre, 15, strength=0.8, mask=BRAIN)
        assert (out == value).all()


@pytest.mark.parametrize("kind", DEFORMATIONS)
@pytest.mark.parametrize("centre", [(30, 28), (29.6, 33.2)])
@pytest.mark.parametrize("strength", [0.2, 0.6])
def test_deformation_follows_radial_formula(kind, centre, strength):
    # Bilinear interpolation is exact on a linear image, so the output reveals
    # the sampling positions, which must follow s(rho) = r * (rho / r) ** p.
    a, b, radius = 0.013, 0.007, 12
    image = a * _rr + b * _cc
    out, label = DEFORMATIONS[kind](image, centre, radius, strength=strength)
    p = deformation_exponent(kind, strength)

    rows, cols = np.nonzero(label)
    angle = np.arctan2(rows - centre[0], cols - centre[1])
    rho = np.hypot(rows - centre[0], cols - centre[1])
    s = radius * (rho / radius) ** p
    expected = a * (centre[0] + s * np.sin(angle)) + b * (centre[1] + s * np.cos(angle))
    np.testing.assert_allclose(out[rows, cols], expected, rtol=0, atol=1e-12)


def test_sink_pulls_inward_and_source_pushes_outward():
    # On a cone (value = distance from the centre), a sink reads from farther
    # out (values grow), a source from nearer the centre (values shrink).
    centre, radius = (30, 28), 12
    cone = np.hypot(_rr - centre[0], _cc - centre[1])
    sink, label = sink_deformation(cone, centre, radius, strength=0.5)
    source, _ = source_deformation(cone, centre, radius, strength=0.5)
    inner = label & (cone > 1)
    assert (sink[inner] > cone[inner]).all()
    assert (source[inner] < cone[inner]).all()


def test_source_undoes_sink_on_smooth_image():
    centre, radius = (30, 28), 14
    smooth = np.sin(_rr / 9.0) * np.cos(_cc / 7.0)
    sink, label = sink_deformation(smooth, centre, radius, strength=0.3)
    back, _ = source_deformation(sink, centre, radius, strength=0.3)
    # Interpolation blurs a little; the round trip is far closer than one pass.
    assert np.abs(back - smooth)[label].max() < 0.2 * np.abs(sink - smooth).max()


def test_sink_near_border_reads_edge_values():
    out, label = sink_deformation(TEXTURE, (1, 62), 10, strength=0.9)
    assert label.any()
    assert TEXTURE.min() <= out.min() and out.max() <= TEXTURE.max()


# --------------------------------------------------------------------------- #
# pixel_shuffle
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("use_mask", [False, True])
def test_shuffle_permutes_label_values(use_mask):
    mask = BRAIN if use_mask else None
    out, label = pixel_shuffle(TEXTURE, (8, 30), 10, mask=mask, rng=0)
    np.testing.assert_array_equal(np.sort(out[label]), np.sort(TEXTURE[label]))
    assert (out[label] != TEXTURE[label]).mean() > 0.9


def test_shuffle_deterministic_for_seed():
    first, _ = pixel_shuffle(TEXTURE, (30, 28), 10, rng=42)
    again, _ = pixel_shuffle(TEXTURE, (30, 28), 10, rng=42)
    other, _ = pixel_shuffle(TEXTURE, (30, 28), 10, rng=43)
    from_gen, _ = pixel_shuffle(
        TEXTURE, (30, 28), 10, rng=np.random.default_rng(42)
    )
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, from_gen)
    assert not np.array_equal(first, other)


def test_shuffle_uses_one_documented_permutation():
    out, label = pixel_shuffle(TEXTURE, (30, 28), 6, rng=7)
    rows, cols = np.nonzero(label)
    perm = np.random.default_rng(7).permutation(rows.size)
    np.testing.assert_array_equal(out[rows, cols], TEXTURE[rows[perm], cols[perm]])


# --------------------------------------------------------------------------- #
# sample_centres
# --------------------------------------------------------------------------- #


def _mask_stack():
    masks = np.zeros((5, 32, 40), dtype=bool)
    masks[0] = True
    masks[1, 3:7, 20:22] = True
    masks[2, 31, 39] = True  # a single pixel in the corner
    masks[3] = BRAIN[:32, :40]
    masks[4, ::3, ::5] = True
    return masks


def test_sample_centres_land_on_mask():
    masks = _mask_stack()
    for seed in range(20):
        centres = sample_centres(masks, rng=seed)
        assert centres.shape == (5, 2)
        assert np.issubdtype(centres.dtype, np.integer)
        assert masks[np.arange(5), centres[:, 0], centres[:, 1]].all()
    assert tuple(sample_centres(masks, rng=1)[2]) == (31, 39)


def test_sample_centres_single_mask_and_reproducible():
    centre = sample_centres(BRAIN, rng=5)
    assert centre.shape == (2,)
    assert BRAIN[tuple(centre)]
    np.testing.assert_array_equal(centre, sample_centres(BRAIN, rng=5))
    masks = _mask_stack()
    np.testing.assert_array_equal(
        sample_centres(masks, rng=9),
        sample_centres(masks, rng=np.random.default_rng(9)),
    )
    assert not np.array_equal(
        sample_centres(np.ones((50, 64, 64)), rng=1),
        sample_centres(np.ones((50, 64, 64)), rng=2),
    )


def test_sample_centres_uniform_over_mask_pixels():
    mask = np.zeros((6, 6), dtype=bool)
    mask[[0, 2, 4, 5], [1, 3, 0, 5]] = True
    centres = sample_centres(np.broadcast_to(mask, (4000, 6, 6)), rng=11)
    _, counts = np.unique(centres, axis=0, return_counts=True)
    assert counts.size == 4
    assert (np.abs(counts - 1000) < 120).all()  # ~4 standard deviations


def test_sample_centres_empty_mask_names_index():
    masks = _mask_stack()
    masks[2] = False
    with pytest.raises(ValueError, match=r"`masks\[2\]` has no True pixel"):
        sample_centres(masks, rng=0)
    masks[4] = False
    with pytest.raises(ValueError, match=r"empty masks: \[2, 4\]"):
        sample_centres(masks, rng=0)
    with pytest.raises(ValueError, match=r"`masks` has no True pixel"):
        sample_centres(np.zeros((4, 4)), rng=0)


@pytest.mark.parametrize(
    ("masks", "error", "match"),
    [
        (np.ones(5), ValueError, r"`masks` must be \(H, W\) or \(N, H, W\), got"),
        (np.ones((1, 2, 3, 4)), ValueError, r"got shape \(1, 2, 3, 4\)"),
        (np.full((4, 4), 2), ValueError, r"`masks` must contain only 0 and 1"),
        (np.full((4, 4), "a"), TypeError, r"`masks` must be boolean or 0/1"),
        (np.ones((0, 4, 4)), ValueError, r"`masks` must not be empty"),
    ],
)
def test_sample_centres_rejects_bad_masks(masks, error, match):
    with pytest.raises(error, match=match):
        sample_centres(masks, rng=0)


def test_sample_centres_rejects_bad_rng():
    with pytest.raises(TypeError, match=r"`rng` must be an int seed"):
        sample_centres(BRAIN, rng=0.5)


# --------------------------------------------------------------------------- #
# apply_to_stack
# --------------------------------------------------------------------------- #


def test_apply_to_stack_matches_single_calls():
    images = np.stack([TEXTURE, TEXTURE[::-1], TEXTURE.T])
    masks = np.stack([BRAIN] * 3)
    centres = sample_centres(masks, rng=0)
    out, labels = apply_to_stack(
        sink_deformation, images, centres, masks=masks, radius=8, strength=0.4
    )
    assert out.shape == labels.shape == images.shape
    for i in range(3):
        o, lab = sink_deformation(images[i], centres[i], 8, mask=BRAIN, strength=0.4)
        np.testing.assert_array_equal(out[i], o)
        np.testing.assert_array_equal(labels[i], lab)


def test_apply_to_stack_shares_one_generator():
    images = np.stack([TEXTURE] * 3)
    centres = [(30, 28)] * 3
    out, _ = apply_to_stack(pixel_shuffle, images, centres, radius=8, rng=4)
    gen = np.random.default_rng(4)
    for i in range(3):
        single, _ = pixel_shuffle(TEXTURE, centres[i], 8, rng=gen)
        np.testing.assert_array_equal(out[i], single)
    assert not np.array_equal(out[0], out[1])  # a fresh draw per slice


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"images": TEXTURE}, r"`images` must be 3D \(N, H, W\)"),
        ({"centres": np.zeros((3, 2))}, r"`centres` must have shape \(2, 2\)"),
        ({"masks": np.ones((2, 8, 8))}, r"`masks` and `images` must have the same"),
    ],
)
def test_apply_to_stack_rejects_mismatch(kwargs, match):
    args = {"images": np.stack([TEXTURE] * 2), "centres": [(3, 3)] * 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        apply_to_stack(paste_disk, radius=3, intensity=0.5, **args)


# --------------------------------------------------------------------------- #
# Batched texture anomalies
# --------------------------------------------------------------------------- #

# (batched, single-image, extra keyword arguments) for every texture anomaly.
STACKED = {
    "sink": (sink_deformation_stack, sink_deformation, {"strength": 0.6}),
    "source": (source_deformation_stack, source_deformation, {"strength": 0.6}),
    "shuffle": (pixel_shuffle_stack, pixel_shuffle, {"rng": 5}),
}
# Interior, fractional, corner, edge and near-edge fractional centres.
STACK_CENTRES = [
    (30, 28),
    (31.3, 27.8),
    (0, 0),
    (63, 63),
    (0, 40.5),
    (62.75, 0.25),
    (8, 62),
    (45.5, 17.5),
]


def _texture_stack(n):
    """``n`` different white-noise slices and brain masks of shape SHAPE."""
    images = np.random.default_rng(n).random((n, *SHAPE))
    masks = np.stack([np.roll(BRAIN, 3 * i, axis=i % 2) for i in range(n)])
    return images, masks


def _per_slice(single, images, centres, radius, masks, kwargs):
    """The reference: the single-image function called slice by slice."""
    kwargs = dict(kwargs)
    if "rng" in kwargs:  # one Generator shared by the slices, drawn in order
        kwargs["rng"] = np.random.default_rng(kwargs["rng"])
    pairs = [
        single(
            images[i],
            centres[i],
            radius,
            mask=None if masks is None else masks[i],
            **kwargs,
        )
        for i in range(len(images))
    ]
    return tuple(np.stack(a) for a in zip(*pairs))  # (N, H, W) each


def assert_bitwise_equal(actual, expected):
    """Equal bit for bit: also tells -0.0 from 0.0 and compares NaN payloads."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert np.array_equal(actual.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("name", STACKED)
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("radius", [1, 4.5, 9, 23.7])
def test_stack_equals_per_slice(name, use_mask, radius):
    batched, single, kwargs = STACKED[name]
    images, masks = _texture_stack(len(STACK_CENTRES))
    masks = masks if use_mask else None
    out, labels = batched(images, STACK_CENTRES, radius, masks=masks, **kwargs)
    ref_out, ref_labels = _per_slice(
        single, images, STACK_CENTRES, radius, masks, kwargs
    )
    assert out.dtype == np.float64 and labels.dtype == bool
    assert_bitwise_equal(out, ref_out)
    assert_bitwise_equal(labels, ref_labels)
    changed = out != images
    assert not (changed & ~labels).any()
    if radius > 4:  # not only a pixel or two
        assert changed[labels].mean() > 0.8


@pytest.mark.parametrize("name", STACKED)
def test_stack_equals_per_slice_on_random_cases(name):
    # Random shapes, radii (from sub-pixel to larger than the image), integer
    # and fractional centres, many of them on or near the border.
    batched, single, kwargs = STACKED[name]
    rng = np.random.default_rng(1)
    for _ in range(60):
        n = int(rng.integers(1, 6))
        shape = tuple(int(s) for s in rng.integers(1, 40, size=2))
        images = rng.normal(size=(n, *shape))
        centres = rng.uniform(0, 1, size=(n, 2)) * (np.array(shape) - 1)
        rounded = rng.random(n) < 0.3
        centres[rounded] = np.round(centres[rounded])
        centres[rng.random((n, 2)) < 0.2] = 0
        radius = float(rng.choice([0.3, 0.5, 1, rng.uniform(0.1, 50)]))
        masks = rng.random((n, *shape)) < 0.8 if rng.random() < 0.5 else None
        out, labels = batched(images, centres, radius, masks=masks, **kwargs)
        ref_out, ref_labels = _per_slice(
            single, images, centres, radius, masks, kwargs
        )
        assert_bitwise_equal(out, ref_out)
        assert_bitwise_equal(labels, ref_labels)


def test_stack_labels_are_skimage_disks():
    # The rasterisation is vectorised over the stack, but must select exactly
    # the pixels of skimage.draw.disk on every slice: integer and fractional
    # centres, disks clipped by the border, radii with boxes that hold no pixel.
    rng = np.random.default_rng(2)
    for _ in range(150):
        n = int(rng.integers(1, 8))
        shape = tuple(int(s) for s in rng.integers(1, 70, size=2))
        centres = rng.uniform(0, 1, size=(n, 2)) * (np.array(shape) - 1)
        rounded = rng.random(n) < 0.4
        centres[rounded] = np.round(centres[rounded])
        edge = rng.random((n, 2)) < 0.15
        centres[edge] = (np.array(shape, dtype=float) - 1)[np.nonzero(edge)[1]]
        radii = [rng.uniform(0.05, 2), rng.uniform(0.1, 40), rng.integers(1, 30)]
        radius = float(rng.choice(radii))
        _, labels = sink_deformation_stack(
            np.zeros((n, *shape)), centres, radius, strength=0.3
        )
        for i in range(n):
            expected = np.zeros(shape, dtype=bool)
            expected[disk(centres[i], radius, shape=shape)] = True
            np.testing.assert_array_equal(labels[i], expected)


def test_stack_labels_follow_skimage_rounding_on_the_rim():
    # Rim pixels with dy**2 + dx**2 == r**2 exactly: skimage's test
    # (dy / r)**2 + (dx / r)**2 < 1 rounds to True for (40, 9) at r = 41 and
    # (5, 3) at r = sqrt(34), where the algebraically equal
    # (dy**2 + dx**2) / r**2 < 1 is False. Only replicating skimage's
    # arithmetic gives its pixels.
    shape = (100, 100)
    cases = [(41.0, (50, 50), (40, 9)), (float(np.sqrt(34)), (20, 70), (5, 3))]
    images = np.zeros((len(cases), *shape))
    centres = [centre for _, centre, _ in cases]
    for radius, centre, (dy, dx) in cases:
        _, labels = pixel_shuffle_stack(images, centres, radius, rng=0)
        i = centres.index(centre)
        expected = np.zeros(shape, dtype=bool)
        expected[disk(centre, radius, shape=shape)] = True
        np.testing.assert_array_equal(labels[i], expected)
        assert labels[i, centre[0] + dy, centre[1] + dx]
        assert labels[i, centre[0] - dx, centre[1] - dy]


def test_stack_disks_without_pixels():
    # A box from ceil(c - r) to floor(c + r) can be empty: r = 0.2 around 3.5.
    images, masks = _texture_stack(3)
    centres = [(3.5, 3.5), (10.5, 0.5), (0.5, 63.0)]
    for batched, _, kwargs in STACKED.values():
        out, labels = batched(images, centres, 0.2, masks=masks, **kwargs)
        assert not labels.any()
        assert_bitwise_equal(out, images)


@pytest.mark.parametrize("name", ["sink", "source"])
@pytest.mark.parametrize("use_mask", [False, True])
def test_stack_deformation_at_zero_strength_is_exact_identity(name, use_mask):
    batched, _, _ = STACKED[name]
    images, masks = _texture_stack(len(STACK_CENTRES))
    masks = masks if use_mask else None
    out, labels = batched(images, STACK_CENTRES, 11, masks=masks, strength=0.0)
    assert labels.sum() > 500
    assert_bitwise_equal(out, images)


@pytest.mark.parametrize("rng", [9, "generator"])
def test_stack_shuffle_draws_like_apply_to_stack(rng):
    # One permutation per slice, in slice order, from one Generator; a slice
    # whose disk misses its mask (slice 1) still makes its (empty) draw.
    images, masks = _texture_stack(4)
    masks[1] = False
    centres = [(30, 28), (30, 28), (2.5, 61.5), (40, 20)]
    gen_a, gen_b = np.random.default_rng(9), np.random.default_rng(9)
    seed_a, seed_b = (9, 9) if rng == 9 else (gen_a, gen_b)
    out, labels = pixel_shuffle_stack(images, centres, 7, masks=masks, rng=seed_a)
    ref_out, ref_labels = apply_to_stack(
        pixel_shuffle, images, centres, masks=masks, radius=7, rng=seed_b
    )
    assert_bitwise_equal(out, ref_out)
    assert_bitwise_equal(labels, ref_labels)
    assert not labels[1].any()
    if rng == "generator":  # both consumed exactly the same draws
        assert gen_a.integers(2**62) == gen_b.integers(2**62)
    for i in (0, 2, 3):  # each slice keeps its own values
        np.testing.assert_array_equal(
            np.sort(out[i][labels[i]]), np.sort(images[i][labels[i]])
        )
    # The documented sequence: slice i draws rng.permutation(K_i), in order.
    gen = np.random.default_rng(9)
    for i in range(4):
        rows, cols = np.nonzero(labels[i])
        perm = gen.permutation(rows.size)
        values = images[i][rows[perm], cols[perm]]
        np.testing.assert_array_equal(out[i][rows, cols], values)


@pytest.mark.parametrize("name", STACKED)
@pytest.mark.parametrize(
    "variant", ["fortran+uint8 mask", "strided+list mask", "broadcast mask", "uint8"]
)
def test_stack_accepts_other_layouts_and_dtypes(name, variant):
    batched, single, kwargs = STACKED[name]
    images, masks = _texture_stack(3)
    centres = [(30, 28), (0, 63), (12.5, 3.25)]
    images, masks = {
        "fortran+uint8 mask": (np.asfortranarray(images), masks.astype(np.uint8)),
        "strided+list mask": (images[:, ::-1, ::-1], masks[:, ::-1, ::-1].tolist()),
        "broadcast mask": (images, np.broadcast_to(masks[:1], masks.shape)),
        "uint8": ((images * 255).astype(np.uint8), masks),
    }[variant]
    out, labels = batched(images, np.array(centres), 9, masks=masks, **kwargs)
    ref_out, ref_labels = _per_slice(
        single, np.asarray(images), centres, 9, np.asarray(masks), kwargs
    )
    assert_bitwise_equal(out, ref_out)
    assert_bitwise_equal(labels, ref_labels)


@pytest.mark.parametrize("name", STACKED)
def test_stack_input_never_mutated(name):
    batched, _, kwargs = STACKED[name]
    images, masks = _texture_stack(3)
    centres = np.array([(30.0, 28.0), (0.0, 63.0), (12.5, 3.25)])
    copies = images.copy(), masks.copy(), centres.copy()
    for arr in (images, masks, centres):
        arr.setflags(write=False)  # any in-place write would raise
    out, labels = batched(images, centres, 9, masks=masks, **kwargs)
    for arr, copy in zip((images, masks, centres), copies):
        assert_bitwise_equal(arr, copy)
    assert not np.shares_memory(out, images)
    assert out.flags.writeable and out.flags.c_contiguous


def test_single_image_functions_are_stacks_of_one():
    for batched, single, kwargs in STACKED.values():
        out, label = single(TEXTURE, (31.3, 27.8), 9, mask=BRAIN, **kwargs)
        out_s, labels_s = batched(
            TEXTURE[None], [(31.3, 27.8)], 9, masks=BRAIN[None], **kwargs
        )
        assert_bitwise_equal(out, out_s[0])
        assert_bitwise_equal(label, labels_s[0])


# --------------------------------------------------------------------------- #
# Validation error paths
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize(
    ("override", "error", "match"),
    [
        ({"image": np.ones(10)}, ValueError, r"`image` must be 2D \(H, W\), got"),
        ({"image": np.ones((2, 4, 4))}, ValueError, r"got shape \(2, 4, 4\)"),
        ({"image": np.ones((0, 3))}, ValueError, r"`image` must not be empty"),
        ({"image": BRAIN}, TypeError, r"`image` must be a real-valued array"),
        ({"radius": 0}, ValueError, r"`radius` must be > 0, got 0"),
        ({"radius": -2.5}, ValueError, r"`radius` must be > 0, got -2.5"),
        ({"radius": np.nan}, ValueError, r"`radius` must be > 0, got nan"),
        ({"radius": "9"}, TypeError, r"`radius` must be a real number, got '9'"),
        ({"centre": (64, 3)}, ValueError, r"`centre` must lie inside .* got \(64"),
        ({"centre": (3, -1)}, ValueError, r"`centre` must lie inside the image"),
        ({"centre": (1, 2, 3)}, ValueError, r"`centre` must be a \(row, col\) pair"),
        ({"centre": 5}, ValueError, r"`centre` must be a \(row, col\) pair, got 5"),
        ({"mask": BRAIN[:, :10]}, ValueError, r"`mask` must have the image shape"),
        ({"mask": BRAIN * 3}, ValueError, r"`mask` must contain only 0 and 1"),
    ],
)
def test_common_validation(name, override, error, match):
    with pytest.raises(error, match=match):
        run(name, **override)


@pytest.mark.parametrize(
    ("intensity", "error", "match"),
    [
        (1.5, ValueError, r"`intensity` must lie in \[0.0, 1.0\], got 1.5"),
        (-0.1, ValueError, r"`intensity` must lie in \[0.0, 1.0\], got -0.1"),
        (np.nan, ValueError, r"`intensity` must lie in .*got nan"),
        (True, TypeError, r"`intensity` must be a real number, got True"),
    ],
)
def test_paste_disk_rejects_bad_intensity(intensity, error, match):
    with pytest.raises(error, match=match):
        paste_disk(TEXTURE, (30, 28), 5, intensity)


@pytest.mark.parametrize("kind", DEFORMATIONS)
@pytest.mark.parametrize(
    ("strength", "error", "match"),
    [
        (1.0, ValueError, r"`strength` must lie in \[0, 1\), got 1.0"),
        (1, ValueError, r"`strength` must lie in \[0, 1\), got 1"),
        (-0.2, ValueError, r"`strength` must lie in \[0, 1\), got -0.2"),
        (np.nan, ValueError, r"`strength` must lie in \[0, 1\), got nan"),
        ("0.5", TypeError, r"`strength` must be a real number, got '0.5'"),
    ],
)
def test_deformation_rejects_bad_strength(kind, strength, error, match):
    with pytest.raises(error, match=match):
        DEFORMATIONS[kind](TEXTURE, (30, 28), 5, strength=strength)


def test_deformation_exponent_rejects_unknown_kind():
    with pytest.raises(ValueError, match=r"`kind` must be 'sink' or 'source', got 'x'"):
        deformation_exponent("x", 0.5)


def test_shuffle_rejects_bad_rng():
    with pytest.raises(TypeError, match=r"`rng` must be an int seed.*got str"):
        pixel_shuffle(TEXTURE, (30, 28), 5, rng="seed")


@pytest.mark.parametrize(
    "shape", [(64,), (0, 5), (4, 5, 6), (4.0, 5), (True, 4), 64, None]
)
def test_disk_label_rejects_bad_shape(shape):
    with pytest.raises(ValueError, match=r"`shape` must be a \(rows, cols\) pair"):
        disk_label(shape, (0, 0), 2)


def test_disk_label_rejects_bad_mask_and_centre():
    match = r"`mask` must have the image shape \(64, 64\)"
    with pytest.raises(ValueError, match=match):
        disk_label(SHAPE, (3, 3), 2, mask=np.ones((3, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"`centre` must lie inside"):
        disk_label(SHAPE, (3, 64.5), 2)


@pytest.mark.parametrize("name", STACKED)
@pytest.mark.parametrize(
    ("override", "error", "match"),
    [
        ({"images": TEXTURE}, ValueError, r"`images` must be 3D \(N, H, W\), got"),
        ({"images": np.ones((0, 4, 4))}, ValueError, r"`images` must not be empty"),
        ({"images": BRAIN[None]}, TypeError, r"`images` must be a real-valued"),
        ({"centres": [(3, 3)]}, ValueError, r"`centres` must have shape \(2, 2\) to"),
        ({"centres": (3, 3)}, ValueError, r"\(2, 2\) to match `images`, got \(2,\)"),
        ({"centres": np.zeros((2, 3))}, ValueError, r"got \(2, 3\)"),
        ({"centres": [(3, 3), (64, 3)]}, ValueError, r"`centres\[1\]` must lie inside"),
        ({"centres": [(-0.5, 3), (3, 3)]}, ValueError, r"`centres\[0\]` .*got \(-0.5"),
        ({"centres": [(3, 3), (3, np.nan)]}, ValueError, r"`centres\[1\]` must lie"),
        ({"centres": [("a", 3), (3, 3)]}, TypeError, r"`centres` must be an \(2, 2\)"),
        ({"masks": np.ones((2, 64, 10))}, ValueError, r"`masks` and `images` must"),
        ({"masks": BRAIN}, ValueError, r"`masks` and `images` must have the same"),
        ({"masks": np.full((2, *SHAPE), 2)}, ValueError, r"`masks` must contain only"),
        ({"radius": 0}, ValueError, r"`radius` must be > 0, got 0"),
        ({"radius": -1.5}, ValueError, r"`radius` must be > 0, got -1.5"),
        ({"radius": np.inf}, ValueError, r"`radius` must be > 0, got inf"),
        ({"radius": "9"}, TypeError, r"`radius` must be a real number, got '9'"),
    ],
)
def test_stack_validation(name, override, error, match):
    batched, _, kwargs = STACKED[name]
    args = {
        "images": np.stack([TEXTURE] * 2),
        "centres": [(30, 28), (3, 3)],
        "radius": 5,
        **override,
    }
    with pytest.raises(error, match=match):
        batched(**args, **kwargs)


@pytest.mark.parametrize("name", ["sink", "source"])
@pytest.mark.parametrize(
    ("strength", "error", "match"),
    [
        (1.0, ValueError, r"`strength` must lie in \[0, 1\), got 1.0"),
        (-0.1, ValueError, r"`strength` must lie in \[0, 1\), got -0.1"),
        (np.nan, ValueError, r"`strength` must lie in \[0, 1\), got nan"),
        ("0.5", TypeError, r"`strength` must be a real number, got '0.5'"),
    ],
)
def test_stack_deformation_rejects_bad_strength(name, strength, error, match):
    batched, _, _ = STACKED[name]
    with pytest.raises(error, match=match):
        batched(np.stack([TEXTURE] * 2), [(3, 3)] * 2, 5, strength=strength)


def test_stack_shuffle_rejects_bad_rng():
    with pytest.raises(TypeError, match=r"`rng` must be an int seed.*got float"):
        pixel_shuffle_stack(np.stack([TEXTURE] * 2), [(3, 3)] * 2, 5, rng=0.5)
