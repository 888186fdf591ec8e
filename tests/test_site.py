"""The documentation site, looked at as a reader would (issue 16).

``mkdocs build --strict`` builds the site into ``site/`` (the build directory, not committed);
it is served on a local port, and then:

* every link of every page to the site itself, and every image, stylesheet and script it
  loads, is fetched and must exist; a link's ``#anchor`` must name an element of its page;
* every page is loaded in headless Chromium (Debian's ``chromium``), which must report no
  console message at all (an error, a failed script, a warning);
* screenshots of the home page and of a guide are saved in ``site/_screenshots/`` for a
  reviewer to look at.

Without Chromium or MkDocs the test skips with one line saying how to install them; CI
(``.ci/run``) installs both, and a skip fails there.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
CHROMIUM_HINT = "headless Chromium is missing: apt-get install chromium (Debian)"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _Links(HTMLParser):
    """The URLs a page links to or loads, and the ids it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.loads: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        elif tag in ("img", "script") and values.get("src"):
            self.loads.append(str(values["src"]))
        elif tag == "link" and values.get("href") and values.get("rel") in ("stylesheet", "icon"):
            self.loads.append(str(values["href"]))


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The built site, served on a free local port: its base URL."""
    pytest.importorskip("mkdocs", reason="MkDocs is missing: pip install -e '.[test]'")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(SITE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", **__import__("os").environ},
        check=False,
    )
    assert built.returncode == 0, built.stderr
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _pages() -> list[str]:
    """Every page of the built site, as a path relative to its root (``""`` for the home)."""
    pages = []
    for path in sorted(SITE.rglob("index.html")):
        relative = path.parent.relative_to(SITE).as_posix()
        if not relative.startswith(("assets", "search", "_screenshots")):
            pages.append("" if relative == "." else f"{relative}/")
    return pages


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def test_every_link_image_and_asset_of_every_page_exists(site: str) -> None:
    pages = _pages()
    assert len(pages) >= 18, pages  # the pages of mkdocs.yml's nav
    parsed: dict[str, _Links] = {}

    def parse(url: str) -> _Links:
        if url not in parsed:
            links = _Links()
            links.feed(_fetch(url).decode("utf-8"))
            parsed[url] = links
        return parsed[url]

    broken: list[str] = []
    for page in pages:
        url = urljoin(site, page)
        found = parse(url)
        for target in [*found.links, *found.loads]:
            absolute = urljoin(url, target)
            if urlparse(absolute).netloc != urlparse(site).netloc:
                continue  # another site (the repository): not fetched here
            address, anchor = urldefrag(absolute)
            try:
                body = _fetch(address)
            except urllib.error.HTTPError as exc:
                broken.append(f"{page or '/'}: {target} ({exc.code})")
                continue
            html = address.endswith("/") and body.lstrip().startswith(b"<")
            if anchor and html and anchor not in parse(address).ids:
                broken.append(f"{page or '/'}: {target} (no element #{anchor})")
    assert broken == []


def test_every_page_loads_in_chromium_without_a_console_message(site: str) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip(CHROMIUM_HINT)
    shots = SITE / "_screenshots"
    shots.mkdir(exist_ok=True)
    base = [
        chromium,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=3000",
    ]

    def load(page: str) -> tuple[str, list[str]]:
        profile = shots / f"profile-{page.replace('/', '-')}"
        shown = subprocess.run(
            [*base, f"--user-data-dir={profile}", "--dump-dom", urljoin(site, page)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shown.returncode == 0, shown.stderr[-2000:]
        assert "<h1" in shown.stdout, f"{page}: no heading rendered"
        return page or "/", re.findall(r":CONSOLE[:(]\d*\)?\] (.*)", shown.stderr)

    # Two browsers at a time (the CI machine has two cores).
    with ThreadPoolExecutor(max_workers=2) as pool:
        noisy = {page: found for page, found in pool.map(load, _pages()) if found}
    for profile in shots.glob("profile-*"):
        shutil.rmtree(profile, ignore_errors=True)
    assert noisy == {}
    for name, page in (("home", ""), ("guide", "guides/from-sqlmodel-alembic/")):
        target = shots / f"{name}.png"
        subprocess.run(
            [*base, "--window-size=1280,1600", f"--screenshot={target}", urljoin(site, page)],
            capture_output=True,
            timeout=120,
            check=True,
        )
        assert target.stat().st_size > 10_000, f"{target} looks empty"
