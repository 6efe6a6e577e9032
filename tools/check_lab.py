"""Work through a lesson in JupyterLab for real, in headless Chromium, as a learner would.

``make lab-check`` (``.ci/run`` runs it). In a throwaway folder outside the repository, with
copies of lessons 01 and 02 (``.ipynb`` and ``.py``), it starts ``jupyter lab`` on 127.0.0.1
with a random token and JupyterLab's settings as ``make lab`` installs them
(tools/lab-overrides.json), opens it in Chromium (the distribution's ``/usr/bin/chromium``,
driven by Playwright) and

1. opens lesson 01, waits for its kernel, chooses Run > Run All Cells in the menu, and waits
   until every code cell has its execution number and the kernel is idle: it fails if a cell
   does not finish within ``--timeout`` seconds, or if any output is an error (read on the
   page, and in the notebook the interface saved with Ctrl+S);
2. opens lesson 02's ``.py`` from the file browser by double-click and fails unless it opens
   as a notebook (jupytext's pairing: the cells of the ``.py``, the outputs of the ``.ipynb``)
   rather than as a text file;
3. runs that notebook's cells, drags the first slider of its schedule panel
   (``lrlab.explore``) with the mouse, and fails unless the figure is redrawn.

Screenshots of lesson 01 after its run and of lesson 02's sliders after the drag go to
``--screenshots`` (outside the repository).
Nothing in the repository is written: the figures go to the throwaway folder.

    python tools/check_lab.py [--timeout 600] [--screenshots DIR] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_site import (  # noqa: E402 (the same browser, flags and options)
    CHROMIUM_ARGS,
    add_browser_options,
    browser_options,
)

RUN_LESSON = "01_learning_rate_basics"
TEXT_LESSON = "02_keras_schedules"
OVERRIDES = ROOT / "tools" / "lab-overrides.json"
# Only for the check: render every cell (JupyterLab 4 draws off-screen cells lazily), so
# that every prompt and output can be read on the page.
CHECK_SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
                  {"windowingMode": "none"}}
PROMPT_DONE = re.compile(r"^\[\d+\]:$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(work: Path, token: str, port: int) -> subprocess.Popen:
    settings = work / "settings"
    for name, values in CHECK_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")
    app_settings = work / "app-settings"
    app_settings.mkdir()
    shutil.copyfile(OVERRIDES, app_settings / "overrides.json")
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
               LRLAB_FIGURES_DIR=str(work / "figures"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={work / 'root'}",
               f"--LabApp.app_settings_dir={app_settings}",
               "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (work / "lab.log").open("w")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_server(base: str, token: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"jupyter lab exited with {server.returncode}:\n"
                             f"{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"jupyter lab did not answer within 90 s:\n{log.read_text()[-3000:]}")


def kernel_idle(page) -> bool:
    status = page.locator(".jp-StatusBar-TextItem", has_text="|").first
    return status.count() > 0 and "Idle" in status.inner_text()


def menu(page, name: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{name}$")).click()
    page.get_by_role("menuitem", name=re.compile(f"^{item}")).click()


def prompts_of(scope) -> list[str]:
    """The input prompts of the code cells in ``scope`` (a page or one notebook panel)."""
    return [p.strip() for p in scope.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()]


def run_all(page, scope, timeout: float) -> tuple[list[str], float]:
    """Clear, then run every cell of the notebook in ``scope`` through the menu; return its
    prompts and the seconds the run took."""
    # The stored outputs go first, so that every number seen afterwards is this run's.
    menu(page, "Edit", "Clear Outputs of All Cells")
    deadline = time.monotonic() + 30
    while any(re.search(r"\d", p) for p in prompts_of(scope)) and time.monotonic() < deadline:
        time.sleep(0.2)
    menu(page, "Run", "Run All Cells")
    started = time.monotonic()
    prompts: list[str] = []
    while time.monotonic() - started < timeout:
        time.sleep(1)
        prompts = prompts_of(scope)
        if prompts and all(PROMPT_DONE.match(p) for p in prompts) and kernel_idle(page):
            break
        # Run All stops at a cell that raises: nothing is left running, the rest stay "[ ]:"
        if ("[*]:" not in prompts and kernel_idle(page)
                and scope.locator(".jp-OutputArea-output", has_text="Traceback").count()):
            break
    return prompts, time.monotonic() - started


def move_a_slider(page, panel, timeout: float) -> list[str]:
    """Run the open notebook, drag the first schedule slider, and check the figure changed."""
    prompts, _ = run_all(page, panel, timeout)
    if not all(PROMPT_DONE.match(p) for p in prompts):
        return [f"{TEXT_LESSON}.py: cells did not finish within {timeout:.0f} s in JupyterLab"]
    errors = panel.locator(".jp-OutputArea-output", has_text="Traceback").count()
    if errors:
        return [f"{TEXT_LESSON}.py: {errors} errors when its cells ran in JupyterLab"]
    slider = panel.locator(".widget-slider").first
    image = panel.locator("img.widget-image").first
    if slider.count() == 0 or image.count() == 0:
        return [f"{TEXT_LESSON}.py: no slider panel (lrlab.explore) appeared after Run All Cells: "
                "is ipywidgets installed (pip install -e '.[lab]')?"]
    slider.scroll_into_view_if_needed()
    before_src, before_pixels = image.get_attribute("src"), image.screenshot()
    handle = slider.locator(".noUi-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    deadline = time.monotonic() + 30
    while image.get_attribute("src") == before_src and time.monotonic() < deadline:
        time.sleep(0.5)
    page.wait_for_timeout(500)
    after_pixels = image.screenshot()
    label = slider.locator(".widget-label").first.inner_text()
    if image.get_attribute("src") == before_src or after_pixels == before_pixels:
        return [f"{TEXT_LESSON}.py: dragging the slider '{label}' did not redraw the figure"]
    print(f"{TEXT_LESSON}.py: dragging the slider '{label}' redrew the schedule's figure")
    return []


def screenshot_slider(page, panel, screenshots: Path) -> None:
    shot = screenshots / "jupyterlab-lesson-02-slider.png"
    panel.locator(".widget-slider").first.scroll_into_view_if_needed()
    page.screenshot(path=str(shot))
    print(f"screenshot of lesson 02's schedule sliders after the drag: {shot}")


def check(work: Path, screenshots: Path, chromium: str, timeout: float) -> list[str]:
    from playwright.sync_api import sync_playwright

    root = work / "root" / "notebooks"
    root.mkdir(parents=True)
    for stem in (RUN_LESSON, TEXT_LESSON):
        for suffix in (".ipynb", ".py"):
            shutil.copyfile(ROOT / "notebooks" / f"{stem}{suffix}", root / f"{stem}{suffix}")
    token, port = secrets.token_hex(16), free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_lab(work, token, port)
    problems: list[str] = []
    try:
        wait_for_server(base, token, server, work / "lab.log")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(60_000)

            # 1. lesson 01, every cell run through the interface
            page.goto(f"{base}/lab/tree/notebooks/{RUN_LESSON}.ipynb?token={token}")
            page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for()
            page.wait_for_function("() => document.querySelector('.jp-StatusBar-TextItem')")
            deadline = time.monotonic() + 120
            while not kernel_idle(page) and time.monotonic() < deadline:
                time.sleep(0.5)
            if not kernel_idle(page):
                problems.append(f"{RUN_LESSON}: the kernel was not idle within 120 s of opening")
            code_cells = sum(c.cell_type == "code" for c in nbformat.read(
                root / f"{RUN_LESSON}.ipynb", as_version=4).cells)
            prompts, seconds = run_all(page, page.locator(".jp-NotebookPanel").first, timeout)
            unfinished = [i for i, p in enumerate(prompts) if not PROMPT_DONE.match(p)]
            outcome = "finished" if not unfinished else "still not finished"
            print(f"{RUN_LESSON}: Run All Cells, {len(prompts)} code cells on the page "
                  f"({code_cells} in the file), {outcome} after {seconds:.0f} s")
            if len(prompts) != code_cells:
                problems.append(f"{RUN_LESSON}: {len(prompts)} code cells on the page, "
                                f"{code_cells} in the notebook")
            numbers = [int(p[1:-2]) for p in prompts if PROMPT_DONE.match(p)]
            if not unfinished and numbers != list(range(1, len(prompts) + 1)):
                problems.append(f"{RUN_LESSON}: the cells ran as {numbers}, not once each "
                                "in order from a new kernel")
            if unfinished:
                problems.append(f"{RUN_LESSON}: cells {unfinished} did not finish within "
                                f"{timeout:.0f} s, or were not run after an error (prompts "
                                f"{[prompts[i] for i in unfinished]})")
            shown = page.locator('.jp-OutputArea-output[data-mime-type='
                                 '"application/vnd.jupyter.stderr"]').all_inner_texts()
            for text in shown:
                if "Traceback" in text:
                    problems.append(f"{RUN_LESSON}: an error on the page: {text[:300]!r}")
            page.keyboard.press("Control+s")
            time.sleep(2)
            saved = nbformat.read(root / f"{RUN_LESSON}.ipynb", as_version=4)
            for index, cell in enumerate(c for c in saved.cells if c.cell_type == "code"):
                if cell.get("execution_count") is None:
                    problems.append(f"{RUN_LESSON}: code cell {index} saved without running")
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        problems.append(f"{RUN_LESSON}: code cell {index} saved an error: "
                                        f"{output.get('ename')}: {output.get('evalue')}")
            figures = sorted(p.name for p in (work / "figures").glob("*.png"))
            print(f"{RUN_LESSON} saved {len(figures)} figures: {', '.join(figures)}")
            if not figures:
                problems.append(f"{RUN_LESSON}: ran without saving a figure")
            screenshots.mkdir(parents=True, exist_ok=True)
            shot = screenshots / "jupyterlab-lesson-01.png"
            page.screenshot(path=str(shot))
            print(f"screenshot of lesson 01 in JupyterLab after Run All Cells: {shot}")

            # 2. lesson 02's .py, opened from the file browser, is a notebook
            page.goto(f"{base}/lab/tree/notebooks?token={token}")
            item = page.locator(".jp-DirListing-item", has_text=f"{TEXT_LESSON}.py")
            item.first.dblclick()
            expected = sum(c.cell_type == "code" for c in jupytext.read(
                root / f"{TEXT_LESSON}.py").cells)
            page.wait_for_timeout(3000)
            panel = page.locator(".jp-NotebookPanel:visible")
            tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel",
                               has_text=f"{TEXT_LESSON}.py")
            if tab.count() == 0:
                problems.append(f"{TEXT_LESSON}.py: no tab opened for it")
            elif panel.count() == 0 or page.locator(".jp-FileEditor:visible").count():
                problems.append(f"{TEXT_LESSON}.py opened as a text file, not as a notebook")
            else:
                cells = panel.first.locator(".jp-CodeCell").count()
                outputs = panel.first.locator(".jp-OutputArea-output").count()
                print(f"{TEXT_LESSON}.py opened as a notebook: {cells} code cells "
                      f"({expected} in the .py), {outputs} outputs from its paired .ipynb")
                if cells != expected:
                    problems.append(f"{TEXT_LESSON}.py: {cells} code cells, {expected} expected")
                if outputs == 0:
                    problems.append(f"{TEXT_LESSON}.py: no outputs: its .ipynb was not paired")
                else:
                    problems.extend(move_a_slider(page, panel.first, timeout))
                    screenshot_slider(page, panel.first, screenshots)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds lesson 01's Run All Cells may take (default 600)")
    add_browser_options(parser)
    args = parser.parse_args(argv)
    screenshots = browser_options(args)
    if not args.timeout > 0:
        raise SystemExit(f"--timeout must be a positive number of seconds, got {args.timeout}")
    work = Path(tempfile.mkdtemp(prefix="lrlab-lab-check-"))
    started = time.perf_counter()
    try:
        problems = check(work, screenshots, args.chromium, args.timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for line in problems:
        print("FAIL", line)
    print(f"JupyterLab check: {time.perf_counter() - started:.0f} s")
    if problems:
        print(f"{len(problems)} problems")
        return 1
    print("lesson 01 ran cleanly through JupyterLab; lesson 02's .py opened as a notebook, ran, "
          "and its slider redrew the figure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
