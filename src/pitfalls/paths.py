"""Where the package keeps what it caches (trained models, sweep results)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]

ENV_VAR = "PITFALLS_CACHE_DIR"


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the cache directory, creating it.

    Parameters
    ----------
    path : path-like, optional
        Explicit directory. When empty or None, the environment variable
        ``PITFALLS_CACHE_DIR`` is used (the book build sets it to
        ``_build/cache``), else ``~/.cache/pitfalls``.
    """
    if path:
        out = Path(path)
    elif os.environ.get(ENV_VAR):
        out = Path(os.environ[ENV_VAR])
    else:
        out = Path.home() / ".cache" / "pitfalls"
    out = out.expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    return out
