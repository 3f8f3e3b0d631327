"""Build the book with a parameter profile (``python -m pitfalls book``).

Profiles
--------
``full``
    The chapters as committed, every parameter at its full value, built in
    place into ``_build/html``. Jupyter Book's execution cache keys on the
    notebooks' code only, and Sphinx re-reads only changed sources, so a change
    in the package would re-execute nothing: the build records a hash of
    ``src/`` and ``requirements.txt``; when it changes, the execution cache is
    cleared and every page is re-read (``--all``), so every chapter runs again.
``ci``
    Every chapter re-parameterised by papermill (without executing) with the
    small values of ``book/_profiles/ci.yml``, staged into ``_build/ci/book``
    and built there from scratch. The staged notebooks are also what the
    tests run under nbval.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROFILES = ("full", "ci")


def _root() -> Path:
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "_config.yml").exists() and (candidate / "_toc.yml").exists():
            return candidate
    raise FileNotFoundError(
        f"no _config.yml and _toc.yml in {here} or its parents: "
        "run from the book's repository"
    )


def source_hash(root: Path) -> str:
    """Hash of everything the executed chapters depend on besides their own code."""
    digest = hashlib.sha256()
    files = sorted((root / "src").rglob("*.py")) + [root / "requirements.txt"]
    for path in files:
        if path.exists():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _jupyter_book(source: Path, env: dict, *, everything: bool = False) -> None:
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(exe),
        "build",
        str(source),
        "--path-output",
        str(source),
        "-W",
        "-n",
        "--keep-going",
    ]
    if everything:
        cmd.append("--all")
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)


def chapters(root: Path) -> list[Path]:
    """Notebook chapters listed in ``_toc.yml``, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = []
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        for entry in part.get("chapters", []):
            files.append(entry["file"])
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def build_full(root: Path) -> Path:
    build = root / "_build"
    build.mkdir(exist_ok=True)
    stamp = build / ".source-hash"
    current = source_hash(root)
    changed = stamp.exists() and stamp.read_text() != current
    if changed:
        print("package sources changed: re-executing every chapter", flush=True)
        shutil.rmtree(build / ".jupyter_cache", ignore_errors=True)
        stamp.unlink()  # an interrupted build must not look up to date
    env = dict(os.environ)
    env.setdefault("PITFALLS_CACHE_DIR", str(build / "cache"))
    _jupyter_book(root, env, everything=changed)
    stamp.write_text(current)
    return build / "html"


def stage_profile(root: Path, profile: str, stage: Path) -> list[Path]:
    """Copy the book into ``stage`` with every chapter re-parameterised."""
    import papermill

    params = yaml.safe_load(
        (root / "book" / "_profiles" / f"{profile}.yml").read_text()
    )
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, stage / name)
    shutil.copytree(
        root / "book",
        stage / "book",
        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"),
    )
    staged = []
    for nb in chapters(root):
        out = stage / nb.relative_to(root)
        chapter_params = params.get(nb.stem, {}) or {}
        papermill.execute_notebook(
            str(nb),
            str(out),
            parameters=chapter_params,
            prepare_only=True,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
        )
        staged.append(out)
    return staged


def build_profile(root: Path, profile: str) -> Path:
    stage = root / "_build" / profile / "book"
    stage_profile(root, profile, stage)
    env = dict(os.environ)
    env.setdefault("PITFALLS_CACHE_DIR", str(root / "_build" / profile / "cache"))
    _jupyter_book(stage, env)
    return stage / "_build" / "html"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="pitfalls book", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--profile", choices=PROFILES, default="full")
    args = parser.parse_args(argv)
    root = _root()
    if args.profile == "full":
        html = build_full(root)
    else:
        html = build_profile(root, args.profile)
    print(f"book written to {html / 'index.html'}")
    return 0
