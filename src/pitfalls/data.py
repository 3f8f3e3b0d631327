"""Load axial brain MRI slices and synthesise distinct subjects from a template.

Every loader returns a :class:`Slices` triple of images ``(N, H, W)`` in [0, 1],
boolean brain masks ``(N, H, W)`` and one ``info`` dict per slice. Three
sources feed it:

- the MNI152 2009 T1 template shipped inside the nilearn wheel (no network);
- a directory of NIfTI volumes, for readers who have their own data;
- :func:`synthetic_subjects`, which turns the template into seeded "subjects"
  by smooth deformation, intensity variation and Rician noise.

All slices are shown the same way: rows run anterior (top) to posterior
(bottom) and columns run from the subject's left to their right
(neurological convention, as nilearn's viewers display).
"""

from __future__ import annotations

import functools
import importlib.util
import numbers
import os
import warnings
import zlib
from pathlib import Path
from typing import NamedTuple

import nibabel as nib
import numpy as np
from scipy import ndimage
from skimage.exposure import equalize_hist
from skimage.transform import resize

from pitfalls._validate import (
    check_binary_mask,
    check_in_range,
    check_int,
    check_same_shape,
)

__all__ = [
    "Slices",
    "load_slices",
    "load_mni152_volumes",
    "synthetic_subjects",
    "equalize_histogram",
    "normalise",
    "split_by_subject",
]

_MNI152_FILES = {
    "t1": "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "gm": "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
}
_NIFTI_SUFFIXES = (".nii", ".nii.gz")
# What nibabel raises on unreadable, truncated or corrupt files.
_READ_ERRORS = (
    nib.filebasedimages.ImageFileError,
    nib.spatialimages.HeaderDataError,
    OSError,
    EOFError,
    ValueError,
    zlib.error,
)


class Slices(NamedTuple):
    """Axial slices with their brain masks and provenance.

    Attributes
    ----------
    images : ndarray of float64, shape (N, H, W)
        Intensities in [0, 1]; the background is exactly 0.
    masks : ndarray of bool, shape (N, H, W)
        Brain masks, equal to ``images > 0``.
    info : list of dict
        One dict per slice with keys ``"source"`` (``"mni152"``, the file path,
        ``"array"`` or ``"synthetic"``), ``"subject"`` (an id string) and
        ``"slice"`` (the axial index ``z`` in the source volume). Pass it to
        ``pandas.DataFrame`` for a table.
    """

    images: np.ndarray
    masks: np.ndarray
    info: list


# --------------------------------------------------------------------------- checks


