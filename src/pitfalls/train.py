"""Train the book's networks: seeded, resumable and cached by configuration.

One :class:`TrainConfig` describes a run; :func:`train` fits a network to an
array of images ``(N, H, W)`` with an L1 loss (plus the auxiliary loss of the
network, non-zero for the VQ-VAE) and AdamW, as in the paper. Checkpoints are
written atomically and read with ``torch.load(..., weights_only=True)``, so an
interrupted run resumes where it stopped and gives the same weights as an
uninterrupted one. :func:`train_cached` keys finished runs by a hash of the
configuration and the training data, and :func:`reconstruct` is the one call that
turns a trained network and images into reconstructions.

Examples
--------
>>> import numpy as np
>>> images = np.random.default_rng(0).random((8, 16, 16))
>>> config = TrainConfig(
...     model="dense_ae", model_kwargs={"latent_dim": 4}, image_size=16,
...     steps=2, batch_size=4, eval_every=1,
... )
>>> model, history = train(config, images, progress=False)
>>> history["step"]
[1, 2]
>>> reconstruct(model, images[:3]).shape
(3, 16, 16)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import numbers
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ._validate import check_images_3d
from .models import MODEL_CLASSES, create_model, model_arguments
from .models._blocks import check_image_size, check_int

__all__ = [
    "CHECKPOINT_NAME",
    "CONFIG_NAME",
    "TrainConfig",
    "train",
    "train_cached",
    "config_hash",
    "save_checkpoint",
    "load_checkpoint",
    "reconstruct",
    "cli_train",
]

#: File name of the checkpoint inside a run directory.
CHECKPOINT_NAME = "checkpoint.pt"
#: File name of the human-readable configuration written beside it.
CONFIG_NAME = "config.json"

_FORMAT = "pitfalls-checkpoint"
_FORMAT_VERSION = 1
# Bump to invalidate every cached run, e.g. after a change to the networks.
_CACHE_VERSION = 1
_PAYLOAD_KEYS = (
    "format",
    "version",
    "config_json",
    "model_state",
    "optimizer_state",
    "step",
    "finished",
    "history_json",
    "extra",
)
# Fields that may differ between a checkpoint and the run resuming from it.
_RESUMABLE_FIELDS = ("steps", "checkpoint_every")


# --------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run, as plain JSON-able values.

    Parameters
    ----------
    model : {"dense_ae", "spatial_ae", "vqvae"}
        Network name for :func:`pitfalls.models.create_model`.
    model_kwargs : dict
        Constructor arguments of the network other than ``image_size``, such as
        ``{"latent_dim": 128}``. Values must be JSON-able; the dict is copied.
    image_size : int
        Side length of the square training images; a power of two >= 16.
    steps : int
        Number of optimisation steps (batches).
    batch_size : int
        Images per step. With fewer training images than that, each step uses
        all of them.
    lr : float
        AdamW learning rate (the paper's 1e-3).
    weight_decay : float
        AdamW weight decay (the paper's 2e-2).
    seed : int
        Seeds the initial weights, the validation split and the batch order.
    val_fraction : float
        Fraction of ``images`` held out for validation when no explicit
        validation images are given; in [0, 1). Zero disables validation.
    eval_every : int
        Record the training and validation loss every this many steps (and at
        the last step).
    checkpoint_every : int
        Write a checkpoint every this many steps (and at the last step) when a
        checkpoint directory is given.

    Raises
    ------
    ValueError
        If a value is out of range or ``model``/``model_kwargs`` name an unknown
        network or argument; the message names the field and the value.
    TypeError
        If a field has the wrong type.

    Examples
    --------
    >>> from pitfalls.models import PAPER_MODELS
    >>> config = TrainConfig(**PAPER_MODELS["AE (spatial, 8x8x2)"], steps=500)
    >>> config.model, config.model_kwargs, config.image_size
    ('spatial_ae', {'latent_channels': 2}, 128)
    >>> TrainConfig.from_json(config.to_json()) == config
    True
    """

    model: str = "dense_ae"
    model_kwargs: dict = dataclasses.field(default_factory=dict)
    image_size: int = 128
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 2e-2
    seed: int = 0
    val_fraction: float = 0.1
    eval_every: int = 100
    checkpoint_every: int = 100

    def __post_init__(self) -> None:
        if self.model not in MODEL_CLASSES:
            raise ValueError(
                f"`model` must be one of {sorted(MODEL_CLASSES)}, got {self.model!r}"
            )
        if not isinstance(self.model_kwargs, Mapping):
            raise TypeError(
                f"`model_kwargs` must be a dict, got {type(self.model_kwargs).__name__}"
            )
        kwargs = copy.deepcopy(dict(self.model_kwargs))
        accepted = [a for a in model_arguments(self.model) if a != "image_size"]
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            raise ValueError(
                f"`model_kwargs` for {self.model!r} accepts {accepted}, got {unknown}"
            )
        if kwargs.get("in_channels", 1) != 1:
            raise ValueError(
                "`model_kwargs` must not set `in_channels` other than 1: training "
                f"takes single-channel images, got {kwargs['in_channels']!r}"
            )
        try:
            json.dumps(kwargs, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"`model_kwargs` must hold JSON-able values, got {kwargs!r}"
            ) from exc
        object.__setattr__(self, "model_kwargs", kwargs)

        check_image_size(self.image_size)
        check_int(self.steps, "steps", 1)
        check_int(self.batch_size, "batch_size", 1)
        check_int(self.seed, "seed", 0)
        check_int(self.eval_every, "eval_every", 1)
        check_int(self.checkpoint_every, "checkpoint_every", 1)
        _check_real(self.lr, "lr", low=0.0, low_inclusive=False)
        _check_real(self.weight_decay, "weight_decay", low=0.0)
        _check_real(self.val_fraction, "val_fraction", low=0.0, high=1.0)

    def to_dict(self) -> dict:
        """Return the configuration as a dict of plain values."""
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = None) -> str:
        """Return the configuration as a JSON string with sorted keys."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build a configuration from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            If ``data`` has keys that are not fields of the configuration.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"`data` holds keys that are not TrainConfig fields: {unknown}"
            )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """Build a configuration from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def build_model(self) -> nn.Module:
        """Return a freshly initialised network for this configuration."""
        return create_model(self.model, image_size=self.image_size, **self.model_kwargs)


