"""The project's own files agree: pyproject vs environment.yml, README vs CI, Makefile targets."""

from __future__ import annotations

import re
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