def _check_finite_non_negative(value, name: str) -> float:
    """Return ``value`` as float, raising unless it is finite and >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be finite and >= 0, got {value!r}")
    return float(value)


def _check_percentile(percentile) -> float:
    """Return ``percentile`` as float, raising unless it lies in (0, 100]."""
    percentile = check_in_range(percentile, "percentile", 0.0, 100.0)
    if percentile == 0:
        raise ValueError("`percentile` must lie in (0, 100], got 0")
    return percentile


def _check_fraction(value, name: str) -> float:
    """Return ``value`` as float, raising unless it lies in (0, 1]."""
    value = check_in_range(value, name, 0.0, 1.0)
    if value == 0:
        raise ValueError(f"`{name}` must lie in (0, 1], got 0")
    return value


def _check_slice_request(slices, n_slices) -> tuple[np.ndarray | None, int | None]:
    """Validate the ``slices`` / ``n_slices`` pair shared by the loaders."""
    if slices is not None and n_slices is not None:
        raise ValueError(
            "give either `slices` (explicit z indices) or `n_slices`, not both; "
            f"got slices={slices!r} and n_slices={n_slices!r}"
        )
    if n_slices is not None:
        n_slices = check_int(n_slices, "n_slices")
    if slices is None:
        return None, n_slices
    arr = np.atleast_1d(np.asarray(slices))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`slices` must be a non-empty 1D sequence, got {slices!r}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"`slices` must hold integer z indices, got {slices!r}")
    if (arr < 0).any():
        raise ValueError(f"`slices` must be >= 0, got {arr[arr < 0].tolist()}")
    return arr.astype(np.intp), n_slices


# ------------------------------------------------------------------- normalisation


def normalise(volume, mask=None, *, percentile=99.5):
    """Scale intensities to [0, 1] robustly inside a brain mask.

    The ``percentile``-th percentile of the intensities inside ``mask`` maps to
    1; larger values are clipped to 1, and everything outside ``mask`` (or
    below 0) is set to 0.

    Parameters
    ----------
    volume : array_like, any shape
        Real-valued intensities; NaN or infinite values are an error.
    mask : array_like of bool, same shape as `volume`, optional
        The brain. Defaults to ``volume > 0``, which suits skull-stripped data
        whose background is 0.
    percentile : float, default 99.5
        Percentile in (0, 100] of the in-mask intensities that maps to 1. A
        value below 100 keeps a few bright voxels from compressing the rest.

    Returns
    -------
    ndarray of float64, same shape as `volume`
        Normalised intensities in [0, 1], 0 outside `mask`.

    Raises
    ------
    ValueError
        If `volume` holds NaN or infinite values, `mask` is empty, or the
        percentile inside `mask` is not > 0.
    TypeError
        If `volume` is not real-valued.

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.data import normalise
    >>> normalise(np.array([0.0, 1.0, 2.0, 4.0]), percentile=100).tolist()
    [0.0, 0.25, 0.5, 1.0]
    """
    arr = np.asarray(volume)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`volume` must be real-valued, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"`volume` must be real-valued, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    n_bad = arr.size - np.count_nonzero(np.isfinite(arr))
    if n_bad:
        raise ValueError(f"`volume` holds {n_bad} NaN or infinite values")
    if mask is None:
        mask = arr > 0
    else:
        mask = check_binary_mask(mask)
        check_same_shape(arr, mask, "volume", "mask")
    percentile = _check_percentile(percentile)
    if not mask.any():
        raise ValueError("`mask` is empty: no brain voxels to normalise")

    scale = np.percentile(arr[mask], percentile)
    if scale <= 0:
        raise ValueError(
            f"the {percentile}th percentile inside `mask` is {scale!r}; it must be "
            "> 0 to scale intensities to [0, 1]"
        )
    out = np.clip(arr / scale, 0.0, 1.0)
    out[~mask] = 0.0
    return out


# ------------------------------------------------------------------------ template


def _nilearn_data_dir() -> Path:
    """Return nilearn's bundled data folder without importing nilearn."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the MNI152 template is read from the nilearn package, which is not "
            "installed; install nilearn (see requirements.txt)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


@functools.lru_cache(maxsize=1)
def _mni152_cached() -> tuple[dict, np.ndarray]:
    """Read the three template volumes once; arrays are float64 and read-only."""
    folder = _nilearn_data_dir()
    volumes = {}
    affine = None
    for key, name in _MNI152_FILES.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(
                f"MNI152 template file '{path}' is missing from the nilearn install"
            )
        img = nib.load(path)
        # Stored as uint8 0..255: the T1 as intensity, GM/WM as probability.
        data = np.asanyarray(img.dataobj).astype(np.float64) / 255.0
        data.flags.writeable = False
        volumes[key] = data
        affine = img.affine
    return volumes, affine


def load_mni152_volumes() -> dict:
    """Load the 1 mm MNI152 2009 T1 template and its tissue probability maps.

    The files ship inside the nilearn wheel, so nothing is downloaded.

    Returns
    -------
    dict
        ``"t1"``: T1 intensities in [0, 1] (the stored 0..255 divided by 255);
        ``"gm"`` and ``"wm"``: grey- and white-matter probabilities in [0, 1];
        all float64 of shape ``(197, 233, 189)`` in RAS+ voxel order (x left to
        right, y posterior to anterior, z inferior to superior). ``"affine"``:
        the ``(4, 4)`` voxel-to-MNI-mm affine. Fresh copies on every call.

    Notes
    -----
    The T1 template is skull-stripped, so its background is exactly 0. Later
    chapters combine the tissue maps into T2- or FLAIR-like contrasts; pass
    such a volume as `source` to :func:`load_slices` or as `template` to
    :func:`synthetic_subjects`.

    Examples
    --------
    >>> from pitfalls.data import load_mni152_volumes
    >>> vols = load_mni152_volumes()
    >>> vols["t1"].shape, vols["affine"].shape
    ((197, 233, 189), (4, 4))
    >>> bool(vols["gm"].max() <= 1.0)
    True
    """
    volumes, affine = _mni152_cached()
    out = {key: np.array(value) for key, value in volumes.items()}
    out["affine"] = np.array(affine)
    return out