def _check_real(
    value,
    name: str,
    *,
    low: float,
    high: float | None = None,
    low_inclusive: bool = True,
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r}")
    value = float(value)
    above = value >= low if low_inclusive else value > low
    below = high is None or value < high
    if not (math.isfinite(value) and above and below):
        left = "[" if low_inclusive else "("
        right = f"{high})" if high is not None else "inf)"
        raise ValueError(f"`{name}` must lie in {left}{low}, {right}, got {value!r}")
    return value


# --------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    config: TrainConfig,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    history: Mapping[str, list] | None = None,
    finished: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically, with ``config.json`` beside it.

    The file is first written to a temporary file in the same directory,
    flushed to disk and then renamed over ``path``, so an interruption leaves
    either the previous checkpoint or the new one, never a partial file.

    Parameters
    ----------
    path : str or path-like
        Checkpoint file; its directory is created if needed.
    model : torch.nn.Module
        Network whose ``state_dict`` is stored.
    config : TrainConfig
        Configuration the network was built from; stored as JSON.
    optimizer : torch.optim.Optimizer, optional
        Optimiser whose state is stored for resuming.
    step : int
        Number of optimisation steps taken so far.
    history : dict of lists, optional
        Loss history as returned by :func:`train`; stored as JSON.
    finished : bool
        Whether the run has reached ``config.steps``.
    extra : mapping, optional
        Further entries (tensors, numbers, strings, lists, dicts of these) that
        :func:`load_checkpoint` returns in its ``extra`` dict.

    Returns
    -------
    pathlib.Path
        The checkpoint path.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"`config` must be a TrainConfig, got {type(config).__name__}")
    path = Path(path)
    payload = {
        "format": _FORMAT,
        "version": _FORMAT_VERSION,
        "config_json": config.to_json(),
        "model_state": model.state_dict(),
        "optimizer_state": None if optimizer is None else optimizer.state_dict(),
        "step": check_int(step, "step", 0),
        "finished": bool(finished),
        "history_json": json.dumps(dict(history) if history is not None else {}),
        "extra": dict(extra) if extra is not None else {},
    }
    _atomic_write(path, lambda fh: torch.save(payload, fh))
    config_text = (config.to_json(indent=2) + "\n").encode()
    _atomic_write(path.parent / CONFIG_NAME, lambda fh: fh.write(config_text))
    return path


