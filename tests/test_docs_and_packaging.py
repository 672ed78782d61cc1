"""The README documents every command, and the built wheel carries the templates."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from casearch.cli import main

from conftest import REPO


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join((REPO / "README.md").read_text(encoding="utf-8").splitlines()[:25])
    assert "make serve" in first_screen and "make test" in first_screen


def test_readme_says_where_the_casearch_command_is() -> None:
    # make installs it in .venv/bin, which is on nobody's PATH: the examples need the hint.
    first_screen = "\n".join((REPO / "README.md").read_text(encoding="utf-8").splitlines()[:25])
    assert ".venv/bin" in first_screen


def test_readme_curl_examples_send_ascii_urls() -> None:
    # waitress answers a raw UTF-8 request target with a plain-text 400 "Bad URI".
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    urls = [url for line in readme.splitlines() if line.strip().startswith("$ curl")
            for url in re.findall(r"https?://[^\s']+", line)]
    assert urls
    assert [url for url in urls if not url.isascii()] == []


def test_every_cli_command_has_help_and_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, command in main.commands.items():
        assert command.help and "Example:" in command.help, name
        assert f"casearch {name}" in readme, name


def test_make_install_prepares_the_dictionary() -> None:
    """``make serve`` and ``make test`` pay for the one-time dictionary build during the
    install, not inside the first reindex."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(VENV)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index("pip install") < recipe.index("casearch prepare") < recipe.index("touch $@")


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_wheel_ships_the_templates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=600,
    )
    wheel = next(tmp_path.glob("casearch-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for template in ["base.html", "search.html", "doc.html", "_hit.html", "error.html", "style.css"]:
        assert f"casearch/templates/{template}" in names


def test_one_version_everywhere(repo_root: Path) -> None:
    """The package, pyproject.toml and the README's changelog name the same version."""
    import tomllib

    import casearch

    declared = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert casearch.__version__ == declared
    assert f"- {declared} —" in (repo_root / "README.md").read_text(encoding="utf-8")
