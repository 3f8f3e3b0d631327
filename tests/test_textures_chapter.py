"""Shape of the texture chapter: literal parameters, hidden plots, a CI profile."""

import ast
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "textures.ipynb"


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(CHAPTER, as_version=4)


def _parameters(notebook) -> dict:
    cells = [c for c in notebook.cells
             if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell must be tagged `parameters`"
    values = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        (target,) = node.targets
        values[target.id] = ast.literal_eval(node.value)  # literals only
    return values


def test_parameters_are_literals(notebook):
    params = _parameters(notebook)
    for name in ("dataset", "size", "radius", "n_subjects", "slices_per_subject",
                 "strength", "n_sigmas", "sigma_max", "n_intensities", "seed"):
        assert name in params


def test_plotting_cells_hide_their_input(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code" and "plots." in cell.source:
            assert "hide-input" in cell.metadata.get("tags", []), cell.source


def test_ci_profile_only_sets_chapter_parameters(notebook):
    profile = yaml.safe_load((ROOT / "book" / "_profiles" / "ci.yml").read_text())
    assert set(profile["textures"]) <= set(_parameters(notebook))