def load_checkpoint(
    path: str | os.PathLike, *, model: nn.Module | None = None
) -> tuple[nn.Module, TrainConfig, dict]:
    """Read a checkpoint written by :func:`save_checkpoint` or :func:`train`.

    Parameters
    ----------
    path : str or path-like
        Checkpoint file, or a run directory holding ``checkpoint.pt``.
    model : torch.nn.Module, optional
        Network to load the weights into. By default one is built from the
        stored configuration (without touching torch's global random state).

    Returns
    -------
    model : torch.nn.Module
        The network with the stored weights, in evaluation mode.
    config : TrainConfig
        The stored configuration.
    extra : dict
        ``step``, ``finished``, ``history`` (dict of lists), ``optimizer_state``
        (or None) and the entries passed as ``extra`` when saving.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is corrupted, truncated or not a checkpoint of this package,
        or if its weights do not fit ``model`` (missing or unexpected entries,
        shape mismatch). The message names the file and the problem; the
        original exception is chained.

    Notes
    -----
    The file is read with ``torch.load(..., weights_only=True)``, which refuses
    arbitrary pickled objects; everything besides tensors is stored as JSON text
    or plain numbers and strings.
    """
    path = _checkpoint_file(path)
    payload = _read_payload(path)
    config = _payload_config(payload, path)
    if model is None:
        # Building a network draws its initial weights; keep the caller's RNG.
        with torch.random.fork_rng(devices=[]):
            model = config.build_model()
    _load_model_state(model, payload["model_state"], path)
    model.eval()
    extra = {
        "step": payload["step"],
        "finished": payload["finished"],
        "history": _payload_history(payload, path),
        "optimizer_state": payload["optimizer_state"],
        **payload["extra"],
    }
    return model, config, extra


