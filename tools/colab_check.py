"""Run every lesson and every learner copy the way Colab does, from an installed lrlab.

``make colab-check`` (this script) simulates Colab on this machine:

1. builds lrlab's wheel from the checkout (its tracked and untracked, not ignored files,
   copied into a scratch folder: the checkout itself gets no build output);
2. creates a throwaway venv (``python3.12`` when the machine has it, else ``python3``) and
   installs what Colab has before a lesson runs: ``tensorflow`` in the minor version that
   pyproject's ``cpu`` extra allows, ``jax`` within the ``test`` extra's bounds, ``nbclient``
   and ``ipykernel``; a stand-in
   ``google.colab`` package goes into its site-packages, and an IPython start-up file imports
   it, as Colab's kernel does (so that ``"google.colab" in sys.modules`` is True, as on Colab);
3. runs the standard Colab cell once with an install source that does not exist
   (``LRLAB_INSTALL=file:///nonexistent.whl``): it must print its help, not a traceback;
4. executes every ``notebooks/NN_*.ipynb`` and ``exercises/NN_*.ipynb``, each copied alone
   into an empty folder, with ``LRLAB_INSTALL`` pointing at the wheel (lrlab is not
   preinstalled: the first lesson's Colab cell installs it) and the tiny subset uploaded the
   way the README tells a Colab learner: copied into ``<folder>/data/gtsrb-tiny`` without
   lrlab's ``.complete`` and ``.lrlab-source`` files. Lesson 08 gets the small budget of
   ``make test`` (the ``LRLAB_SHOOTOUT_*`` variables this script is run with);
5. fails when a cell raises an error it does not expect, when a check in a solved lesson
   does not say ``correct`` or one in a learner copy does not say ``not implemented yet``,
   when a lesson falls back to the SYNTHETIC stand-in, when the uploaded data differ after
   the lesson (files or bytes), or when pip changed the preinstalled TensorFlow, Keras or
   numpy (``pip list`` before and after, and the plan of ``pip install --dry-run``).

It prints the time of every step and the wall time. The scratch folder is deleted after a
run that passed and kept (its path printed) after one that failed; a folder given with
``--workdir`` is never deleted.

    python tools/colab_check.py [--only 03 exercises/07] [--python python3.12] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "gtsrb-tiny"
# lrlab's own bookkeeping in a fetched folder: a learner's upload has neither
LRLAB_FILES = (".complete", ".lrlab-source")
PROTECTED = ("tensorflow", "keras", "numpy")
WORKDIR_MARKER = ".lrlab-colab-check"
MISSING_SOURCE = "file:///nonexistent.whl"
CELL_TIMEOUT_S = 1800

# Run by the throwaway venv's Python: execute one notebook with nbclient in its folder.
EXECUTE = textwrap.dedent(
    """
    import json, re, sys, time
    import nbclient, nbformat
    from nbclient.exceptions import CellExecutionError

    source, target, folder, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    notebook = nbformat.read(source, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": folder}}
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as failure:
        error = str(failure)[-4000:]
    except Exception as failure:  # a kernel that died, a timeout
        error = f"{type(failure).__name__}: {failure}"[-4000:]
    nbformat.write(notebook, target)
    if error:  # the traceback's colours
        error = re.sub(r"\\x1b\\[[0-9;]*m", "", error)
    print(json.dumps({"error": error, "seconds": time.perf_counter() - started}))
    """
)

STANDIN = '''"""A stand-in for Colab's google.colab package, made by lrlab's tools/colab_check.py.

Only its presence matters: "google.colab" is in sys.modules once it is imported.
"""
'''


class CheckFailed(Exception):
    """A step of the simulation failed; the message says which and why."""


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; raise CheckFailed with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise CheckFailed(
            f"`{' '.join(map(str, command))}` failed ({done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-3000:]}"
        )
    return done


def tensorflow_requirement() -> str:
    """``tensorflow`` with the version bounds of pyproject's ``cpu`` extra (Colab's package)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["optional-dependencies"]["cpu"]:
        match = re.fullmatch(r"tensorflow(?:-cpu)?\s*(.*)", requirement.strip())
        if match:
            return "tensorflow" + match.group(1).replace(" ", "")
    raise CheckFailed("pyproject.toml's cpu extra names no tensorflow(-cpu) requirement")


