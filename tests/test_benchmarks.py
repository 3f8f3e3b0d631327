"""The benchmark scripts run, and report ratios only for identical results.

The timings themselves are not tested (machines are noisy); what is tested is
that each script's two computations agree on small inputs, that a mismatch
makes it fail, and the helpers its report rests on.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from skimage.draw import disk

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def textures():
    return load("bench_textures")


@pytest.fixture(scope="module")
def landscape():
    return load("bench_landscape")


SMALL = ["--n-images", "3", "--size", "48", "--radius", "7", "--repeats", "1"]


def test_textures_benchmark_reports_identical_outputs(textures, capsys):
    assert textures.main([*SMALL, "--fast-repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[3:]}
    assert set(rows) == {"sink", "source", "shuffle"}
    for name, line in rows.items():
        assert " 0.00e+00 " in line, line
        assert "equal" in line and "DIFFER" not in line, line
        assert "(3/3 changed)" in line, line  # every slice really was altered
    assert "floor: copying the input stack" in out


def test_textures_benchmark_fails_on_a_mismatch(textures, monkeypatch, capsys):
    real = textures.sink_loop

    def off_by_one(image, centre, radius, mask, strength):
        out, label = real(image, centre, radius, mask, strength)
        out[label] += 1.0
        return out, label

    monkeypatch.setattr(textures, "sink_loop", off_by_one)
    assert textures.main([*SMALL, "--fast-repeats", "1"]) == 1
    assert "outputs differ for: sink" in capsys.readouterr().err


@pytest.mark.parametrize(
    "bad",
    [
        ["--n-images", "0"],
        ["--fast-repeats", "0"],
        ["--radius", "0"],
        ["--target", "-1"],
    ],
)
def test_textures_benchmark_rejects_bad_options(textures, bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        textures.main(bad)
    assert exit_info.value.code == 2
    assert bad[0] in capsys.readouterr().err


def test_textures_reference_disk_is_skimage_disk(textures, rng):
    for _ in range(200):
        shape = tuple(int(n) for n in rng.integers(5, 40, 2))
        centre = rng.uniform(0, 1, 2) * (np.array(shape) - 1)
        radius = float(rng.uniform(0.3, 15))
        label, pixels = textures.label_pixels(shape, centre, radius, None)
        expected = np.zeros(shape, bool)
        expected[disk(centre, radius, shape=shape)] = True
        np.testing.assert_array_equal(label, expected)
        assert len(pixels) == expected.sum()


def test_textures_reference_bilinear_reads_pixels_and_midpoints(textures):
    image = np.arange(12.0).reshape(3, 4)
    assert textures.bilinear_pixel(image, 1.0, 2.0) == 6.0
    assert textures.bilinear_pixel(image, 0.5, 0.5) == 2.5
    assert textures.bilinear_pixel(image, -3.0, 9.0) == 3.0  # clamped to a corner


@pytest.mark.parametrize(
    "ratio, bound, expected",
    [
        (60.0, 90.0, "met"),
        (40.0, 90.0, "not met"),
        (10.0, 17.4, "unreachable (floor allows 17x)"),
    ],
)
def test_textures_verdict(textures, ratio, bound, expected):
    assert textures.verdict(ratio, bound, 50.0) == expected


def test_landscape_benchmark_agrees_on_a_small_grid(landscape, capsys):
    argv = ["--slices", "2", "--grid", "3", "--jobs", "1", "--reference-cells", "0"]
    assert landscape.main(argv) == 0
    out = capsys.readouterr().out
    assert "2 slices" in out and "3 x 3 grid" in out and "18 cells" in out
    worst = float(out.split("compared cells: ")[1].split()[0])
    assert worst <= 1e-9
