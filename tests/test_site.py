"""The site's staging (tools/build_site.py), and what the browser checks refuse
(tools/check_site.py, tools/check_lab.py) and the JupyterLab settings they rely on.

Building with Sphinx and opening pages in Chromium is `make site-check`, running lesson 01 in
JupyterLab is `make lab-check` (both run by .ci/run); these tests need neither Sphinx nor a
browser.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build_site = _load("build_site")
check_site = _load("check_site")
sys.path.insert(0, str(ROOT / "tools"))  # check_lab imports check_site's browser flags
check_lab = _load("check_lab")
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REPO = build_site.repository()


@pytest.mark.parametrize(
    ("heading", "github", "jupyter"),
    [
        # GitHub: lower case, punctuation but '-' and '_' dropped, spaces as dashes;
        # Jupyter: the text as it is, spaces as dashes (the lessons' links use this).
        ("How the lessons check themselves", "how-the-lessons-check-themselves",
         "How-the-lessons-check-themselves"),
        ("2. The walkthrough's three traps", "2-the-walkthroughs-three-traps",
         "2.-The-walkthrough's-three-traps"),
        ("Other Keras backends (JAX, PyTorch)", "other-keras-backends-jax-pytorch",
         "Other-Keras-backends-(JAX,-PyTorch)"),
    ],
)
def test_anchors_follow_github_and_jupyter(heading, github, jupyter):
    assert build_site.plain(heading) == heading
    assert build_site.github_slug(heading) == github
    assert build_site.jupyter_anchor(heading) == jupyter


@pytest.mark.parametrize(
    ("markdown", "text"),
    [("1. `ReduceLROnPlateau`: one name, two rules", "1. ReduceLROnPlateau: one name, two rules"),
     ("Why *not* [Adam](https://arxiv.org/abs/1412.6980)", "Why not Adam"),
     ("lr_find and **one_cycle**", "lr_find and one_cycle")],
)
def test_a_heading_is_read_as_its_rendered_text(markdown, text):
    assert build_site.plain(markdown) == text


def _rewrite(text, where="README.md", anchors=None):
    return build_site.rewrite_links(
        text, where=where, in_site={f"notebooks/{name}" for name in LESSONS},
        anchors=anchors or {}, repo=REPO)


def test_links_to_lessons_stay_and_other_files_go_to_github():
    lesson = f"[01](notebooks/{LESSONS[0]})"
    assert _rewrite(lesson) == lesson
    assert _rewrite("[data](data/README.md)") == (
        f"[data](https://github.com/{REPO}/blob/main/data/README.md)")
    assert _rewrite("[tools](tools)") == f"[tools](https://github.com/{REPO}/tree/main/tools)"
    # from inside notebooks/, a path is relative to that folder
    assert _rewrite("[lrlab](../lrlab/claims.py)", where=f"notebooks/{LESSONS[0]}") == (
        f"[lrlab](https://github.com/{REPO}/blob/main/lrlab/claims.py)")
    web = "[paper](https://arxiv.org/abs/1506.01186) ![badge](https://example.org/b.svg)"
    assert _rewrite(web) == web


def test_readme_anchors_become_the_sites_and_unknown_ones_are_refused():
    anchors = {"how-the-lessons-check-themselves": "How-the-lessons-check-themselves"}
    assert _rewrite("[see](#how-the-lessons-check-themselves)", anchors=anchors) == (
        "[see](#How-the-lessons-check-themselves)")
    with pytest.raises(SystemExit, match="'#no-such-heading' names no heading"):
        _rewrite("[see](#no-such-heading)", anchors=anchors)


@pytest.mark.parametrize(
    ("link", "message"),
    [("[x](no_such_file.md)", "names no file of the repository"),
     ("[x](../../outside.md)", "leaves the repository")],
)
def test_links_to_nothing_are_refused(link, message):
    with pytest.raises(SystemExit, match=message):
        _rewrite(link, where="notebooks/x.ipynb")


def test_every_link_between_lessons_names_a_heading_of_the_lesson():
    """The links lesson 11 (and others) make to a section work in Jupyter and on the site."""
    headings = {}
    for name in LESSONS:
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        headings[name] = {build_site.jupyter_anchor(h)
                          for cell in notebook.cells if cell.cell_type == "markdown"
                          for h in build_site.headings(cell.source)}
    checked = 0
    for name in LESSONS:
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            for match in re.finditer(r"\]\(((?:\d\d_\w+\.ipynb)?)#([^)\s]+)\)", cell.source):
                target = match.group(1) or name
                assert target in headings, f"{name} links to {target}, not a lesson"
                anchor = unquote(match.group(2))
                assert anchor in headings[target], (
                    f"{name} links to {target}#{anchor}: no such heading")
                checked += 1
    assert checked >= 20, f"only {checked} links between lessons found"


def test_stage_writes_the_landing_page_and_every_lesson(tmp_path):
    pages = build_site.stage(tmp_path / "src")
    assert pages == [f"notebooks/{Path(name).stem}" for name in LESSONS]
    index = (tmp_path / "src" / "index.md").read_text(encoding="utf-8")
    assert index.startswith("# lrlab")
    assert "## The lessons" in index and "## Data" not in index
    assert index.count("notebooks/") >= 2 * len(LESSONS)
    toctree = index[index.index("```{toctree}"):]
    assert [line for line in toctree.splitlines() if line.startswith("notebooks/")] == pages
    assert build_site.COLAB_BADGE not in index
    assert (tmp_path / "src" / build_site.BADGE_FILE).is_file()
    for name in LESSONS:
        staged = nbformat.read(tmp_path / "src" / "notebooks" / name, as_version=4)
        original = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        assert len(staged.cells) == len(original.cells)
        # outputs are carried over as stored: the site shows what nbval checked
        assert [c.get("outputs") for c in staged.cells] == [
            c.get("outputs") for c in original.cells]
        text = "".join(c.source for c in staged.cells)
        assert build_site.COLAB_BADGE not in text
        assert f"../{build_site.BADGE_FILE}" in text
    # a second build replaces the first (the folder is marked as the script's)
    build_site.stage(tmp_path / "src")


def test_a_folder_lrlab_did_not_write_is_left_alone(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(SystemExit, match="not written by make site"):
        build_site.stage(folder)
    with pytest.raises(SystemExit, match="not written by make site"):
        build_site.clear(folder, ".buildinfo")
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    marked = tmp_path / "built"
    marked.mkdir()
    (marked / ".buildinfo").write_text("", encoding="utf-8")
    build_site.clear(marked, ".buildinfo")
    assert not marked.exists()


def test_the_browser_check_refuses_screenshots_in_the_repository_and_a_missing_site(tmp_path):
    with pytest.raises(SystemExit, match="lies inside the repository"):
        check_site.main(["--site", str(tmp_path), "--screenshots", str(ROOT / "shots")])
    with pytest.raises(SystemExit, match="no Chromium at"):
        check_site.main(["--site", str(tmp_path), "--screenshots", str(tmp_path / "s"),
                         "--chromium", str(tmp_path / "no-chromium")])
    with pytest.raises(SystemExit, match="has no index.html"):
        check_site.pages_of(tmp_path)


def test_ci_builds_and_checks_the_site_and_the_readme_says_how():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make site-check" in ci and ci.index("make site-check") > ci.index("make test")
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    assert {"site", "site-check", "lab-check"} <= targets
    assert "make lab-check" in ci and ci.index("make lab-check") > ci.index("make test")
    readme = (ROOT / "README.md").read_text()
    assert "make site`" in readme and "make site-check" in readme and "make lab-check" in readme


def test_make_lab_opens_a_lessons_py_as_a_notebook():
    # JupyterLab's default viewer for Python files is the text editor; jupytext's factory
    # "Jupytext Notebook" opens a paired .py as the notebook (its .ipynb's outputs included)
    overrides = json.loads((ROOT / "tools" / "lab-overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"python": "Jupytext Notebook"}
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab: .*\$\(LAB_SETTINGS\)", makefile, re.M)
    assert "$(VENV)/share/jupyter/lab/settings/overrides.json" in makefile


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--screenshots", str(ROOT / "figures" / "shots")], "lies inside the repository"),
     (["--timeout", "0"], "--timeout must be a positive number of seconds, got 0.0"),
     (["--chromium", "/no/such/chromium"], "no Chromium at /no/such/chromium")],
)
def test_the_jupyterlab_check_refuses(argv, message, tmp_path):
    if "--chromium" not in argv:
        argv = [*argv, "--chromium", sys.executable]  # any file: refused before it is used
    with pytest.raises(SystemExit, match=re.escape(message)):
        check_lab.main(argv)
