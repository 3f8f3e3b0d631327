"""Tests of training, checkpoints, the cache, reconstruction and the CLI."""

import json
import os

import numpy as np
import pytest
import torch

import pitfalls.train as train_module
from pitfalls.models import create_model
from pitfalls.train import (
    CHECKPOINT_NAME,
    CONFIG_NAME,
    TrainConfig,
    cli_train,
    config_hash,
    load_checkpoint,
    reconstruct,
    save_checkpoint,
    train,
    train_cached,
)

SIZE = 16


def tiny_config(**changes):
    fields = {
        "model": "dense_ae",
        "model_kwargs": {"latent_dim": 4},
        "image_size": SIZE,
        "steps": 6,
        "batch_size": 4,
        "seed": 0,
        "val_fraction": 0.2,
        "eval_every": 2,
        "checkpoint_every": 2,
    }
    fields.update(changes)
    return TrainConfig(**fields)


@pytest.fixture
def images():
    return np.random.default_rng(7).random((10, SIZE, SIZE))


def assert_same_weights(model_a, model_b):
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key


def temp_files(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"model": "vae"}, ValueError, r"`model` must be one of .*got 'vae'"),
        ({"model_kwargs": {"latent_channels": 2}}, ValueError, r"`model_kwargs`"),
        ({"model_kwargs": {"image_size": 32}}, ValueError, r"`model_kwargs`"),
        ({"model_kwargs": {"in_channels": 3}}, ValueError, r"`in_channels`.*got 3"),
        ({"model_kwargs": [("latent_dim", 4)]}, TypeError, r"`model_kwargs`"),
        ({"image_size": 100}, ValueError, r"`image_size`.*got 100"),
        ({"steps": 0}, ValueError, r"`steps` must be >= 1, got 0"),
        ({"batch_size": 0}, ValueError, r"`batch_size`.*got 0"),
        ({"lr": 0.0}, ValueError, r"`lr` must lie in \(0\.0, inf\), got 0\.0"),
        ({"weight_decay": -1.0}, ValueError, r"`weight_decay`.*got -1\.0"),
        ({"seed": -1}, ValueError, r"`seed`.*got -1"),
        (
            {"val_fraction": 1.0},
            ValueError,
            r"`val_fraction` must lie in \[0\.0, 1\.0\)",
        ),
        ({"eval_every": 0}, ValueError, r"`eval_every`"),
        ({"checkpoint_every": 0}, ValueError, r"`checkpoint_every`"),
        ({"steps": 2.0}, TypeError, r"`steps` must be an integer"),
    ],
)
def test_config_errors_name_the_field(changes, error, match):
    with pytest.raises(error, match=match):
        tiny_config(**changes)


def test_config_round_trips_through_json_and_copies_model_kwargs():
    kwargs = {"latent_dim": 4}
    config = tiny_config(model_kwargs=kwargs)
    kwargs["latent_dim"] = 99
    assert config.model_kwargs == {"latent_dim": 4}
    assert TrainConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match=r"not TrainConfig fields: \['epochs'\]"):
        TrainConfig.from_dict({**config.to_dict(), "epochs": 3})


def test_config_hash_is_stable_and_ignores_checkpoint_every(images):
    config = tiny_config()
    # Pinned: the key must not change between sessions or machines.
    assert config_hash(config, "toy") == "a684588cd58561c2"
    assert config_hash(tiny_config(checkpoint_every=5), "toy") == "a684588cd58561c2"
    assert config_hash(tiny_config(seed=1), "toy") != config_hash(config, "toy")
    assert config_hash(config, images) == config_hash(config, images.copy())
    assert config_hash(config, images) != config_hash(config, images[:-1])
    assert config_hash(config, images) != config_hash(config, images.astype(np.float32))


# ---------------------------------------------------------------- training