def jax_requirement() -> str:
    """``jax`` with the bounds of pyproject's ``test`` extra: Colab preinstalls jax, and lesson
    09 trains under it (``keras.distribution.DataParallel``) in a child process."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["optional-dependencies"]["test"]:
        if re.match(r"jax\s*[<>=!~]", requirement.strip()):
            return requirement.replace(" ", "")
    raise CheckFailed("pyproject.toml's test extra names no jax requirement")


def checkout_files() -> list[Path]:
    """The checkout's files as a fresh clone plus uncommitted work has them (not ignored)."""
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT
    ).stdout
    return [Path(name) for name in listed.split("\0") if name and (ROOT / name).is_file()]


def build_wheel(scratch: Path) -> Path:
    """lrlab's wheel, built from a copy of the checkout's files."""
    source = scratch / "source"
    if source.exists():
        shutil.rmtree(source)
    for name in checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = scratch / "dist"
    if dist.exists():
        shutil.rmtree(dist)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), "."],
        cwd=source)
    wheels = sorted(dist.glob("lrlab-*.whl"))
    if len(wheels) != 1:
        raise CheckFailed(f"expected one lrlab wheel in {dist}, found {wheels}")
    return wheels[0]


def _runs(python: str) -> str | None:
    """The interpreter's own path when ``python`` starts (a pyenv shim may not), else None."""
    try:
        done = subprocess.run([python, "-c", "import sys; print(sys.executable)"],
                              capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def default_python() -> str:
    """Python 3.12 (as Colab has) when this machine has it, else ``python3``.

    ``python3.12`` on the PATH, else pyenv's 3.12 (whose shim only starts where that version
    is selected), else ``python3``, else this Python.
    """
    candidates = ["python3.12"]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        candidates += sorted(str(p) for p in Path(root).glob("versions/3.12*/bin/python3.12"))
    for candidate in [*candidates, "python3"]:
        found = _runs(candidate)
        if found:
            return found
    return sys.executable


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def packages(python: Path) -> dict[str, str]:
    """``{name: version}`` of everything installed for ``python`` (pip's normalised names)."""
    listed = json.loads(run([str(python), "-m", "pip", "list", "--format=json"]).stdout)
    return {p["name"].lower().replace("_", "-"): p["version"] for p in listed}


def lrlab_importable(python: Path, env: dict[str, str]) -> bool:
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec('lrlab') is None)"
    return subprocess.run([str(python), "-c", code], env=env, cwd="/").returncode == 0


def make_venv(scratch: Path, python: str) -> Path:
    """The throwaway venv with Colab's preinstalled packages and the google.colab stand-in."""
    venv = scratch / "venv"
    stamp = venv / ".colab-preinstalled"
    if stamp.is_file():
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    run([python, "-m", "venv", str(venv)])
    interpreter = str(venv_python(venv))
    run([interpreter, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    # ipywidgets: Colab ships it, and lessons 02 and 04's sliders (lrlab.explore) use it
    run([interpreter, "-m", "pip", "install", "--quiet", tensorflow_requirement(),
         jax_requirement(), "nbclient", "ipykernel", "ipywidgets"])
    site = run([interpreter, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    colab = Path(site.stdout.strip()) / "google" / "colab"
    colab.mkdir(parents=True, exist_ok=True)  # no google/__init__.py: protobuf shares google/
    (colab / "__init__.py").write_text(STANDIN)
    stamp.write_text("")
    return venv


def kernel_env(scratch: Path, venv: Path, install_source: str) -> dict[str, str]:
    """The environment of a Colab kernel here: the venv first, no checkout, no lrlab settings."""
    ipython = scratch / "ipython"
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-google-colab.py").write_text("import google.colab  # as Colab's kernel does\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LRLAB_", "PYTHON", "JUPYTER", "VIRTUAL_ENV", "IPYTHON"))
    }
    checkout_bin = str(ROOT / ".venv" / "bin")
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != checkout_bin]
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), *path]),
        VIRTUAL_ENV=str(venv),
        IPYTHONDIR=str(ipython),
        JUPYTER_DATA_DIR=str(scratch / "jupyter"),  # no kernelspec of this machine's user
        JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
        MPLBACKEND="agg",
        LRLAB_INSTALL=install_source,
    )
    return env


def data_manifest(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder``."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def upload(folder: Path) -> dict[str, str]:
    """Copy the tiny subset into ``folder/data/gtsrb-tiny`` as a learner uploads it."""
    target = folder / "data" / "gtsrb-tiny"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns(*LRLAB_FILES))
    return data_manifest(target)


