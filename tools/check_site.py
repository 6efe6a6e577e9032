"""Open every page of the built site in headless Chromium and fail on what a reader would meet.

``make site-check`` (after ``make site``; ``.ci/run`` runs both). The site is served on
127.0.0.1 and every HTML page of it is opened in Chromium (the distribution's
``/usr/bin/chromium``, driven by Playwright; nothing is downloaded). A page fails on

- a console error or an uncaught JavaScript exception;
- a request that failed or answered 400 or more, or any request to a host other than the
  site's own (the site is self-contained: it must read nothing from outside);
- an image that did not load (``naturalWidth`` 0 once the page has loaded);
- math that did not render: a Sphinx math element with no MathJax output, a MathJax error,
  or TeX left as text (``\\frac``, ``$$``) in the page;
- a link to a page of the site that does not exist, or to an anchor that no element of the
  target page has.

Two screenshots (the landing page, and lesson 06 at its first figure) go to ``--screenshots``
(default: ``lrlab-site-screenshots`` in the system's temporary folder), which must lie
outside the repository: they are for a person to look at, not to commit.

    python tools/check_site.py [--site build/site] [--screenshots DIR] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# As root in a container, with no network: no sandbox, no GPU, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# TeX that should have been typeset: a command or display delimiters left in the text.
RAW_TEX = re.compile(r"\$\$|\\(frac|sum|sqrt|eta|lambda|alpha|cdot|left|right)\b")
SCREENSHOTS = {
    "landing page": ("index.html", None),
    "lesson 06, its first figure": ("notebooks/06_lr_range_test.html", ".cell_output img"),
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def pages_of(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to it (the theme's assets excluded)."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not p.relative_to(site).parts[0].startswith("_"))
    if "index.html" not in pages:
        raise SystemExit(f"{site} has no index.html: build the site first (make site)")
    return pages


# What each page reports from inside the browser once it has loaded.
PAGE_FACTS = """() => {
  const images = [...document.images].map(i => ({src: i.currentSrc || i.src,
                                                 ok: i.complete && i.naturalWidth > 0}));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id)
      .concat([...document.querySelectorAll('a[name]')].map(e => e.name));
  const maths = [...document.querySelectorAll('.math')];
  const unrendered = maths.filter(m => !m.querySelector('mjx-container, .MathJax, svg')).length;
  const errors = document.querySelectorAll('mjx-merror, .MathJax_Error').length;
  const text = document.body.innerText;
  return {images, links, ids, maths: maths.length, unrendered, mathErrors: errors, text};
}"""


def open_page(context, base: str):
    """A new page that records what would fail it, and aborts any request outside the site."""
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.append(f"script error: {e}"))
    page.on("requestfailed", lambda r: seen.append(f"request failed: {r.url} ({r.failure})")
            if r.url.startswith(base) else None)
    page.on("response", lambda r: seen.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)

    def outside(route):
        seen.append(f"request outside the site: {route.request.url}")
        route.abort()

    page.route(re.compile(r"^(?!" + re.escape(base) + r").*"), outside)
    return page, seen


def check(site: Path, screenshots: Path, chromium: str) -> list[str]:
    """Open every page; return the problems found (empty when the site is sound)."""
    from playwright.sync_api import sync_playwright

    pages = pages_of(site)
    server, base = serve(site)
    problems: list[str] = []
    ids: dict[str, set[str]] = {}
    links: dict[str, list[str]] = {}
    counts = {"pages": 0, "images": 0, "links": 0, "math": 0}
    started = time.perf_counter()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for name in pages:
                page, seen = open_page(context, base)
                page.goto(base + name, wait_until="load")
                page.wait_for_load_state("networkidle")
                facts = page.evaluate(PAGE_FACTS)
                counts["pages"] += 1
                counts["images"] += len(facts["images"])
                counts["math"] += facts["maths"]
                for image in facts["images"]:
                    if not image["ok"]:
                        seen.append(f"image did not load: {image['src']}")
                if facts["unrendered"] or facts["mathErrors"]:
                    seen.append(f"math not rendered: {facts['unrendered']} of {facts['maths']}"
                                f" elements without output, {facts['mathErrors']} MathJax errors")
                tex = RAW_TEX.search(facts["text"])
                if tex:
                    seen.append(f"TeX left as text: {tex.group(0)!r}")
                ids[name] = set(facts["ids"])
                links[name] = facts["links"]
                problems.extend(f"{name}: {line}" for line in dict.fromkeys(seen))
                page.close()

            screenshots.mkdir(parents=True, exist_ok=True)
            for subject, (name, selector) in SCREENSHOTS.items():
                page, _ = open_page(context, base)
                page.goto(base + name, wait_until="load")
                if selector:
                    page.locator(selector).first.scroll_into_view_if_needed()
                target = screenshots / (Path(name).stem + ".png")
                page.screenshot(path=str(target))
                print(f"screenshot of the {subject}: {target}")
                page.close()
            browser.close()
    finally:
        server.shutdown()

    for name, hrefs in links.items():
        for href in hrefs:
            if not href.startswith(base):
                continue
            counts["links"] += 1
            url, fragment = urldefrag(href)
            target = unquote(urlsplit(url).path).lstrip("/")
            if target == "" or target.endswith("/"):
                target += "index.html"
            if target not in ids:
                if not (site / target).is_file():
                    problems.append(f"{name}: broken link to {href[len(base):]}")
                continue
            if fragment and unquote(fragment) not in ids[target]:
                problems.append(f"{name}: link to {href[len(base):]}: no element of "
                                f"{target} has the id '{unquote(fragment)}'")
    seconds = time.perf_counter() - started
    print(f"checked {counts['pages']} pages, {counts['images']} images, {counts['links']} "
          f"links within the site and {counts['math']} math elements in {seconds:.0f} s")
    return problems


def add_browser_options(parser: argparse.ArgumentParser) -> None:
    """--screenshots and --chromium, shared with tools/check_lab.py."""
    parser.add_argument("--screenshots", type=Path,
                        default=Path(tempfile.gettempdir()) / "lrlab-site-screenshots",
                        help="where screenshots go, outside the repository")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")


def browser_options(args: argparse.Namespace) -> Path:
    """Refuse a screenshot folder inside the repository or a missing Chromium; the folder."""
    screenshots = args.screenshots.resolve()
    if screenshots == ROOT or ROOT in screenshots.parents:
        raise SystemExit(f"--screenshots {args.screenshots} lies inside the repository; "
                         "choose a folder outside it (they are not to be committed)")
    if not Path(args.chromium).is_file():
        raise SystemExit(f"no Chromium at {args.chromium}: install the distribution's package "
                         "(apt-get install chromium; .ci/run does it) or pass --chromium PATH")
    return screenshots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "build" / "site")
    add_browser_options(parser)
    args = parser.parse_args(argv)
    screenshots = browser_options(args)
    if not (args.site / "index.html").is_file():
        raise SystemExit(f"no site at {args.site}: build it first (make site)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise SystemExit('the site check needs Playwright: pip install -e ".[site]" '
                         "(make site-check does it)") from None
    problems = check(args.site.resolve(), screenshots, args.chromium)
    for line in problems:
        print("FAIL", line)
    if problems:
        print(f"{len(problems)} problems")
        return 1
    print("every page loaded cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