def _checkpoint_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path / CHECKPOINT_NAME if path.is_dir() else path


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_payload(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ValueError(
            f"checkpoint {path} cannot be read; it is corrupted or truncated "
            f"({type(exc).__name__}: {reason}). Delete it to train afresh."
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(
            f"{path} is not a checkpoint of this package (no {_FORMAT!r} marker)"
        )
    missing = [key for key in _PAYLOAD_KEYS if key not in payload]
    if missing:
        raise ValueError(f"checkpoint {path} lacks the entries {missing}")
    if payload["version"] != _FORMAT_VERSION:
        raise ValueError(
            f"checkpoint {path} has format version {payload['version']!r}; this "
            f"version of the package reads version {_FORMAT_VERSION}"
        )
    return payload


def _payload_config(payload: dict, path: Path) -> TrainConfig:
    try:
        return TrainConfig.from_json(payload["config_json"])
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"checkpoint {path} holds an invalid configuration: {exc}"
        ) from exc


def _payload_history(payload: dict, path: Path) -> dict:
    try:
        return json.loads(payload["history_json"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"checkpoint {path} holds an invalid history: {exc}") from exc


def _load_model_state(model: nn.Module, state, path: Path) -> None:
    if not isinstance(state, Mapping):
        raise ValueError(f"checkpoint {path} holds no model weights (got {state!r})")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        problem = _describe_mismatch(model.state_dict(), state)
        raise ValueError(
            f"checkpoint {path} does not fit the model {type(model).__name__}: "
            f"{problem}"
        ) from exc


def _describe_mismatch(expected: Mapping, found: Mapping) -> str:
    def listed(keys: Sequence[str]) -> str:
        head = ", ".join(keys[:3])
        return head + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")

    parts = []
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing:
        parts.append(f"missing keys {listed(missing)}")
    if unexpected:
        parts.append(f"unexpected keys {listed(unexpected)}")
    shapes = [
        f"{key} has shape {tuple(found[key].shape)} in the checkpoint but "
        f"{tuple(expected[key].shape)} in the model"
        for key in sorted(set(expected) & set(found))
        if getattr(found[key], "shape", None) != expected[key].shape
    ]
    if shapes:
        parts.append(listed(shapes))
    return "; ".join(parts) or "the weights could not be loaded"


# --------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------


def _new_history() -> dict[str, list]:
    return {"step": [], "train_loss": [], "train_aux_loss": [], "val_loss": []}


def _seed_for(*entropy: int) -> int:
    """Return a well-mixed 63-bit seed derived from non-negative integers."""
    state = np.random.SeedSequence(list(entropy)).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


class _EpochSampler:
    """Batch indices for a step: epoch-wise permutations, no state to save.

    The permutation of epoch ``e`` comes from a ``torch.Generator`` seeded with
    ``(seed, e)``, so the batch of any step is a pure function of the step and a
    resumed run sees exactly the batches an uninterrupted run would.
    """

    def __init__(self, num_images: int, batch_size: int, seed: int) -> None:
        self.num_images = num_images
        self.batch_size = min(batch_size, num_images)
        self.per_epoch = num_images // self.batch_size  # drop the last partial batch
        self.seed = seed
        self._epoch = -1
        self._order = torch.empty(0, dtype=torch.int64)

    def indices(self, step: int) -> torch.Tensor:
        epoch, position = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(_seed_for(self.seed, 1, epoch))
            self._order = torch.randperm(self.num_images, generator=generator)
            self._epoch = epoch
        start = position * self.batch_size
        return self._order[start : start + self.batch_size]


def _as_image_tensor(images, name: str, image_size: int) -> torch.Tensor:
    arr = check_images_3d(images, name)
    if arr.shape[1:] != (image_size, image_size):
        raise ValueError(
            f"`{name}` must have shape (N, {image_size}, {image_size}) to match "
            f"`image_size`, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"`{name}` must be finite, got NaN or infinite values")
    low, high = float(arr.min()), float(arr.max())
    if low < 0 or high > 1:
        warnings.warn(
            f"`{name}` should lie in [0, 1], got values in [{low:.3g}, {high:.3g}]",
            stacklevel=3,
        )
    # Contiguous: torch cannot wrap arrays with negative strides, e.g. images[::-1].
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def _split(
    config: TrainConfig, images, val_images
) -> tuple[torch.Tensor, torch.Tensor]:
    train_x = _as_image_tensor(images, "images", config.image_size)
    if val_images is not None:
        return train_x, _as_image_tensor(val_images, "val_images", config.image_size)
    num = len(train_x)
    num_val = round(config.val_fraction * num)
    if config.val_fraction > 0:
        num_val = max(num_val, 1)
    if num - num_val < 1:
        raise ValueError(
            f"`val_fraction` {config.val_fraction} leaves no training images out of "
            f"{num}; lower it or pass `val_images`"
        )
    generator = torch.Generator().manual_seed(_seed_for(config.seed, 0))
    order = torch.randperm(num, generator=generator)
    return train_x[order[num_val:]], train_x[order[:num_val]]


def _fingerprint(*tensors: torch.Tensor) -> str:
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.contiguous().numpy())  # buffer protocol: no copy
    return digest.hexdigest()


@contextlib.contextmanager
def _deterministic_algorithms() -> Iterator[None]:
    """Enable torch's deterministic algorithms, restoring the previous setting."""
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn_only)


def _to_channels_last(batch: torch.Tensor) -> torch.Tensor:
    # (B, H, W) -> (B, 1, H, W); channels-last is about a third faster on CPU here.
    return batch.unsqueeze(1).contiguous(memory_format=torch.channels_last)


def _train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, batch: torch.Tensor
) -> tuple[float, float]:
    """Take one optimisation step; return the L1 loss and the auxiliary loss."""
    optimizer.zero_grad(set_to_none=True)
    reconstruction, aux_loss = model(batch)
    l1_loss = F.l1_loss(reconstruction, batch)
    (l1_loss + aux_loss).backward()
    optimizer.step()
    return l1_loss.item(), aux_loss.item()


def _validation_loss(model: nn.Module, val_x: torch.Tensor, batch_size: int) -> float:
    """Return the mean per-pixel L1 loss on ``val_x``, with the network in eval mode."""
    was_training = model.training
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(val_x), batch_size):
            batch = _to_channels_last(val_x[start : start + batch_size])
            reconstruction, _ = model(batch)
            total += F.l1_loss(reconstruction, batch, reduction="sum").item()
    model.train(was_training)
    return total / val_x.numel()


