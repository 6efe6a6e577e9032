"""Tests of lrlab.reference, the one loader of the reference values lrlab ships as package data.

Expected values come from the files themselves, as the tools in tools/ wrote them (the
library versions each records, stated in lrlab/reference/README.md), and from the loader's
documented errors. That the files reach a wheel and an sdist is tests/test_packaging.py's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import lrlab.reference
from lrlab.reference import NAMES, load_reference, resource_path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_FOLDER = ROOT / "lrlab" / "reference"


def test_every_shipped_file_has_a_name_and_every_name_a_file():
    # lrlab/reference/ holds exactly the three files of README.md, and NAMES lists them
    assert sorted(path.stem for path in PACKAGE_FOLDER.glob("*.json")) == sorted(NAMES)
    assert sorted(NAMES) == ["tfa_cyclical", "torch_plateau", "torch_schedulers"]


@pytest.mark.parametrize(
    ("name", "version_keys", "versions"),
    [
        # versions from lrlab/reference/README.md: TFA 0.23.0 beside TF 2.15.1, torch 2.13.0
        ("tfa_cyclical", ("tensorflow", "tensorflow_addons"), ("2.15.1", "0.23.0")),
        ("torch_schedulers", ("torch",), ("2.13.0+cpu",)),
        ("torch_plateau", ("torch_version",), ("2.13.0+cpu",)),
    ],
)
def test_load_reference_returns_the_recorded_file(name, version_keys, versions):
    document = load_reference(name)
    assert tuple(document[key] for key in version_keys) == versions
    # the same dict as the file, by name with or without its suffix
    assert document == json.loads((PACKAGE_FOLDER / f"{name}.json").read_text())
    assert load_reference(f"{name}.json") == document


def test_resource_path_names_the_package_resource_not_a_checkout_path():
    assert resource_path("torch_schedulers") == "lrlab/reference/torch_schedulers.json"
    assert resource_path("tfa_cyclical.json") == "lrlab/reference/tfa_cyclical.json"


@pytest.mark.parametrize("bad", [Path("torch_plateau.json"), 3, None])
def test_a_name_that_is_not_a_str_is_a_type_error_naming_it(bad):
    with pytest.raises(TypeError, match=re.escape(repr(bad))) as caught:
        load_reference(bad)
    assert "tfa_cyclical, torch_schedulers, torch_plateau" in str(caught.value)


@pytest.mark.parametrize("bad", ["tfa", "torch_plateau.csv", "", "tests/reference/tfa_cyclical"])
def test_an_unknown_name_is_a_value_error_listing_the_names(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))) as caught:
        load_reference(bad)
    assert "choose one of tfa_cyclical, torch_schedulers, torch_plateau" in str(caught.value)
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        resource_path(bad)


def test_a_missing_file_says_the_install_is_incomplete(tmp_path, monkeypatch):
    # an install whose reference folder is empty (tmp_path stands in for it)
    monkeypatch.setattr(lrlab.reference.resources, "files", lambda package: tmp_path)
    with pytest.raises(FileNotFoundError, match="lrlab/reference/torch_plateau.json is missing"):
        load_reference("torch_plateau")


def test_a_file_that_is_not_json_is_a_value_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "tfa_cyclical.json").write_text('{"cases": [')  # cut off mid-write
    monkeypatch.setattr(lrlab.reference.resources, "files", lambda package: tmp_path)
    with pytest.raises(ValueError, match="lrlab/reference/tfa_cyclical.json .* is not valid JSON"):
        load_reference("tfa_cyclical")


@pytest.mark.parametrize(
    ("tool", "name"),
    [
        ("reference_tfa.py", "tfa_cyclical"),
        ("reference_torch.py", "torch_schedulers"),
        ("reference_torch_plateau.py", "torch_plateau"),
    ],
)
def test_each_tool_writes_its_file_into_the_package_folder(tool, name):
    # The tools need TensorFlow 2.15 + TFA or torch, so they are read here, not run: each
    # TARGET is the package file the loader reads, replaced whole through a temporary file.
    source = (ROOT / "tools" / tool).read_text()
    target = re.search(r"^TARGET = (.+)$", source, re.M).group(1)
    assert target == (
        f'Path(__file__).resolve().parents[1] / "lrlab" / "reference" / "{name}.json"'
    )
    assert "temporary.replace(TARGET)" in source
    assert f"lrlab/reference/{name}.json" in source  # its docstring says where it writes


def test_no_product_file_reads_reference_values_from_a_checkout():
    # lessons and lrlab read reference values through the loader, never from tests/ or tools/
    checkout_reads = re.compile(r'"tests" / "reference"|tests/reference|"tools" /|\.\./shared')
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in [*sorted((ROOT / "lrlab").rglob("*.py")), *(ROOT / "notebooks").glob("*.py")]
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if checkout_reads.search(line)
    ]
    assert offenders == []