def test_train_records_history_and_is_deterministic(images):
    config = tiny_config()
    rng_before = torch.get_rng_state()
    model_a, history_a = train(config, images, progress=False)
    model_b, history_b = train(config, images, progress=False)
    assert torch.equal(torch.get_rng_state(), rng_before)  # caller's RNG untouched
    assert not torch.are_deterministic_algorithms_enabled()  # setting restored
    assert history_a == history_b
    assert_same_weights(model_a, model_b)
    assert history_a["step"] == [2, 4, 6]
    assert len(history_a["train_loss"]) == len(history_a["val_loss"]) == 3
    assert all(isinstance(v, float) and v > 0 for v in history_a["val_loss"])
    assert history_a["train_aux_loss"] == [0.0, 0.0, 0.0]
    assert not model_a.training

    model_c, _ = train(tiny_config(seed=1), images, progress=False)
    assert not torch.equal(
        model_a.state_dict()["to_latent.weight"],
        model_c.state_dict()["to_latent.weight"],
    )


def test_train_without_validation_records_none(images):
    _, history = train(tiny_config(val_fraction=0.0, steps=3), images, progress=False)
    assert history["step"] == [2, 3]
    assert history["val_loss"] == [None, None]


def test_train_uses_explicit_validation_images(images):
    val = np.random.default_rng(1).random((3, SIZE, SIZE))
    _, history = train(tiny_config(steps=2), images, val_images=val, progress=False)
    assert history["val_loss"][0] is not None


def test_vqvae_history_has_aux_loss(images):
    config = tiny_config(
        model="vqvae",
        model_kwargs={"num_embeddings": 8, "embedding_dim": 4},
        steps=2,
    )
    _, history = train(config, images, progress=False)
    assert history["train_aux_loss"][0] > 0


def test_train_rejects_images_of_wrong_size(images):
    with pytest.raises(ValueError, match=r"`images` must have shape \(N, 32, 32\)"):
        train(tiny_config(image_size=32), images, progress=False)
    with pytest.raises(ValueError, match=r"`val_images` must have shape"):
        train(tiny_config(), images, val_images=images[:, :8, :8], progress=False)


def test_train_warns_about_intensities_outside_unit_range(images):
    with pytest.warns(UserWarning, match=r"`images` should lie in \[0, 1\]"):
        train(tiny_config(steps=1), images * 3, progress=False)


def test_training_lowers_the_loss():
    rng = np.random.default_rng(0)
    # Smooth images are learnable in a few dozen steps.
    yy, xx = np.mgrid[:SIZE, :SIZE] / SIZE
    images = np.stack([0.5 + 0.4 * np.sin(6 * xx * a + yy) for a in rng.random(16)])
    config = tiny_config(steps=30, eval_every=10, val_fraction=0.0, batch_size=8)
    _, history = train(config, images, progress=False)
    assert history["train_loss"][-1] < history["train_loss"][0]


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_is_exact(tmp_path, images):
    config = tiny_config(steps=2)
    model, history = train(config, images, progress=False)
    path = save_checkpoint(
        tmp_path / "run" / CHECKPOINT_NAME,
        model,
        config,
        step=2,
        history=history,
        extra={"note": "hello"},
    )
    loaded, loaded_config, extra = load_checkpoint(path)
    assert loaded_config == config
    assert_same_weights(model, loaded)
    x = torch.rand(3, 1, SIZE, SIZE)
    with torch.no_grad():
        assert torch.equal(model(x)[0], loaded(x)[0])
    assert (
        extra["step"] == 2 and extra["history"] == history and extra["note"] == "hello"
    )
    assert json.loads((path.parent / CONFIG_NAME).read_text()) == config.to_dict()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        CHECKPOINT_NAME,
        CONFIG_NAME,
    ]
    # A directory is accepted in place of the file.
    assert_same_weights(model, load_checkpoint(path.parent)[0])


