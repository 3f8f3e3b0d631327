"""Shared pytest options and fixtures."""

from pathlib import Path

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--book-html",
        action="store",
        default=None,
        help="directory of a built book's HTML; enables the book and browser checks",
    )


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def book_html(request) -> Path:
    path = request.config.getoption("--book-html")
    if path is None:
        pytest.skip("no --book-html given: `make test` builds the book and passes it")
    path = Path(path)
    if not (path / "index.html").exists() and not any(path.glob("*.html")):
        pytest.fail(f"--book-html {path} holds no built HTML")
    return path
