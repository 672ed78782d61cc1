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


def test_readme_stands_alone_without_links_outside_the_repository() -> None:
    """A clone has only the repository: no ../ paths (the project's shared folder is not in it)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    assert re.findall(r"(?<![\w.])\.\./[\w./-]+", readme) == []
    prose = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", readme, flags=re.S))  # examples in code are not links
    for target in re.findall(r"\]\(([^)#]+)\)", prose):  # local Markdown links point at files it has
        if not re.match(r"[a-z]+:", target):
            assert (REPO / target).exists(), target


def test_readme_curl_examples_are_answered_as_shown_by_the_server_it_describes() -> None:
    """The README's raw Japanese URL is what the server now reads as UTF-8 (see
    tests/test_serve_listening.py); it must not tell readers to percent-encode."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "$ curl -s 'http://127.0.0.1:8000/api/suggest?q=中国の鉄'" in readme
    assert "must be percent-encoded" not in readme


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
    """The package, pyproject.toml, ``casearch --version`` and the newest version of the
    README's changelog are the same."""
    import tomllib

    from click.testing import CliRunner

    import casearch

    declared = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert casearch.__version__ == declared
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    changelog = readme.split("## Changelog", 1)[1]
    versions = [tuple(map(int, v.split("."))) for v in re.findall(r"^- (\d+\.\d+\.\d+) —", changelog, re.M)]
    assert versions and max(versions) == tuple(map(int, declared.split(".")))
    assert CliRunner().invoke(main, ["--version"]).output == f"casearch, version {declared}\n"


# --- the Makefile's recipes, run by make with stand-in commands ------------------------------

def _fake(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o755)


def _make_in_a_copy(tmp_path: Path, target: str, bin_dir: Path) -> subprocess.CompletedProcess:
    """``make TARGET`` on a copy of the Makefile whose .venv is already installed, with
    ``bin_dir`` first on the PATH."""
    import os
    import shutil
    import time

    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True, exist_ok=True)
    _fake(venv_bin, "python", "exit 0")
    later = time.time() + 5
    (tmp_path / ".venv" / ".installed").touch()
    os.utime(tmp_path / ".venv" / ".installed", (later, later))  # newer than pyproject.toml: no install
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["make", "--no-print-directory", target], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.parametrize(("code", "make_fails"), [(0, False), (1, False), (2, True), (3, True)])
def test_make_reindex_fails_only_when_reindex_could_not_do_its_job(tmp_path: Path, code: int, make_fails: bool) -> None:
    """Exit 1 (some files skipped, the rest indexed) is a report; 2 and 3 are failures."""
    (tmp_path / "bin").mkdir()
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    _fake(tmp_path / ".venv" / "bin", "casearch", f"echo reindex ran; exit {code}")
    result = _make_in_a_copy(tmp_path, "reindex", tmp_path / "bin")
    assert "reindex ran" in result.stdout
    assert (result.returncode != 0) == make_fails, result.stderr
    assert ("Error" in result.stderr) == make_fails
    assert ("some files were skipped" in result.stderr) == (code == 1)


@pytest.mark.parametrize("apt_works", [True, False])
def test_make_browser_installs_a_japanese_font_or_warns(tmp_path: Path, apt_works: bool) -> None:
    """No Japanese font: apt-get installs fonts-noto-cjk; when apt-get fails, a warning and
    make carries on (the browser test then skips its rendering check)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("chromium", "chromedriver"):
        _fake(bin_dir, name, "exit 0")
    _fake(bin_dir, "fc-list", "exit 0")  # knows no font
    log = tmp_path / "apt.log"
    _fake(bin_dir, "apt-get", f'echo "$@" >> {log}; exit {0 if apt_works else 100}')
    result = _make_in_a_copy(tmp_path, "browser", bin_dir)
    assert result.returncode == 0, result.stderr
    assert ("install -y fonts-noto-cjk" if apt_works else "update") in log.read_text()
    assert ("could not install fonts-noto-cjk" in result.stdout) != apt_works


def test_make_browser_leaves_an_installed_japanese_font_alone(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("chromium", "chromedriver"):
        _fake(bin_dir, name, "exit 0")
    _fake(bin_dir, "fc-list", 'echo "Noto Sans CJK JP"')
    _fake(bin_dir, "apt-get", f"touch {tmp_path / 'apt-ran'}; exit 0")
    result = _make_in_a_copy(tmp_path, "browser", bin_dir)
    assert result.returncode == 0 and not (tmp_path / "apt-ran").exists()
