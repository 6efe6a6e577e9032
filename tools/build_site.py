"""Build the lessons' static site (``make site``): Sphinx + MyST-NB over the stored notebooks.

The site is what a learner reads before running anything: the README's lesson table as the
landing page, then one page per lesson with its stored outputs (figures, tables, the claims'
lines) and its "Open in Colab" badge. Nothing is executed: nbval checks the stored outputs
(``make test``), so the site shows exactly what was checked.

Sphinx reads one source folder, so the sources are staged first into ``build/site-src``:

- ``index.md``: the README from its title down to its "Data" section (what the series is, the
  two commands, the lesson table, how the lessons check themselves). Links to the lessons
  stay as they are; a link to a heading of the README gets that heading's anchor on the site;
  a link to any other file of the repository (``data/README.md``, say) points at the file on
  GitHub, in the repository the Colab badges name (``make colab-links`` changes both).
- ``notebooks/NN_topic.ipynb``: the stored lessons, their relative links rewritten the same way.

Both show the "Open in Colab" badges as the site's own image (docs/open-in-colab.svg), not
Google's, so that a page loads nothing from outside the site.

Then ``sphinx-build -W`` writes ``build/site`` (docs/conf.py): any warning, a link to a lesson
heading that does not exist among them, fails the build.

    python tools/build_site.py [--out build/site]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "docs"
sys.path.insert(0, str(CONF_DIR))
# The anchor Jupyter and the site give a heading (docs/site_anchors.py, which conf.py uses).
from site_anchors import jupyter_anchor  # noqa: E402

# The README's landing part ends where this section starts.
LANDING_END = "## Data"
# The Colab badge of lesson 01 names the repository (tools/colab_links.py writes it).
COLAB_REPOSITORY = re.compile(r"colab\.research\.google\.com/github/([^/\s)]+/[^/\s)]+)/blob/")
# A Markdown link or image target: "](target)" or "](target "title")".
LINK_TARGET = re.compile(r"\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
# Google's badge image; the site shows its own drawing (docs/open-in-colab.svg) instead, so that
# every page loads from the site alone (the browser check fails on any request that leaves it).
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_FILE = "open-in-colab.svg"
HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.+?)\s*#*\s*$", re.MULTILINE)


def plain(heading: str) -> str:
    """A Markdown heading's text as a reader sees it: code marks, emphasis and links undone."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[`*]|(?<!\w)_|_(?!\w)", "", text).strip()


def headings(markdown: str) -> list[str]:
    """The plain text of every heading of ``markdown``."""
    return [plain(m.group("text")) for m in HEADING.finditer(markdown)]


def github_slug(heading: str) -> str:
    """GitHub's anchor of a README heading: lower case, punctuation dropped, spaces as dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def repository(root: Path = ROOT) -> str:
    """The owner/name the lessons' Colab badges point at."""
    text = (root / "notebooks" / "01_learning_rate_basics.ipynb").read_text(encoding="utf-8")
    found = COLAB_REPOSITORY.search(text)
    if found is None:
        raise SystemExit(
            "notebooks/01_learning_rate_basics.ipynb has no Colab badge naming the "
            "repository (colab.research.google.com/github/OWNER/NAME/blob/...): run "
            "make colab-links REPOSITORY=owner/name"
        )
    return found.group(1)


def rewrite_links(text: str, *, where: str, in_site: set[str], anchors: dict[str, str],
                  repo: str) -> str:
    """Rewrite the relative link targets of Markdown ``text`` found in file ``where``.

    ``where`` is the file's path relative to the repository root; ``in_site`` the repository
    paths that are pages of the site; ``anchors`` maps the GitHub anchors of this page's
    headings to their anchors on the site. A link to a page of the site is kept, a link to
    another file of the repository goes to GitHub, and an in-page anchor that names no heading
    is refused, naming the file and the link.
    """
    base = Path(where).parent

    def one(match: re.Match) -> str:
        target, title = match.group("target"), match.group("title") or ""
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
            return match.group(0)
        path, _, fragment = target.partition("#")
        if not path:
            if fragment in anchors.values():
                return match.group(0)
            if fragment not in anchors:
                raise SystemExit(
                    f"{where}: the link '#{fragment}' names no heading of the page "
                    f"(its headings' anchors: {', '.join(sorted(anchors)) or 'none'})"
                )
            return f"](#{anchors[fragment]}{title})"
        resolved = (base / path).as_posix()
        parts: list[str] = []
        for part in resolved.split("/"):
            if part == "..":
                if not parts:
                    raise SystemExit(f"{where}: the link '{target}' leaves the repository")
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        resolved = "/".join(parts)
        if resolved in in_site:
            return match.group(0)
        if not (ROOT / resolved).exists():
            raise SystemExit(f"{where}: the link '{target}' names no file of the repository")
        kind = "tree" if (ROOT / resolved).is_dir() else "blob"
        url = f"https://github.com/{repo}/{kind}/main/{resolved}"
        return f"]({url}{'#' + fragment if fragment else ''}{title})"

    return LINK_TARGET.sub(one, text)


