"""Checks of a built book's HTML (``--book-html``), and of it in a real browser.

``make test`` builds the book with the small profile and passes its HTML
directory; without ``--book-html`` these tests skip and say so.
"""

import functools
import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from pitfalls import _book

ROOT = Path(__file__).resolve().parents[1]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part["chapters"]]
    return files


NOTEBOOK_CHAPTERS = [
    str(nb.relative_to(ROOT).with_suffix("")) for nb in _book.chapters(ROOT)
]


@pytest.mark.parametrize("page", _toc_files())
def test_every_toc_entry_has_a_page(book_html, page):
    assert (book_html / f"{page}.html").is_file(), f"{page}.html was not built"


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_chapter_has_figures_and_no_errors(book_html, chapter):
    html = (book_html / f"{chapter}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    figures = [src for src in images if "_images/" in src]
    assert figures, f"{chapter}: no figure in the page"
    for src in figures:
        assert (book_html / Path(chapter).parent / src).resolve().is_file(), src
    assert "Traceback" not in html and "output traceback" not in html
    # every {glue:text} role was resolved into a value
    assert "glue:text" not in html and "Could not find key" not in html


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


PROBE = """<!doctype html><html><head><title>pending</title></head><body>
<iframe id="page" src="{src}" style="width:1200px;height:3000px"></iframe>
<script>
function report() {{
  const doc = document.getElementById("page").contentDocument;
  const imgs = Array.from(doc.querySelectorAll("img"));
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  const math = doc.querySelectorAll("mjx-container").length;
  const raw = doc.querySelectorAll(".math:not(:has(mjx-container))").length;
  document.body.setAttribute("data-result",
    JSON.stringify({{images: imgs.length, broken: broken, math: math, raw: raw}}));
}}
const frame = document.getElementById("page");
frame.addEventListener("load", () => setTimeout(report, 4000));
</script></body></html>"""


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_chapter_renders_in_browser(book_html, chapter, tmp_path):
    import json

    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")
    (tmp_path / "site").symlink_to(book_html.resolve(), target_is_directory=True)
    (tmp_path / "probe.html").write_text(PROBE.format(src=f"site/{chapter}.html"))
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/probe.html"
        dom = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=20000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    finally:
        server.shutdown()
    match = re.search(r'data-result="([^"]+)"', dom)
    assert match, "the probe page never reported: the chapter did not load"
    result = json.loads(match.group(1).replace("&quot;", '"'))
    assert result["images"] > 0 and result["broken"] == 0, result
    formulas = (book_html / f"{chapter}.html").read_text().count('class="math')
    assert result["raw"] == 0, f"formulas left unrendered: {result}"
    if formulas:
        assert result["math"] > 0, f"MathJax rendered none of {formulas}: {result}"