# ---------------------------------------------------------------- slice geometry


def _display_stack(volume: np.ndarray, zs: np.ndarray) -> np.ndarray:
    """Return axial slices ``zs`` of a RAS+ volume as a display stack (N, Y, X)."""
    stack = np.moveaxis(volume[:, :, zs], -1, 0)  # (N, X, Y)
    # Rows: anterior at the top; columns: subject's left on the left.
    return stack.transpose(0, 2, 1)[:, ::-1, :]  # (N, Y, X)


def _padded_side(shape_2d: tuple[int, int], size: int) -> int:
    """Side of the square a display slice is zero-padded to before resizing."""
    # Slices that fit are only padded (1 mm pixels stay 1 mm); larger ones are
    # padded to their own square and then shrunk to `size`.
    return max(size, *shape_2d)


def _fit_to_size(stack: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad a stack (N, h, w) to a centred square, then resize to `size`."""
    n, h, w = stack.shape
    side = _padded_side((h, w), size)
    top, left = (side - h) // 2, (side - w) // 2
    square = np.zeros((n, side, side), dtype=np.float64)
    square[:, top : top + h, left : left + w] = stack
    if side != size:
        # Only ever shrinks; the anti-aliasing Gaussian acts in-plane only.
        square = resize(
            square,
            (n, size, size),
            order=1,
            mode="constant",
            cval=0.0,
            anti_aliasing=True,
            preserve_range=True,
        )
    return np.clip(square, 0.0, 1.0)


def _eligible_slices(brain: np.ndarray, min_area_fraction: float) -> np.ndarray:
    """Return the z indices whose brain area is >= a fraction of the largest."""
    area = brain.sum(axis=(0, 1))
    return np.flatnonzero(area >= min_area_fraction * area.max())


def _choose_slices(
    brain: np.ndarray, slices, n_slices, min_area_fraction: float, where: str
) -> np.ndarray:
    """Pick axial indices: explicit `slices`, or evenly spaced eligible ones."""
    depth = brain.shape[2]
    if slices is not None:
        too_deep = slices[slices >= depth]
        if too_deep.size:
            raise ValueError(
                f"{where}: `slices` {too_deep.tolist()} lie outside the volume's "
                f"{depth} axial slices (valid 0..{depth - 1})"
            )
        empty = slices[~brain[:, :, slices].any(axis=(0, 1))]
        if empty.size:
            raise ValueError(
                f"{where}: selected slices {empty.tolist()} hold no brain "
                "(all voxels are 0)"
            )
        return slices
    eligible = _eligible_slices(brain, min_area_fraction)
    if n_slices is None:
        return eligible
    if n_slices > eligible.size:
        raise ValueError(
            f"{where}: `n_slices`={n_slices} exceeds the {eligible.size} slices "
            f"whose brain area is >= {min_area_fraction} of the largest"
        )
    picks = np.round(np.linspace(0, eligible.size - 1, n_slices)).astype(np.intp)
    return eligible[picks]


def _slices_from_volume(
    volume: np.ndarray,
    *,
    where: str,
    source: str,
    subject: str,
    size: int,
    slices,
    n_slices,
    min_area_fraction: float,
    percentile: float,
) -> Slices:
    """Normalise a RAS+ volume, pick axial slices and bring them to `size`."""
    n_bad = volume.size - np.count_nonzero(np.isfinite(volume))
    if n_bad:
        raise ValueError(f"{where}: volume holds {n_bad} NaN or infinite voxels")
    brain = volume > 0
    if not brain.any():
        raise ValueError(f"{where}: volume has no voxels > 0 (all zero); no brain")
    zs = _choose_slices(brain, slices, n_slices, min_area_fraction, where)

    scaled = normalise(volume, brain, percentile=percentile)
    images = _fit_to_size(_display_stack(scaled, zs), size)
    info = [{"source": source, "subject": subject, "slice": int(z)} for z in zs]
    return Slices(images, images > 0, info)


# --------------------------------------------------------------------------- NIfTI


def _nifti_files(folder: Path) -> list[Path]:
    """Return the sorted NIfTI files of a directory, raising if there are none."""
    if not folder.exists():
        raise FileNotFoundError(f"data path '{folder}' does not exist")
    if not folder.is_dir():
        raise ValueError(f"'{folder}' is neither a directory nor a .nii/.nii.gz file")
    entries = sorted(folder.iterdir())
    if not entries:
        raise ValueError(f"data directory '{folder}' is empty")
    files = [p for p in entries if p.is_file() and p.name.endswith(_NIFTI_SUFFIXES)]
    if not files:
        names = ", ".join(p.name for p in entries[:5])
        raise ValueError(
            f"data directory '{folder}' holds no .nii or .nii.gz files "
            f"(found {names}{', ...' if len(entries) > 5 else ''})"
        )
    return files


def _read_nifti(path: Path) -> np.ndarray:
    """Read a NIfTI file as a float64 RAS+ 3D volume, naming `path` in errors."""
    try:
        img = nib.load(path)
        shape, dtype = img.shape, img.get_data_dtype()
    except _READ_ERRORS as exc:
        raise ValueError(f"could not read NIfTI file '{path}': {exc}") from exc
    if len(shape) == 4 and shape[3] != 1:
        raise ValueError(
            f"NIfTI file '{path}' is 4D with shape {shape}; only a singleton "
            "4th axis is accepted (one volume per file)"
        )
    if len(shape) not in (3, 4):
        raise ValueError(
            f"NIfTI file '{path}' has shape {shape}; expected a 3D volume "
            "(or 4D with a singleton 4th axis)"
        )
    if dtype.fields is not None or not (
        np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    ):
        raise ValueError(
            f"NIfTI file '{path}' stores dtype {dtype}; expected real intensities"
        )
    try:
        # Reorient so the 3rd axis runs inferior -> superior (axial slices).
        img = nib.as_closest_canonical(img)
        data = np.asanyarray(img.dataobj)
    except _READ_ERRORS as exc:
        raise ValueError(
            f"could not read the voxels of NIfTI file '{path}' (truncated or "
            f"corrupt?): {exc}"
        ) from exc
    zooms = tuple(float(z) for z in img.header.get_zooms()[:2])
    if not np.isclose(zooms[0], zooms[1], rtol=0.01):
        warnings.warn(
            f"NIfTI file '{path}' has anisotropic in-plane voxels {zooms} mm; "
            "slices keep their voxel grid, so they look stretched",
            stacklevel=3,  # the caller of load_slices
        )
    return np.asarray(data, dtype=np.float64).reshape(data.shape[:3])


def _strip_nifti_suffix(name: str) -> str:
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# --------------------------------------------------------------------- public API


def load_slices(
    source="mni152",
    *,
    size=256,
    slices=None,
    n_slices=None,
    min_area_fraction=0.5,
    percentile=99.5,
) -> Slices:
    """Load axial brain slices as images in [0, 1] with brain masks.

    Parameters
    ----------
    source : {"mni152"} or str or path-like or ndarray, default "mni152"
        ``"mni152"``: the 1 mm MNI152 2009 T1 template bundled with nilearn.
        A directory: every ``.nii``/``.nii.gz`` file in it, sorted by name,
        each a 3D volume (or 4D with a singleton 4th axis) of any real dtype
        and shape, reoriented to the closest RAS+ axes. A single NIfTI file is
        accepted too. A 3D array is taken as a RAS+ volume (e.g. a contrast
        built from :func:`load_mni152_volumes`). Pass a ``Path`` to read a
        directory literally named ``mni152``.
    size : int, default 256
        Side of the square output slices. A slice that fits is zero-padded,
        centred, to ``size`` x ``size`` (the 233 x 197 template slices become
        256 x 256 at 1 mm, as in the paper). A larger slice is zero-padded to
        its own square and resized to ``size`` with anti-aliasing, then
        clipped to [0, 1].
    slices : sequence of int, optional
        Explicit axial indices ``z`` (along the 3rd RAS+ axis), used for every
        volume. Each must exist and hold some brain.
    n_slices : int, optional
        Number of slices per volume when `slices` is not given: evenly spaced
        among the eligible ones. ``None`` keeps every eligible slice.
    min_area_fraction : float, default 0.5
        A slice is eligible when its brain area (voxels > 0) is at least this
        fraction of the largest slice's.
    percentile : float, default 99.5
        Passed to :func:`normalise`, applied per volume before slicing.

    Returns
    -------
    Slices
        ``images`` float64 ``(N, size, size)`` in [0, 1], ``masks`` bool
        ``(N, size, size)`` equal to ``images > 0``, and ``info`` with the
        source, subject id (``"mni152"``, the file name without suffix, or
        ``"array"``) and ``z`` of each slice, in file then ``z`` order.

    Raises
    ------
    FileNotFoundError
        If the directory or file does not exist.
    ValueError
        Naming the file: empty directory, no NIfTI files, unreadable or
        truncated file, a 2D or 5D volume, 4D with more than one volume,
        NaN or infinite voxels, an all-zero volume, selected slices without
        brain, `slices` outside the volume, or `n_slices` larger than the
        eligible slices.
    TypeError
        If `source` has an unsupported type, or `size`, `slices` or `n_slices`
        are not integers.

    Notes
    -----
    Orientation: rows run anterior (top) to posterior (bottom) and columns
    from the subject's left to their right (neurological convention).

    The brain mask is ``image > 0`` after padding and resizing, as in the
    paper, which assumes skull-stripped data with a zero background. After
    anti-aliased resizing the mask is therefore about one output pixel wider
    than the resized brain outline. Intensities are normalised once per
    volume, so slices of one volume stay comparable. In-plane voxel sizes are
    not resampled to 1 mm; anisotropic in-plane voxels trigger a warning.

    Examples
    --------
    >>> from pitfalls.data import load_slices
    >>> data = load_slices("mni152", size=64, n_slices=3)
    >>> data.images.shape, data.masks.dtype
    ((3, 64, 64), dtype('bool'))
    >>> bool(((data.images > 0) == data.masks).all())
    True
    >>> [row["slice"] for row in data.info]
    [38, 84, 130]
    """
    size = check_int(size, "size")
    slices, n_slices = _check_slice_request(slices, n_slices)
    min_area_fraction = _check_fraction(min_area_fraction, "min_area_fraction")
    percentile = _check_percentile(percentile)
    options = dict(
        size=size,
        slices=slices,
        n_slices=n_slices,
        min_area_fraction=min_area_fraction,
        percentile=percentile,
    )

    if isinstance(source, str) and source == "mni152":
        volumes, _ = _mni152_cached()
        return _slices_from_volume(
            volumes["t1"],
            where="MNI152 template",
            source="mni152",
            subject="mni152",
            **options,
        )
    if isinstance(source, np.ndarray):
        volume = source
        if volume.ndim != 3:
            raise ValueError(
                f"`source` array must be a 3D volume, got shape {volume.shape}"
            )
        if volume.dtype == bool or not (
            np.issubdtype(volume.dtype, np.integer)
            or np.issubdtype(volume.dtype, np.floating)
        ):
            raise TypeError(f"`source` array must be real, got dtype {volume.dtype}")
        return _slices_from_volume(
            volume.astype(np.float64, copy=False),
            where="`source` array",
            source="array",
            subject="array",
            **options,
        )
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "`source` must be 'mni152', a directory or NIfTI path, or a 3D array; "
            f"got {type(source).__name__}"
        )

    path = Path(source)
    if path.is_file() and path.name.endswith(_NIFTI_SUFFIXES):
        files = [path]
    else:
        files = _nifti_files(path)
    parts = []
    for file in files:
        volume = _read_nifti(file)
        parts.append(
            _slices_from_volume(
                volume,
                where=f"NIfTI file '{file}'",
                source=str(file),
                subject=_strip_nifti_suffix(file.name),
                **options,
            )
        )
    return Slices(
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.masks for p in parts]),
        [row for p in parts for row in p.info],
    )


def _smooth_basis(positions: np.ndarray, extent: int, spacing: float) -> np.ndarray:
    """Gaussian basis (len(positions), n_controls) with unit row energy."""
    n_controls = max(2, int(round((extent - 1) / spacing)) + 1)
    centres = np.linspace(0.0, extent - 1.0, n_controls)
    weights = np.exp(
        -0.5 * ((positions[:, None] - centres[None, :]) / (0.5 * spacing)) ** 2
    )
    # Unit sum of squares per row: with i.i.d. N(0, s^2) control values the
    # field has standard deviation exactly s at every point.
    return weights / np.sqrt((weights**2).sum(axis=1, keepdims=True))


def _smooth_field(
    rng: np.random.Generator,
    n_components: int,
    sd: float,
    bases: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Sample a smooth Gaussian field (C, N, rows, cols) on separable bases."""
    basis_x, basis_y, basis_z = bases  # (cols, i), (rows, j), (N, k)
    coeffs = rng.normal(
        0.0, sd, (n_components, basis_x.shape[1], basis_y.shape[1], basis_z.shape[1])
    )
    return np.einsum(
        "cijk,Ci,Rj,nk->cnRC", coeffs, basis_x, basis_y, basis_z, optimize=True
    )


def synthetic_subjects(
    n_subjects,
    *,
    seed=0,
    size=256,
    n_slices=8,
    slices=None,
    template=None,
    deformation_mm=2.0,
    control_spacing_mm=40.0,
    bias_sd=0.1,
    gamma_sd=0.1,
    noise_sd=0.02,
    min_area_fraction=0.5,
    percentile=99.5,
) -> Slices:
    """Synthesise seeded "subjects" from the MNI152 template, as axial slices.

    Each subject is the template under its own smooth 3D deformation, smooth
    multiplicative bias field and gamma change, sliced axially, brought to
    `size` as in :func:`load_slices`, given Rician noise inside the brain and
    renormalised to [0, 1].

    Parameters
    ----------
    n_subjects : int
        Number of subjects.
    seed : int, default 0
        Non-negative seed. Subject ``i`` depends only on ``(seed, i)``, so the
        first subjects of a larger set equal a smaller set with the same seed,
        and different seeds give different subjects (e.g. seed 0 for
        training, seed 1 for test).
    size : int, default 256
        Output side; padding and resizing follow :func:`load_slices`.
    n_slices : int, default 8
        Axial slices per subject, drawn at random without replacement among
        the slices whose brain area is >= `min_area_fraction` of the largest.
        Ignored when `slices` is given.
    slices : sequence of int, optional
        Explicit template ``z`` indices, the same for every subject.
    template : ndarray, shape (X, Y, Z), optional
        A RAS+ 1 mm volume with zero background to deform instead of the T1
        template, e.g. a T2-like contrast from :func:`load_mni152_volumes`.
    deformation_mm : float, default 2.0
        Point-wise standard deviation (mm, per axis) of the displacement field.
    control_spacing_mm : float, default 40.0
        Spacing of the field's control points; larger is smoother.
    bias_sd : float, default 0.1
        Point-wise standard deviation of the log bias field, whose control
        points are twice as far apart as the deformation's.
    gamma_sd : float, default 0.1
        Standard deviation of ``log(gamma)``, one gamma per subject.
    noise_sd : float, default 0.02
        Standard deviation of each Gaussian channel of the Rician noise,
        relative to intensities in [0, 1].
    min_area_fraction : float, default 0.5
        Eligibility threshold for the random slice choice.
    percentile : float, default 99.5
        Renormalisation percentile, per subject over its slices' brain pixels.

    Returns
    -------
    Slices
        ``n_subjects * n_slices`` slices (subject-major): images float64 in
        [0, 1], masks ``images > 0`` (the deformed brain), and info with
        ``source="synthetic"``, ``subject="seed{seed}-{i:03d}"`` and the
        template ``z`` each slice was centred on.

    Raises
    ------
    ValueError
        For negative or non-finite parameters, an invalid `template`, or more
        `n_slices` than eligible slices.
    TypeError
        For non-integer `n_subjects`, `seed`, `size`, `n_slices` or `slices`.

    Notes
    -----
    What is modelled: a low-frequency displacement field (Gaussian bumps on a
    control grid, a few mm, including through-plane motion), a smooth
    multiplicative bias field, a global gamma (contrast) change and Rician
    magnitude noise inside the brain, then robust renormalisation. The
    background stays exactly 0, as after skull stripping.

    What is not: there is no pathology; the deformations do not reproduce real
    inter-subject anatomy (sulcal patterns, ventricle size, atrophy); every
    subject shares the single template's contrast, resolution and
    smoothness (it is an average of 152 brains, so it is smoother than any
    real scan); there is no skull, motion, ghosting or partial-volume model;
    and noise is added after resizing, so its level does not depend on `size`.
    Interpolation is linear.

    Examples
    --------
    >>> from pitfalls.data import synthetic_subjects
    >>> train = synthetic_subjects(2, seed=0, size=64, n_slices=3)
    >>> train.images.shape
    (6, 64, 64)
    >>> train.info[0]["subject"], train.info[3]["subject"]
    ('seed0-000', 'seed0-001')
    >>> bool(train.images.min() >= 0 and train.images.max() <= 1)
    True
    """
    n_subjects = check_int(n_subjects, "n_subjects")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"`seed` must be an integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"`seed` must be >= 0, got {seed!r}")
    size = check_int(size, "size")
    if slices is not None:
        n_slices = None
    slices, n_slices = _check_slice_request(slices, n_slices)
    for name, value in [
        ("deformation_mm", deformation_mm),
        ("bias_sd", bias_sd),
        ("gamma_sd", gamma_sd),
        ("noise_sd", noise_sd),
    ]:
        _check_finite_non_negative(value, name)
    control_spacing_mm = _check_finite_non_negative(
        control_spacing_mm, "control_spacing_mm"
    )
    if control_spacing_mm < 1:
        raise ValueError(
            f"`control_spacing_mm` must be >= 1, got {control_spacing_mm!r}"
        )
    min_area_fraction = _check_fraction(min_area_fraction, "min_area_fraction")
    percentile = _check_percentile(percentile)

    if template is None:
        volumes, _ = _mni152_cached()
        volume = normalise(volumes["t1"], percentile=percentile)
        where = "MNI152 template"
    else:
        volume = np.asarray(template)
        if volume.ndim != 3:
            raise ValueError(
                f"`template` must be a 3D volume, got shape {volume.shape}"
            )
        where = "`template`"
        if not (np.isfinite(volume).all() and (volume > 0).any()):
            raise ValueError(
                "`template` must be finite and hold some voxels > 0 (the brain)"
            )
        volume = normalise(volume, percentile=percentile)
    brain = volume > 0
    n_x, n_y, n_z = volume.shape
    side = _padded_side((n_y, n_x), size)
    top, left = (side - n_y) // 2, (side - n_x) // 2
    # Template coordinates of the padded display grid (see _display_stack).
    rows_y = (n_y - 1) - (np.arange(side) - top)  # (side,)
    cols_x = np.arange(side) - left  # (side,)
    basis_x = _smooth_basis(cols_x, n_x, control_spacing_mm)
    basis_y = _smooth_basis(rows_y, n_y, control_spacing_mm)
    bias_x = _smooth_basis(cols_x, n_x, 2 * control_spacing_mm)
    bias_y = _smooth_basis(rows_y, n_y, 2 * control_spacing_mm)
    if slices is None:
        eligible = _eligible_slices(brain, min_area_fraction)
        if n_slices > eligible.size:
            raise ValueError(
                f"{where}: `n_slices`={n_slices} exceeds the {eligible.size} slices "
                f"whose brain area is >= {min_area_fraction} of the largest"
            )
    else:
        _choose_slices(brain, slices, None, min_area_fraction, where)

    images, masks, info = [], [], []
    for index, child in enumerate(np.random.SeedSequence(seed).spawn(n_subjects)):
        rng = np.random.default_rng(child)
        if slices is None:
            zs = np.sort(rng.choice(eligible, size=n_slices, replace=False))
        else:
            zs = slices
        z_float = zs.astype(np.float64)

        # Displacement field (3, N, side, side) in voxels (1 mm).
        bases = (basis_x, basis_y, _smooth_basis(z_float, n_z, control_spacing_mm))
        shift = _smooth_field(rng, 3, deformation_mm, bases)
        coords = np.empty((3, zs.size, side, side))
        coords[0] = cols_x[None, None, :] + shift[0]
        coords[1] = rows_y[None, :, None] + shift[1]
        coords[2] = z_float[:, None, None] + shift[2]
        warped = ndimage.map_coordinates(volume, coords, order=1, cval=0.0)

        bias_z = _smooth_basis(z_float, n_z, 2 * control_spacing_mm)
        bias_bases = (bias_x, bias_y, bias_z)
        warped *= np.exp(_smooth_field(rng, 1, bias_sd, bias_bases)[0])
        warped **= np.exp(rng.normal(0.0, gamma_sd))
        stack = _fit_to_size(warped, size)
        brain_2d = stack > 0

        # Rician magnitude noise inside the brain; the background stays 0.
        real = stack + rng.normal(0.0, noise_sd, stack.shape)
        imag = rng.normal(0.0, noise_sd, stack.shape)
        noisy = np.where(brain_2d, np.hypot(real, imag), 0.0)
        stack = normalise(noisy, brain_2d, percentile=percentile)

        images.append(stack)
        masks.append((stack > 0) & brain_2d)
        subject = f"seed{seed}-{index:03d}"
        info.extend(
            {"source": "synthetic", "subject": subject, "slice": int(z)} for z in zs
        )
    return Slices(np.concatenate(images), np.concatenate(masks), info)


def equalize_histogram(images, masks, *, nbins=256):
    """Equalise the histogram inside the brain mask of each slice.

    Parameters
    ----------
    images : array_like, shape (H, W) or (N, H, W)
        Intensities.
    masks : array_like of bool, same shape as `images`
        Brain masks; only their pixels set the histogram.
    nbins : int, default 256
        Number of histogram bins.

    Returns
    -------
    ndarray of float64, same shape as `images`
        Equalised intensities in (0, 1] inside the mask, exactly 0 outside.
        A slice with an empty mask is returned as all zeros.

    Notes
    -----
    Uses :func:`skimage.exposure.equalize_hist` per slice with ``mask=``, so
    the background (a large spike at 0) does not consume half the output
    range. The in-mask values become roughly uniform on (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from pitfalls.data import equalize_histogram
    >>> image = np.zeros((4, 4))
    >>> image[1:3, 1:3] = [[0.1, 0.2], [0.3, 0.9]]
    >>> out = equalize_histogram(image, image > 0)
    >>> float(out[0, 0]), float(out.max())
    (0.0, 1.0)
    """
    arr = np.asarray(images)
    if arr.ndim not in (2, 3):
        raise ValueError(f"`images` must be (H, W) or (N, H, W), got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"`images` must be real-valued, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    masks = check_binary_mask(masks, "masks")
    check_same_shape(arr, masks, "images", "masks")
    nbins = check_int(nbins, "nbins")

    stack = arr.reshape((-1,) + arr.shape[-2:])  # (N, H, W)
    mask_stack = masks.reshape(stack.shape)
    out = np.zeros_like(stack)
    for k, (image, mask) in enumerate(zip(stack, mask_stack)):
        if mask.any():
            out[k] = np.where(mask, equalize_hist(image, nbins=nbins, mask=mask), 0.0)
    return np.clip(out, 0.0, 1.0).reshape(arr.shape)


def split_by_subject(slices: Slices, *, test_fraction=0.2, seed=0):
    """Split slices into training and test sets with no subject in both.

    Parameters
    ----------
    slices : Slices
        As returned by :func:`load_slices` or :func:`synthetic_subjects`;
        a subject is one distinct ``(source, subject)`` pair of ``info``
        (one NIfTI file, or one synthetic subject).
    test_fraction : float
        Share of subjects in the test set, in (0, 1); at least one subject
        goes to each side.
    seed : int
        Seeds the assignment of subjects.

    Returns
    -------
    (train, test) : tuple of Slices

    Examples
    --------
    >>> s = synthetic_subjects(3, size=64, n_slices=2, seed=0)
    >>> train, test = split_by_subject(s, test_fraction=0.3)
    >>> len(train.images), len(test.images)
    (4, 2)
    """
    if not isinstance(slices, Slices):
        raise TypeError(f"`slices` must be a Slices, got {type(slices).__name__}")
    fraction = _check_fraction(test_fraction, "test_fraction")
    if not 0 < fraction < 1:
        raise ValueError(f"`test_fraction` must lie in (0, 1), got {test_fraction!r}")
    keys = [(str(row["source"]), str(row["subject"])) for row in slices.info]
    subjects = sorted(set(keys))
    if len(subjects) < 2:
        raise ValueError(
            f"cannot split {len(subjects)} subject(s) into training and test sets"
        )
    order = np.random.default_rng(seed).permutation(len(subjects))
    n_test = min(max(int(round(fraction * len(subjects))), 1), len(subjects) - 1)
    test_subjects = {subjects[i] for i in order[:n_test]}
    is_test = np.array([key in test_subjects for key in keys])

    def pick(select):
        idx = np.flatnonzero(select)
        return Slices(
            slices.images[idx], slices.masks[idx], [slices.info[i] for i in idx]
        )

    return pick(~is_test), pick(is_test)
