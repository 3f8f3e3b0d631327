"""Re-running chapters as a user would: papermill with new parameters and data.

Every chapter with a ``dataset`` parameter is executed on a small directory of
NIfTI volumes written here, with the small profile's other values, and the
build tooling's profile staging is checked.
"""

from pathlib import Path

import nibabel as nib
import numpy as np
import papermill
import pytest
import yaml

from pitfalls import _book, data

ROOT = Path(__file__).resolve().parents[1]
PROFILE = yaml.safe_load((ROOT / "book" / "_profiles" / "ci.yml").read_text())


@pytest.fixture(scope="module")
def nifti_dir(tmp_path_factory):
    """Three int16 'subjects': the template, flipped and rescaled, in 3 files."""
    folder = tmp_path_factory.mktemp("nifti")
    t1 = data.load_mni152_volumes()["t1"]
    for k in range(3):
        volume = np.flip(t1, axis=0) if k % 2 else t1
        volume = (volume * (900 + 100 * k)).astype(np.int16)[::2, ::2, ::2]
        nib.save(
            nib.Nifti1Image(volume, np.diag([2.0, 2.0, 2.0, 1.0])),
            folder / f"subject{k}.nii.gz",
        )
    return folder


def _chapters_with(parameter):
    out = []
    for nb in _book.chapters(ROOT):
        source = nb.read_text()
        if f'"{parameter} = ' in source:
            out.append(nb)
    return out


@pytest.mark.parametrize("notebook", _chapters_with("dataset"), ids=lambda p: p.stem)
def test_chapter_runs_on_a_nifti_directory(notebook, nifti_dir, tmp_path):
    params = dict(PROFILE.get(notebook.stem, {}))
    params["dataset"] = str(nifti_dir)
    if "cache_dir" in papermill.inspect_notebook(str(notebook)):
        params["cache_dir"] = str(tmp_path / "cache")
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=params,
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    executed = out.read_text()
    assert str(nifti_dir) in executed  # the override reached the notebook
    assert '"output_type": "error"' not in executed


def test_every_chapter_parameter_cell_holds_literals_only():
    import ast

    for nb in _book.chapters(ROOT):
        params = papermill.inspect_notebook(str(nb))
        assert params, f"{nb.name} has no parameters cell"
        for name, info in params.items():
            ast.literal_eval(info["default"])  # raises on anything derived


def test_profile_names_only_known_parameters():
    chapters = {nb.stem: nb for nb in _book.chapters(ROOT)}
    for chapter, params in PROFILE.items():
        assert chapter in chapters, f"profile names unknown chapter {chapter}"
        known = papermill.inspect_notebook(str(chapters[chapter]))
        assert set(params) <= set(known), set(params) - set(known)


def test_stage_profile_injects_parameters(tmp_path):
    staged = _book.stage_profile(ROOT, "ci", tmp_path / "stage")
    assert [p.name for p in staged] == [nb.name for nb in _book.chapters(ROOT)]
    for path in staged:
        nb = yaml.safe_load(path.read_text())  # JSON is YAML
        tags = [c.get("metadata", {}).get("tags", []) for c in nb["cells"]]
        assert any("injected-parameters" in t for t in tags), path.name
    assert (tmp_path / "stage" / "book" / "references.bib").exists()


def test_source_hash_follows_package_sources(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    module = tmp_path / "src" / "pkg" / "mod.py"
    module.write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    first = _book.source_hash(tmp_path)
    assert _book.source_hash(tmp_path) == first
    module.write_text("x = 2\n")
    assert _book.source_hash(tmp_path) != first


def test_full_build_reexecutes_after_a_package_change(tmp_path, monkeypatch):
    for name in ("_config.yml", "_toc.yml", "requirements.txt"):
        (tmp_path / name).write_text("x: 1\n")
    module = tmp_path / "src" / "pkg" / "mod.py"
    module.parent.mkdir(parents=True)
    module.write_text("x = 1\n")
    calls = []
    monkeypatch.setattr(
        _book,
        "_jupyter_book",
        lambda src, env, everything=False: calls.append(everything),
    )
    _book.build_full(tmp_path)  # first build: nothing to invalidate
    cache = tmp_path / "_build" / ".jupyter_cache"
    cache.mkdir()
    _book.build_full(tmp_path)  # unchanged: cache kept, incremental
    assert cache.exists() and calls == [False, False]
    module.write_text("x = 2\n")
    _book.build_full(tmp_path)  # changed: cache cleared, every page re-read
    assert not cache.exists() and calls[-1] is True
    _book.build_full(tmp_path)
    assert calls[-1] is False
