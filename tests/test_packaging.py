"""The project's own files agree: pyproject vs environment.yml, README vs CI, Makefile targets;
the wheel and the sdist carry lrlab's package data."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def _conda_pip_list() -> list[str]:
    pip_sections = [
        d["pip"] for d in ENVIRONMENT["dependencies"] if isinstance(d, dict) and "pip" in d
    ]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    return pip_sections[0]


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = PYPROJECT["project"]
    expected = list(project["dependencies"])
    for extra in ("cpu", "test", "lab"):
        expected += project["optional-dependencies"][extra]
    listed = [r for r in _conda_pip_list() if not r.startswith("-e")]
    assert sorted(map(_normalise, listed)) == sorted(map(_normalise, expected)), (
        "environment.yml's pip list differs from pyproject's dependencies + cpu/test/lab extras"
    )
    assert "-e ." in _conda_pip_list(), "environment.yml must install lrlab itself (-e .)"


def test_environment_yml_python_range_matches_requires_python():
    pythons = [
        d for d in ENVIRONMENT["dependencies"] if isinstance(d, str) and d.startswith("python")
    ]
    assert [_normalise(p) for p in pythons] == [
        "python" + _normalise(PYPROJECT["project"]["requires-python"])
    ]


def test_tensorflow_is_not_a_base_dependency():
    # Colab's preinstalled `tensorflow` must not be replaced by `pip install lrlab`.
    base = " ".join(PYPROJECT["project"]["dependencies"])
    assert "tensorflow" not in base and "keras" not in base
    assert not any(
        "addons" in r for r in sum(PYPROJECT["project"]["optional-dependencies"].values(), [])
    )


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M), (
        ".ci/run must call `make test`, the README's test command"
    )


def test_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", makefile, re.M))
    for target in ("lab", "test", "figures", "data", "sync", "bench", "clean", "exercises"):
        assert target in targets, f"Makefile lacks `make {target}`"
    for target in ("lab", "test", "figures", "data", "sync", "bench", "exercises"):
        assert f"make {target}" in (ROOT / "README.md").read_text(), (
            f"README does not mention make {target}"
        )


def _copy_of_the_project(folder: Path) -> Path:
    """What the build reads (pyproject.toml, README.md, lrlab/), copied so that the build's
    own files (build/, lrlab.egg-info) never land in the checkout."""
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "lrlab", source / "lrlab", ignore=shutil.ignore_patterns("__pycache__"))
    return source


def test_reference_values_are_in_the_wheel_and_the_sdist_and_load_when_installed(tmp_path):
    # Colab installs lrlab from a wheel, with no checkout around it: the reference files must be
    # package data (lrlab/reference/*.json), in the wheel and in the sdist, and
    # lrlab.reference.load_reference must find them in the installed copy.
    from lrlab.reference import NAMES

    source, dist = _copy_of_the_project(tmp_path), tmp_path / "dist"
    for hook in ("build_wheel", "build_sdist"):  # setuptools' PEP 517 hooks, which pip calls:
        # offline, with no isolated env to make; one process each (setuptools keeps state)
        built = subprocess.run(
            [sys.executable, "-c", f"import setuptools.build_meta as b; b.{hook}({str(dist)!r})"],
            cwd=source, capture_output=True, text=True, timeout=120,
        )
        assert built.returncode == 0, built.stderr[-3000:]
    assert sorted(path.name for path in dist.iterdir()) == [
        "lrlab-0.1.0-py3-none-any.whl", "lrlab-0.1.0.tar.gz"
    ]
    wheel_name, sdist_name = "lrlab-0.1.0-py3-none-any.whl", "lrlab-0.1.0.tar.gz"
    expected = {f"lrlab/reference/{name}.json" for name in NAMES} | {"lrlab/reference/README.md"}
    with zipfile.ZipFile(dist / wheel_name) as wheel:
        assert expected <= set(wheel.namelist())
    with tarfile.open(dist / sdist_name) as sdist:
        assert {f"lrlab-0.1.0/{name}" for name in expected} <= set(sdist.getnames())

    target = tmp_path / "installed"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(dist / wheel_name)],
        capture_output=True, text=True, timeout=120,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    # -I -S: no site-packages (so not the editable lrlab of this venv), no working directory
    load = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import lrlab.reference as r; "
        "print(json.dumps([r.__file__, {n: sorted(r.load_reference(n)) for n in r.NAMES}]))"
    )
    loaded = subprocess.run(
        [sys.executable, "-I", "-S", "-c", load, str(target)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    module_file, keys = json.loads(loaded.stdout)
    assert Path(module_file).is_relative_to(target)
    # each installed file has the keys of the file in the checkout (the tools' top-level keys)
    assert keys == {
        name: sorted(json.loads((ROOT / "lrlab" / "reference" / f"{name}.json").read_text()))
        for name in NAMES
    }
