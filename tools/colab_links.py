"""Point every Colab link and Colab cell of the series at a repository (for a fork).

``REPOSITORY`` below is the one place that names the repository (``owner/name`` on GitHub);
``tests/test_notebooks.py`` imports it and checks that every link agrees with it.
``make colab-links REPOSITORY=owner/name`` (this script) replaces the current repository,
wherever a link or the Colab cell names it, by ``owner/name``:

- the "Open in Colab" badges, ``https://colab.research.google.com/github/<owner/name>/...``,
  of the lessons (``notebooks/NN_*.py`` and their ``.ipynb``), of the learner copies
  (``exercises/``) and of the README;
- the Colab cell's ``LRLAB_REPOSITORY = "<owner/name>"`` in every lesson, every learner copy
  and the test's ``COLAB_CELL``;
- ``https://github.com/<owner/name>`` links (``pip install "lrlab @ git+https://..."``) in
  the README and CONTRIBUTING;
- ``REPOSITORY`` in this file.

Nothing else changes: a lesson's ``.py`` and ``.ipynb`` are edited as text, in the same
places, so the pair stays in sync and stored outputs are kept (no re-execution). Every new
text is computed before the first file is written; each file is replaced whole (a temporary
file renamed over it), and this file last, so a run that stops midway can be run again.

    python tools/colab_links.py owner/name [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

REPOSITORY = "lrlab-course/lrlab"

ROOT = Path(__file__).resolve().parents[1]
# GitHub: an owner of letters, digits and single hyphens; a name of letters, digits, . _ -
VALID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}")
THIS_FILE = Path("tools") / "colab_links.py"


def check_repository(repository: object) -> str:
    """``repository`` if it is a GitHub ``owner/name``; else a TypeError or ValueError."""
    if not isinstance(repository, str):
        kind = type(repository).__name__
        raise TypeError(f"the repository must be a str 'owner/name', got {kind}")
    if not VALID.fullmatch(repository) or repository.endswith(".git") or "/." in repository:
        raise ValueError(
            f"{repository!r} is not a GitHub repository 'owner/name' (e.g. my-name/lrlab, "
            "without https://github.com/ or .git)"
        )
    return repository


def files(root: Path) -> list[Path]:
    """The files that name the repository, relative to ``root`` (this file last)."""
    names = [Path("README.md"), Path("CONTRIBUTING.md"), Path("tests") / "test_notebooks.py"]
    for folder in ("notebooks", "exercises"):
        names += sorted(
            p.relative_to(root)
            for pattern in ("[0-9][0-9]_*.py", "[0-9][0-9]_*.ipynb")
            for p in (root / folder).glob(pattern)
        )
    return [name for name in names if (root / name).is_file()] + [THIS_FILE]


def patterns(old: str) -> list[re.Pattern]:
    """Where ``old`` is the repository: group 1 before it, group 2 after it."""
    name = re.escape(old)
    end = r"(?![A-Za-z0-9_-])"
    return [
        re.compile(rf"(colab\.research\.google\.com/github/){name}(/)"),
        re.compile(rf"(github\.com/){name}{end}()"),
        # the Colab cell, in a .py and inside an .ipynb's JSON string (escaped quotes)
        re.compile(rf'(LRLAB_REPOSITORY = \\?"){name}(\\?")'),
        re.compile(rf'(^REPOSITORY = "){name}(")', re.MULTILINE),
    ]


def rewrite(text: str, old: str, new: str) -> tuple[str, int]:
    """``text`` with every link to ``old`` pointing at ``new``, and how many were replaced."""
    total = 0
    for pattern in patterns(old):
        text, count = pattern.subn(lambda m: f"{m.group(1)}{new}{m.group(2)}", text)
        total += count
    return text, total


def current_repository(root: Path) -> str:
    """The repository named by ``REPOSITORY`` in ``root``'s copy of this file."""
    match = re.search(r'^REPOSITORY = "([^"]+)"', (root / THIS_FILE).read_text(), re.MULTILINE)
    if match is None:
        raise ValueError(f"{root / THIS_FILE} has no line REPOSITORY = \"owner/name\"")
    return match.group(1)


def relink(new: str, root: Path = ROOT) -> dict[Path, int]:
    """Point every link under ``root`` at ``new``; return ``{file: links replaced}``."""
    new = check_repository(new)
    old = current_repository(root)
    if old == new:
        return {}
    planned = {}
    for name in files(root):
        text = (root / name).read_text(encoding="utf-8")
        rewritten, count = rewrite(text, old, new)
        if count:
            planned[name] = (rewritten, count)
    for name, (text, _) in planned.items():  # THIS_FILE is last: a rerun finds the old name
        path = root / name
        tmp = path.with_name(path.name + ".colab-links.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return {name: count for name, (_, count) in planned.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repository", help="the GitHub repository, owner/name")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    args = parser.parse_args(argv)
    try:
        old = current_repository(args.root)
        changed = relink(args.repository, args.root)
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    if not changed:
        print(f"the links already name {args.repository}: nothing to change")
        return 0
    for name, count in changed.items():
        print(f"{name}: {count} link(s)")
    print(f"{old} -> {args.repository}: {sum(changed.values())} links in {len(changed)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