def test_checkpoint_of_other_latent_dim_does_not_fit(tmp_path):
    config = tiny_config(model_kwargs={"latent_dim": 4})
    path = save_checkpoint(tmp_path / "a.pt", config.build_model(), config)
    other = create_model("dense_ae", image_size=SIZE, latent_dim=8)
    with pytest.raises(
        ValueError, match=r"a\.pt does not fit the model Dense.*shape"
    ) as info:
        load_checkpoint(path, model=other)
    expected = "to_latent.weight has shape (4, 2048) in the checkpoint but (8, 2048)"
    assert expected + " in the model" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_checkpoint_of_other_network_reports_missing_and_unexpected_keys(tmp_path):
    config = tiny_config()
    path = save_checkpoint(tmp_path / "a.pt", config.build_model(), config)
    other = create_model("vqvae", image_size=SIZE)
    with pytest.raises(ValueError, match=r"missing keys codebook.*unexpected keys"):
        load_checkpoint(path, model=other)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupted_checkpoint_raises_a_clear_error(tmp_path, damage):
    config = tiny_config()
    path = save_checkpoint(tmp_path / "a.pt", config.build_model(), config)
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "garbage": b"\x00not a zip" * 50,
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    with pytest.raises(
        ValueError, match=r"a\.pt cannot be read; it is corrupted"
    ) as info:
        load_checkpoint(path)
    assert info.value.__cause__ is not None


def test_foreign_file_and_missing_file(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match=r"foreign\.pt is not a checkpoint of this"):
        load_checkpoint(foreign)
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "absent.pt")


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    config = tiny_config()
    first = config.build_model()
    path = save_checkpoint(tmp_path / CHECKPOINT_NAME, first, config, step=1)
    second = create_model("dense_ae", image_size=SIZE, latent_dim=4)
    real_save = torch.save

    def interrupted_save(obj, fh, *args, **kwargs):
        real_save(obj, fh, *args, **kwargs)
        fh.truncate(100)  # half-written, then the process is interrupted
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, second, config, step=2)
    monkeypatch.undo()

    loaded, _, extra = load_checkpoint(path)
    assert extra["step"] == 1
    assert_same_weights(first, loaded)
    assert temp_files(tmp_path) == []


def test_resumed_run_equals_uninterrupted_run(tmp_path, monkeypatch, images):
    config = tiny_config(steps=7, checkpoint_every=2, eval_every=3)
    reference, reference_history = train(config, images, progress=False)

    real_step = train_module._train_step
    calls = {"n": 0}

    def failing_step(*args):
        calls["n"] += 1
        if calls["n"] == 6:  # after the checkpoint at step 4, mid-way to step 6
            raise KeyboardInterrupt
        return real_step(*args)

    def counting_step(*args):
        calls["n"] += 1
        return real_step(*args)

    monkeypatch.setattr(train_module, "_train_step", failing_step)
    with pytest.raises(KeyboardInterrupt):
        train(config, images, checkpoint_dir=tmp_path, progress=False)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path)[2]["step"] == 4

    calls["n"] = 0
    monkeypatch.setattr(train_module, "_train_step", counting_step)
    resumed, history = train(config, images, checkpoint_dir=tmp_path, progress=False)
    assert calls["n"] == 3  # steps 5 to 7 only: the checkpoint was used
    assert_same_weights(reference, resumed)
    assert history == reference_history
    assert load_checkpoint(tmp_path)[2]["finished"]