def _joined(text) -> str:
    """An .ipynb string field: a str, or a list of lines."""
    return "".join(text) if isinstance(text, list) else str(text)


def texts(cell) -> str:
    """Everything a code cell showed: streams, results, errors."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(_joined(output.get("text", "")))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(_joined(output.get("data", {}).get("text/plain", "")))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "".join(parts)


def judge(executed, learner: bool) -> list[str]:
    """What is wrong with an executed lesson (empty when nothing is)."""
    problems = []
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    exercise_tag = "exercise" if learner else "solution"
    expected_verdict = "not implemented yet" if learner else "correct:"
    for number, cell in enumerate(code, start=1):
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and "raises-exception" not in tags:
            problems.append(f"code cell {number} raised {errors[0].get('ename')}")
        if "SYNTHETIC" in texts(cell):
            problems.append(f"code cell {number} used the SYNTHETIC stand-in, not the upload")
        if exercise_tag in tags:
            check = code[number] if number < len(code) else None
            shown = texts(check) if check else ""
            if expected_verdict not in shown or "Traceback" in shown:
                problems.append(
                    f"the check after code cell {number} should say {expected_verdict!r}, "
                    f"showed {shown.strip()[:300]!r}"
                )
    return problems


def colab_cell_notebook() -> dict:
    """A notebook holding only the standard Colab cell (lesson 01's second cell)."""
    lesson = json.loads((ROOT / "notebooks" / "01_learning_rate_basics.ipynb").read_text())
    cell = dict(lesson["cells"][1], outputs=[], execution_count=None)
    return dict(lesson, cells=[cell])


def execute(python: Path, scratch: Path, notebook: Path, folder: Path, env: dict) -> dict:
    """Execute ``notebook`` (alone in ``folder``) with nbclient; return it with its time."""
    runner = scratch / "execute.py"
    runner.write_text(EXECUTE)
    target = folder / f"executed-{notebook.name}"
    done = subprocess.run(
        [str(python), str(runner), str(notebook), str(target), str(folder), str(CELL_TIMEOUT_S)],
        capture_output=True, text=True, env=env, cwd=folder,
    )
    if done.returncode != 0 or not target.is_file():
        raise CheckFailed(f"nbclient could not run {notebook.name}:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["notebook"] = json.loads(target.read_text())
    return result


def check_failed_install(python: Path, scratch: Path, env: dict) -> None:
    """The Colab cell with an install source that does not exist: help, no traceback."""
    folder = scratch / "runs" / "colab-cell-without-lrlab"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    notebook = folder / "colab_cell.ipynb"
    notebook.write_text(json.dumps(colab_cell_notebook()))
    result = execute(python, scratch, notebook, folder, dict(env, LRLAB_INSTALL=MISSING_SOURCE))
    shown = texts(result["notebook"]["cells"][0])
    if result["error"] or "Traceback" in shown:
        raise CheckFailed(f"the Colab cell crashed without lrlab: {result['error'] or shown}")
    helped = f"Could not install lrlab from {MISSING_SOURCE}" in shown and "LRLAB_INSTALL" in shown
    if not helped:
        raise CheckFailed(f"the Colab cell without lrlab did not print its help: {shown!r}")
    print(f"  the Colab cell without an installable lrlab prints its help, no traceback "
          f"({result['seconds']:.1f} s)")


def notebooks(only: list[str]) -> list[Path]:
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
        (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")
    )
    if not found:
        raise CheckFailed("no notebooks/NN_*.ipynb or exercises/NN_*.ipynb found")
    if not only:
        return found
    chosen = [
        p for p in found if any(str(p.relative_to(ROOT)).startswith(o) or p.name.startswith(o)
                                for o in only)
    ]
    if not chosen:
        names = ", ".join(str(p.relative_to(ROOT)) for p in found)
        raise CheckFailed(f"--only {' '.join(only)} matches none of: {names}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="run only these (e.g. 03 exercises/07): a prefix of the file name "
                        "or of its path in the repository")
    parser.add_argument("--python", default=default_python(),
                        help="the Python of the throwaway venv (default: python3.12 if found)")
    parser.add_argument("--workdir", type=Path,
                        help="scratch folder to use and keep (its venv is reused on the next "
                        "run); default: a new temporary folder, deleted when the run passes")
    args = parser.parse_args(argv)
    if not (DATA / ".complete").is_file():
        parser.error(f"the tiny subset is not in {DATA}: run `make data` first")
    if args.workdir is not None:
        scratch = args.workdir.resolve()
        if scratch.exists() and any(scratch.iterdir()) and not (scratch / WORKDIR_MARKER).exists():
            parser.error(f"--workdir {scratch} is not empty and was not made by colab_check: "
                         "give an empty or new folder")
        scratch.mkdir(parents=True, exist_ok=True)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="lrlab-colab-check-"))
    (scratch / WORKDIR_MARKER).write_text("made by lrlab's tools/colab_check.py\n")
    shootout = {k: v for k, v in os.environ.items() if k.startswith("LRLAB_SHOOTOUT_")}
    started = time.perf_counter()
    timings: list[tuple[str, float, str]] = []
    failures: list[str] = []
    try:
        step = time.perf_counter()
        wheel = build_wheel(scratch)
        print(f"wheel: {wheel.name} ({time.perf_counter() - step:.0f} s)")
        step = time.perf_counter()
        venv = make_venv(scratch, args.python)
        python = venv_python(venv)
        version = run([str(python), "--version"]).stdout.strip()
        seconds = time.perf_counter() - step
        print(f"throwaway venv: {version}, {tensorflow_requirement()}, {jax_requirement()} "
              f"({seconds:.0f} s)")
        env = kernel_env(scratch, venv, wheel.resolve().as_uri())
        if lrlab_importable(python, env):  # a reused venv: lrlab was installed by a lesson
            run([str(python), "-m", "pip", "uninstall", "--quiet", "-y", "lrlab"])
        before = packages(python)
        print("preinstalled: " + ", ".join(f"{n} {before.get(n, 'MISSING')}" for n in PROTECTED))
        plan = json.loads(run([str(python), "-m", "pip", "install", "--quiet", "--dry-run",
                               "--report", "-", f"lrlab @ {wheel.resolve().as_uri()}"]).stdout)
        planned = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in plan["install"]}
        print("pip's plan for lrlab: " + ", ".join(f"{n} {v}" for n, v in sorted(planned.items())))
        touched = sorted(set(planned) & set(PROTECTED))
        if touched:
            failures.append(f"pip would install {touched} over Colab's preinstalled ones")
        check_failed_install(python, scratch, env)
        for notebook in notebooks(args.only):
            name = str(notebook.relative_to(ROOT))
            learner = notebook.parent.name == "exercises"
            folder = scratch / "runs" / f"{notebook.parent.name}-{notebook.stem}"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            shutil.copy2(notebook, folder / notebook.name)
            uploaded = upload(folder)
            lesson_env = dict(env, **shootout) if notebook.stem.startswith("08_") else env
            result = execute(python, scratch, folder / notebook.name, folder, lesson_env)
            problems = judge(result["notebook"], learner)
            if result["error"]:
                problems.insert(0, f"stopped: {result['error'][-1500:]}")
            if data_manifest(folder / "data" / "gtsrb-tiny") != uploaded:
                problems.append("the uploaded data/gtsrb-tiny changed (files or bytes)")
            status = "ok" if not problems else "FAILED"
            timings.append((name, result["seconds"], status))
            print(f"  {name}: {status} ({result['seconds']:.0f} s)", flush=True)
            failures += [f"{name}: {problem}" for problem in problems]
        after = packages(python)
        if "lrlab" not in after:
            failures.append("no lesson's Colab cell installed lrlab")
        for name in PROTECTED:
            if before.get(name) != after.get(name):
                failures.append(f"pip changed {name}: {before.get(name)} -> {after.get(name)}")
        added = sorted(set(after) - set(before))
        changed = sorted(n for n in set(before) & set(after) if before[n] != after[n])
        print("the Colab cells added: " + ", ".join(f"{n} {after[n]}" for n in added))
        if changed:
            print("and changed: " + ", ".join(f"{n} {before[n]} -> {after[n]}" for n in changed))
    except CheckFailed as error:
        failures.append(str(error))
    wall = time.perf_counter() - started
    print("\nper notebook (nbclient's time, kernel start included):")
    for name, seconds, status in timings:
        print(f"  {seconds:7.1f} s  {status:6}  {name}")
    print(f"wall time: {wall:.0f} s for {len(timings)} notebooks")
    if failures:
        print("\ncolab-check FAILED:\n" + "\n".join(f"- {f}" for f in failures), file=sys.stderr)
        print(f"(executed notebooks kept in {scratch / 'runs'})", file=sys.stderr)
        return 1
    print("colab-check passed")
    if args.workdir is None:
        shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