def landing_page(readme: str) -> str:
    """The README from its title to its Data section."""
    end = readme.find("\n" + LANDING_END + "\n")
    if end < 0:
        raise SystemExit(f"README.md has no '{LANDING_END}' section to end the landing page at")
    return readme[:end].rstrip() + "\n"


def lessons(root: Path = ROOT) -> list[Path]:
    found = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise SystemExit(f"no lessons found in {root / 'notebooks'}")
    return found


STAGE_MARK = ".lrlab-site-sources"


def clear(folder: Path, mark: str) -> None:
    """Empty ``folder`` for a new build, refusing one this script did not write.

    A folder is ours when it holds ``mark`` (the staging mark, or Sphinx's ``.buildinfo``);
    an empty or missing folder is fine; anything else is left untouched.
    """
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SystemExit(f"{folder} is a file, not a folder: choose another path")
    if any(folder.iterdir()) and not (folder / mark).exists():
        raise SystemExit(
            f"{folder} is not empty and was not written by make site (no {mark} in it): "
            "choose another folder, or empty it yourself"
        )
    shutil.rmtree(folder)


def stage(dest: Path, root: Path = ROOT) -> list[str]:
    """Write the site's sources into ``dest`` (emptied first); return the lesson pages."""
    repo = repository(root)
    notebooks = lessons(root)
    in_site = {f"notebooks/{nb.name}" for nb in notebooks}
    clear(dest, STAGE_MARK)
    (dest / "notebooks").mkdir(parents=True)
    (dest / STAGE_MARK).write_text("staged by tools/build_site.py\n", encoding="utf-8")

    landing = landing_page((root / "README.md").read_text(encoding="utf-8"))
    anchors = {github_slug(h): jupyter_anchor(h) for h in headings(landing)}
    landing = rewrite_links(landing, where="README.md", in_site=in_site, anchors=anchors,
                            repo=repo)
    pages = [f"notebooks/{nb.stem}" for nb in notebooks]
    toctree = "\n".join(["", "```{toctree}", ":hidden:", ":caption: Lessons", "", *pages,
                         "```", ""])
    (dest / "index.md").write_text(landing.replace(COLAB_BADGE, BADGE_FILE) + toctree,
                                   encoding="utf-8")
    shutil.copyfile(CONF_DIR / BADGE_FILE, dest / BADGE_FILE)

    for nb_path in notebooks:
        notebook = nbformat.read(nb_path, as_version=4)
        where = f"notebooks/{nb_path.name}"
        own = {jupyter_anchor(h) for cell in notebook.cells if cell.cell_type == "markdown"
               for h in headings(cell.source)}
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = rewrite_links(cell.source, where=where, in_site=in_site,
                                            anchors={a: a for a in own}, repo=repo)
                cell.source = cell.source.replace(COLAB_BADGE, f"../{BADGE_FILE}")
        nbformat.write(notebook, dest / "notebooks" / nb_path.name)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site",
                        help="where the HTML goes (default build/site)")
    parser.add_argument("--stage", type=Path, default=ROOT / "build" / "site-src",
                        help="where the staged sources go (default build/site-src)")
    args = parser.parse_args(argv)
    try:
        from sphinx.cmd.build import build_main
    except ImportError:
        raise SystemExit(
            'make site needs Sphinx and MyST-NB: pip install -e ".[site]" (make site does it)'
        ) from None
    clear(args.out, ".buildinfo")
    pages = stage(args.stage)
    print(f"staged the landing page and {len(pages)} lessons in {args.stage}")
    status = build_main(["-W", "--keep-going", "-q", "-b", "html", "-c", str(CONF_DIR),
                         str(args.stage), str(args.out)])
    if status == 0:
        print(f"site written to {args.out} (open {args.out / 'index.html'})")
    return status


if __name__ == "__main__":
    sys.exit(main())