def test_resume_refuses_another_configuration(tmp_path, images):
    train(tiny_config(steps=2), images, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(
        ValueError, match=r"another configuration \(lr: 0\.001 != 0\.01\)"
    ):
        train(
            tiny_config(steps=4, lr=1e-2),
            images,
            checkpoint_dir=tmp_path,
            progress=False,
        )
    with pytest.raises(ValueError, match=r"trained on other images"):
        train(
            tiny_config(steps=4), images[::-1], checkpoint_dir=tmp_path, progress=False
        )
    # resume=False starts afresh and overwrites.
    train(
        tiny_config(steps=1, lr=1e-2),
        images,
        checkpoint_dir=tmp_path,
        progress=False,
        resume=False,
    )
    assert load_checkpoint(tmp_path)[1].lr == 1e-2


def test_raising_steps_continues_a_finished_run(tmp_path, images):
    train(tiny_config(steps=2), images, checkpoint_dir=tmp_path, progress=False)
    _, history = train(
        tiny_config(steps=4), images, checkpoint_dir=tmp_path, progress=False
    )
    assert history["step"] == [2, 4]
    with pytest.raises(ValueError, match=r"taken 4 steps, more than `steps` \(3\)"):
        train(tiny_config(steps=3), images, checkpoint_dir=tmp_path, progress=False)


# ---------------------------------------------------------------- cache


def test_train_cached_trains_once(tmp_path, monkeypatch, images):
    config = tiny_config(steps=2)
    model, history = train_cached(config, images, cache_dir=tmp_path, progress=False)
    (run_dir,) = list(tmp_path.iterdir())
    assert run_dir.name == f"dense_ae-{config_hash(config, (images, None))}"
    checkpoint = run_dir / CHECKPOINT_NAME
    mtime = checkpoint.stat().st_mtime_ns

    def no_training(*args, **kwargs):
        raise AssertionError("train_cached retrained a finished run")

    monkeypatch.setattr(train_module, "train", no_training)
    cached, cached_history = train_cached(config, images, cache_dir=tmp_path)
    assert checkpoint.stat().st_mtime_ns == mtime
    assert cached_history == history
    assert_same_weights(model, cached)

    monkeypatch.undo()
    train_cached(config, images, cache_dir=tmp_path, data_key="toy", progress=False)
    assert len(list(tmp_path.iterdir())) == 2  # another key, another run


# ---------------------------------------------------------------- reconstruction


def test_reconstruct_returns_float32_arrays_in_eval_mode(images):
    model, _ = train(tiny_config(steps=2), images, progress=False)
    model.train()
    out = reconstruct(model, images, batch_size=3)
    assert out.shape == images.shape and out.dtype == np.float32
    assert model.training  # mode restored
    np.testing.assert_allclose(out, reconstruct(model, images), rtol=1e-5, atol=1e-6)
    single = reconstruct(model, images[0])
    assert single.shape == (SIZE, SIZE)
    np.testing.assert_allclose(single, out[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"`images` must have shape \(N, 16, 16\)"):
        reconstruct(model, np.zeros((2, 32, 32)))


# ---------------------------------------------------------------- command line


def test_cli_trains_from_npy_file(tmp_path, images):
    data = tmp_path / "slices.npy"
    np.save(data, images.astype(np.float32))
    out = tmp_path / "run"
    argv = [
        "--model",
        "spatial_ae",
        "--latent-channels",
        "2",
        "--size",
        str(SIZE),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--data",
        str(data),
        "--out",
        str(out),
        "--no-progress",
    ]
    assert cli_train(argv) == 0
    model, config, extra = load_checkpoint(out)
    assert config.model_kwargs == {"latent_channels": 2} and extra["finished"]
    assert json.loads((out / "history.json").read_text())["step"] == [2]

    assert cli_train(argv) == 1  # refuses to overwrite without --resume
    assert cli_train([*argv, "--resume"]) == 0


def test_cli_reports_bad_input(tmp_path, capsys):
    assert cli_train(["--data", str(tmp_path / "absent.npy"), "--out", "x"]) == 1
    assert "absent.npy" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli_train(
            ["--model", "vqvae", "--latent-dim", "4", "--data", "a.npy", "--out", "x"]
        )
    assert info.value.code == 2
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((2, 16, 16)))
    assert cli_train(["--data", str(bad), "--size", "32", "--out", str(tmp_path)]) == 1
    assert "--size" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / CHECKPOINT_NAME)


def test_cli_trains_on_synthetic_subjects_via_module(tmp_path):
    # the documented entry point: python -m pitfalls train ...
    import subprocess
    import sys

    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "pitfalls", "train", "--model", "dense_ae",
         "--latent-dim", "8", "--size", "32", "--steps", "2", "--batch-size", "4",
         "--data", "mni152-synthetic:1", "--out", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    model, config, extra = load_checkpoint(out)
    assert config.image_size == 32 and extra["finished"]


def test_cli_rejects_bad_synthetic_spec(tmp_path, capsys):
    assert cli_train(["--data", "mni152-synthetic:x", "--out", str(tmp_path)]) == 1
    assert "mni152-synthetic:N" in capsys.readouterr().err