def train(
    config: TrainConfig,
    images,
    *,
    val_images=None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    resume: bool = True,
) -> tuple[nn.Module, dict[str, list]]:
    """Train a network on single-channel images.

    Parameters
    ----------
    config : TrainConfig
        The run: network, image size, steps, batch size, optimiser and seed.
    images : array_like
        Training images, shape ``(N, image_size, image_size)``, intensities
        expected in [0, 1] (a warning is issued otherwise). A fraction
        ``config.val_fraction`` is held out for validation unless
        ``val_images`` is given.
    val_images : array_like, optional
        Validation images, shape ``(M, image_size, image_size)``; when given,
        all of ``images`` is used for training.
    checkpoint_dir : str or path-like, optional
        Directory for ``checkpoint.pt`` and ``config.json``, written every
        ``config.checkpoint_every`` steps and at the end.
    progress : bool
        Show a tqdm progress bar (on stderr) with the current loss.
    resume : bool
        Continue from the checkpoint in ``checkpoint_dir`` if there is one;
        otherwise start afresh and overwrite it.

    Returns
    -------
    model : torch.nn.Module
        The trained network, in evaluation mode.
    history : dict of lists
        Recorded every ``config.eval_every`` steps and at the last step:
        ``step``, ``train_loss`` (mean L1 loss over the steps since the previous
        record), ``train_aux_loss`` (likewise, for the auxiliary loss) and
        ``val_loss`` (mean per-pixel L1 loss on the validation images in eval
        mode, or None without validation images).

    Raises
    ------
    ValueError
        If the images do not match ``config.image_size``, or the checkpoint
        to resume from is unreadable, was written for another configuration
        (fields other than ``steps`` and ``checkpoint_every``) or other images,
        or has already taken more steps than ``config.steps``.

    Notes
    -----
    The run is a deterministic function of the configuration and the images:
    the seed fixes the initial weights (drawn inside
    ``torch.random.fork_rng``, so the caller's global random state is left
    alone), the validation split and the batch order (a fresh permutation per
    epoch from a seeded ``torch.Generator``; the last partial batch of an epoch
    is dropped), and torch's deterministic algorithms are switched on for the
    duration. Resuming restores the weights, the optimiser state, the step, the
    partial loss sums and the history; because the batch order is a function of
    the step alone, the resumed run ends with the same weights as an
    uninterrupted one, given the same number of CPU threads. Raising ``steps``
    and resuming continues a finished run.

    The held-out split draws individual slices; when slices come from a few
    subjects, pass ``val_images`` from other subjects instead.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"`config` must be a TrainConfig, got {type(config).__name__}")
    train_x, val_x = _split(config, images, val_images)
    fingerprint = _fingerprint(train_x, val_x)
    checkpoint = (
        None if checkpoint_dir is None else Path(checkpoint_dir) / CHECKPOINT_NAME
    )

    with torch.random.fork_rng(devices=[]), _deterministic_algorithms():
        torch.manual_seed(config.seed)
        model = config.build_model().to(memory_format=torch.channels_last)
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        state = {"step": 0, "loss_sum": 0.0, "aux_sum": 0.0, "count": 0}
        history = _new_history()
        if resume and checkpoint is not None and checkpoint.exists():
            history = _resume(checkpoint, config, fingerprint, model, optimizer, state)

        model.train()
        sampler = _EpochSampler(len(train_x), config.batch_size, config.seed)
        bar = tqdm(
            total=config.steps,
            initial=state["step"],
            disable=not progress,
            desc=f"training {config.model}",
            unit="step",
        )
        with bar:
            while state["step"] < config.steps:
                batch = _to_channels_last(train_x[sampler.indices(state["step"])])
                l1_loss, aux_loss = _train_step(model, optimizer, batch)
                state["step"] += 1
                state["loss_sum"] += l1_loss
                state["aux_sum"] += aux_loss
                state["count"] += 1
                bar.set_postfix(loss=f"{l1_loss:.4f}", refresh=False)
                bar.update(1)

                step, last = state["step"], state["step"] == config.steps
                if step % config.eval_every == 0 or last:
                    _record(history, state, model, val_x, config.batch_size)
                if checkpoint is not None and (
                    step % config.checkpoint_every == 0 or last
                ):
                    save_checkpoint(
                        checkpoint,
                        model,
                        config,
                        optimizer=optimizer,
                        step=step,
                        history=history,
                        finished=last,
                        extra={
                            "loss_sum": state["loss_sum"],
                            "aux_sum": state["aux_sum"],
                            "count": state["count"],
                            "data_fingerprint": fingerprint,
                            "rng_state": torch.get_rng_state(),
                        },
                    )
    # Back to the default layout, so the network behaves exactly like one loaded
    # from its checkpoint by load_checkpoint.
    model = model.to(memory_format=torch.contiguous_format).eval()
    return model, history


def _record(
    history: dict, state: dict, model: nn.Module, val_x: torch.Tensor, batch_size: int
) -> None:
    count = max(state["count"], 1)
    history["step"].append(state["step"])
    history["train_loss"].append(state["loss_sum"] / count)
    history["train_aux_loss"].append(state["aux_sum"] / count)
    val_loss = _validation_loss(model, val_x, batch_size) if len(val_x) else None
    history["val_loss"].append(val_loss)
    state.update(loss_sum=0.0, aux_sum=0.0, count=0)


def _resume(
    checkpoint: Path,
    config: TrainConfig,
    fingerprint: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict,
) -> dict:
    payload = _read_payload(checkpoint)
    stored = _payload_config(payload, checkpoint).to_dict()
    current = config.to_dict()
    differing = [
        f"{key}: {stored[key]!r} != {current[key]!r}"
        for key in current
        if key not in _RESUMABLE_FIELDS and stored.get(key) != current[key]
    ]
    if differing:
        raise ValueError(
            f"checkpoint {checkpoint} was written for another configuration "
            f"({'; '.join(differing)}); pass resume=False or another checkpoint_dir"
        )
    extra = payload["extra"]
    if extra.get("data_fingerprint") != fingerprint:
        raise ValueError(
            f"checkpoint {checkpoint} was trained on other images; pass "
            "resume=False or another checkpoint_dir"
        )
    if payload["step"] > config.steps:
        raise ValueError(
            f"checkpoint {checkpoint} has taken {payload['step']} steps, more than "
            f"`steps` ({config.steps})"
        )
    _load_model_state(model, payload["model_state"], checkpoint)
    if payload["optimizer_state"] is None:
        raise ValueError(f"checkpoint {checkpoint} holds no optimizer state to resume")
    try:
        optimizer.load_state_dict(payload["optimizer_state"])
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"checkpoint {checkpoint} holds an optimizer state that does not fit"
        ) from exc
    if "rng_state" in extra:
        torch.set_rng_state(extra["rng_state"])
    state.update(
        step=payload["step"],
        loss_sum=float(extra.get("loss_sum", 0.0)),
        aux_sum=float(extra.get("aux_sum", 0.0)),
        count=int(extra.get("count", 0)),
    )
    return _payload_history(payload, checkpoint)


# --------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------


def config_hash(config: TrainConfig, data_key) -> str:
    """Return a stable 16-hex-digit key for a configuration and its training data.

    Parameters
    ----------
    config : TrainConfig
        The run; every field except ``checkpoint_every`` (which does not change
        the result) enters the hash.
    data_key : str or array_like or tuple of these
        Describes the training data: a descriptor string chosen by the caller
        (say ``"mni152-synthetic:v1:n=400"``) or image arrays, hashed from their
        shape, dtype and bytes.

    Returns
    -------
    str
        Hexadecimal digest, the same across sessions and machines.

    Notes
    -----
    The hash covers the configuration and the data, not the code: after
    changing a network, clear the cache (or bump ``_CACHE_VERSION``).

    Examples
    --------
    >>> config = TrainConfig(steps=10)
    >>> key = config_hash(config, "toy-data")
    >>> len(key), key == config_hash(TrainConfig(steps=10), "toy-data")
    (16, True)
    >>> key == config_hash(TrainConfig(steps=11), "toy-data")
    False
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"`config` must be a TrainConfig, got {type(config).__name__}")
    fields = {k: v for k, v in config.to_dict().items() if k != "checkpoint_every"}
    payload = {
        "cache_version": _CACHE_VERSION,
        "config": fields,
        "data": _data_descriptor(data_key),
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _data_descriptor(data_key) -> str | list:
    if isinstance(data_key, str):
        return "key:" + data_key
    if isinstance(data_key, tuple):
        return [_data_descriptor(part) for part in data_key]
    if data_key is None:
        return "none"
    arr = np.asarray(data_key)
    if arr.dtype == object:
        raise TypeError(
            "`data_key` must be a string, a numeric array or a tuple of these, "
            f"got {type(data_key).__name__}"
        )
    digest = hashlib.sha256()
    digest.update(f"{arr.shape}|{arr.dtype.str}|".encode())
    digest.update(np.ascontiguousarray(arr))
    return "sha256:" + digest.hexdigest()


def train_cached(
    config: TrainConfig,
    images,
    *,
    cache_dir: str | os.PathLike,
    data_key=None,
    val_images=None,
    progress: bool = True,
) -> tuple[nn.Module, dict[str, list]]:
    """Return the trained network for a configuration, training only if needed.

    Runs live in ``cache_dir / f"{config.model}-{config_hash(...)}"``. A finished
    run there is loaded and returned without touching ``images``; a partial one
    is resumed; otherwise :func:`train` starts afresh in that directory.

    Parameters
    ----------
    config : TrainConfig
        The run.
    images : array_like
        Training images ``(N, image_size, image_size)``, as for :func:`train`.
    cache_dir : str or path-like
        Root directory of the cache.
    data_key : str, optional
        Descriptor of the training (and validation) data for the cache key. By
        default the key hashes ``images`` and ``val_images`` themselves. A
        caller-chosen string avoids hashing large arrays but must change
        whenever the data do.
    val_images : array_like, optional
        Validation images, as for :func:`train`.
    progress : bool
        Show the progress bar when training.

    Returns
    -------
    model : torch.nn.Module
        The trained network, in evaluation mode.
    history : dict of lists
        The loss history of the run (see :func:`train`).

    Raises
    ------
    ValueError
        If the cached checkpoint is unreadable (delete it to retrain).
    """
    key = data_key if data_key is not None else (images, val_images)
    run_dir = Path(cache_dir) / f"{config.model}-{config_hash(config, key)}"
    checkpoint = run_dir / CHECKPOINT_NAME
    if checkpoint.exists():
        payload = _read_payload(checkpoint)
        if payload["finished"] and payload["step"] == config.steps:
            model, _, extra = load_checkpoint(checkpoint)
            return model, extra["history"]
    return train(
        config,
        images,
        val_images=val_images,
        checkpoint_dir=run_dir,
        progress=progress,
        resume=True,
    )


# --------------------------------------------------------------------------------
# Reconstruction
# --------------------------------------------------------------------------------


def reconstruct(model: nn.Module, images, *, batch_size: int = 64) -> np.ndarray:
    """Return a trained network's reconstructions of images.

    Parameters
    ----------
    model : torch.nn.Module
        A network of :mod:`pitfalls.models` (any module whose ``forward`` returns
        ``(reconstruction, aux_loss)`` for ``(B, 1, S, S)`` input).
    images : array_like
        Images of shape ``(N, S, S)``, or a single image ``(S, S)``.
    batch_size : int
        Images per forward pass; bounds the memory used.

    Returns
    -------
    numpy.ndarray
        Reconstructions, float32, the shape of ``images``. They are not clipped:
        the networks have no final activation.

    Notes
    -----
    The network runs in evaluation mode (batch norm uses its running
    statistics) under ``torch.no_grad``; its previous mode is restored after.
    """
    check_int(batch_size, "batch_size", 1)
    arr = np.asarray(images)
    single = arr.ndim == 2
    arr = check_images_3d(arr[None] if single else arr, "images")
    size = getattr(model, "image_size", arr.shape[1])
    if arr.shape[1:] != (size, size):
        raise ValueError(
            f"`images` must have shape (N, {size}, {size}) for this model, "
            f"got {np.asarray(images).shape}"
        )
    x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                batch = x[start : start + batch_size].unsqueeze(1)  # (B, 1, S, S)
                reconstruction, _ = model(batch)
                outputs.append(reconstruction[:, 0].contiguous().numpy())
    finally:
        model.train(was_training)
    result = np.concatenate(outputs).astype(np.float32, copy=False)
    return result[0] if single else result


# --------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------


def _load_training_images(spec: str, size: int | None) -> np.ndarray:
    """Return training images ``(N, size, size)`` described by ``spec``.

    Parameters
    ----------
    spec : str
        ``mni152-synthetic:N`` (``N`` synthetic subjects of the bundled template,
        8 axial slices each, seed 100: subjects that the book's test sets, seeded
        below 100, do not contain), a directory of NIfTI volumes (every
        eligible axial slice), or a ``.npy`` file holding an ``(N, H, W)`` array.
    size : int or None
        Required side length; None accepts the size of a ``.npy`` file and means
        128 for the other sources.

    Raises
    ------
    FileNotFoundError
        If the file or directory does not exist.
    ValueError
        If ``spec`` is none of the above or the images have the wrong shape.
    """
    from . import data

    if spec.startswith("mni152-synthetic"):
        _, _, count = spec.partition(":")
        if not count.isdigit() or int(count) < 1:
            raise ValueError(
                "`--data` must look like 'mni152-synthetic:N' with N >= 1, "
                f"got {spec!r}"
            )
        slices = data.synthetic_subjects(int(count), seed=100, size=size or 128)
        return slices.images
    path = Path(spec)
    if path.is_dir():
        return data.load_slices(path, size=size or 128).images
    if path.suffix != ".npy":
        raise ValueError(
            "`--data` must be 'mni152-synthetic:N', a directory of NIfTI volumes "
            f"or a .npy file of images (N, H, W), got {spec!r}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"`--data` file {spec!r} does not exist")
    images = np.load(path, allow_pickle=False)
    images = check_images_3d(images, "--data")
    if size is not None and images.shape[1:] != (size, size):
        raise ValueError(
            f"`--data` images must be {size}x{size} to match `--size`, "
            f"got shape {images.shape}"
        )
    return images


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pitfalls train",
        description=(
            "Train one of the paper's networks on images and write checkpoint.pt, "
            "config.json and history.json into --out."
        ),
    )
    parser.add_argument("--model", choices=sorted(MODEL_CLASSES), default="dense_ae")
    parser.add_argument(
        "--latent-dim", type=int, help="latent vector length (dense_ae only)"
    )
    parser.add_argument(
        "--latent-channels", type=int, help="latent grid channels (spatial_ae only)"
    )
    parser.add_argument(
        "--size", type=int, help="image side length; default: that of --data"
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=2e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument(
        "--data",
        required=True,
        help="'mni152-synthetic:N', a NIfTI directory or a .npy file (N, H, W)",
    )
    parser.add_argument("--out", required=True, help="output directory of the run")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint in --out instead of refusing to overwrite",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )
    return parser


def cli_train(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m pitfalls train``; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after ``train``; by default ``sys.argv[2:]``.

    Returns
    -------
    int
        0 on success, 1 if the data, the configuration or the output directory
        is unusable (the reason goes to stderr). Usage errors exit through
        argparse with status 2.
    """
    parser = _build_parser()
    args = parser.parse_args(sys.argv[2:] if argv is None else list(argv))
    kwargs: dict[str, int] = {}
    if args.latent_dim is not None:
        if args.model != "dense_ae":
            parser.error("--latent-dim applies to --model dense_ae only")
        kwargs["latent_dim"] = args.latent_dim
    if args.latent_channels is not None:
        if args.model != "spatial_ae":
            parser.error("--latent-channels applies to --model spatial_ae only")
        kwargs["latent_channels"] = args.latent_channels

    out = Path(args.out)
    try:
        if (out / CHECKPOINT_NAME).exists() and not args.resume:
            raise ValueError(
                f"{out / CHECKPOINT_NAME} exists; pass --resume to continue it or "
                "choose another --out"
            )
        images = _load_training_images(args.data, args.size)
        config = TrainConfig(
            model=args.model,
            model_kwargs=kwargs,
            image_size=images.shape[1],
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            seed=args.seed,
            val_fraction=args.val_fraction,
            eval_every=args.eval_every,
            checkpoint_every=args.checkpoint_every,
        )
        _, history = train(
            config,
            images,
            checkpoint_dir=out,
            progress=not args.no_progress,
            resume=args.resume,
        )
    except (OSError, TypeError, ValueError) as exc:
        sys.stderr.write(f"pitfalls train: error: {exc}\n")
        return 1
    history_text = (json.dumps(history, indent=2) + "\n").encode()
    _atomic_write(out / "history.json", lambda fh: fh.write(history_text))
    return 0
