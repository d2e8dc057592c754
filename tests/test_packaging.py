"""Packaging: one version, every import declared, the lock is what gets installed."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from typer.testing import CliRunner

import hotline
from cli import main as cli
from gateway.main import create_app

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def test_version_is_written_once() -> None:
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "hotline.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", hotline.__version__)
    assert metadata.version("hotline") == hotline.__version__


def test_hotline_version_prints_the_version() -> None:
    for args in (["--version"], ["--version", "import"]):  # eager: before any command
        result = CliRunner().invoke(cli.cli, args)
        assert result.exit_code == 0, result.output
        assert result.stdout == f"hotline {hotline.__version__}\n"


def test_the_api_document_carries_the_same_version() -> None:
    assert create_app().version == hotline.__version__


def test_python_311_to_313_are_supported() -> None:
    supported = SpecifierSet(PROJECT["requires-python"])
    assert all(supported.contains(v) for v in ("3.11.0", "3.12.0", "3.13.0"))
    assert not supported.contains("3.10.0")


def _declared() -> set[str]:
    reqs = PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]
    return {_canonical(Requirement(r).name) for r in reqs}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level_imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


# Imported inside a `contextlib.suppress(ImportError)`: used when present, never required.
OPTIONAL = {"uvloop"}


def test_every_direct_import_is_declared() -> None:
    ours = {"hotline", "streams", "gateway", "cli", "bench", "tests"}
    modules = set()
    for folder in ours:
        modules |= _top_level_imports(ROOT / folder)
    third_party = modules - ours - set(sys.stdlib_module_names) - OPTIONAL - {"__future__"}
    dists = metadata.packages_distributions()
    undeclared = {
        m: dists.get(m)
        for m in third_party
        if not {_canonical(d) for d in dists.get(m, [m])} & _declared()
    }
    assert not undeclared, f"imported but not in pyproject.toml: {undeclared}"


PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.M)
HASHED_PIN = re.compile(r"^[A-Za-z0-9_.-]+==[^\n]*\\\n\s+--hash=sha256:[0-9a-f]{64}", re.M)


def _locked(lock: str) -> dict[str, str]:
    return {_canonical(m[1]): m[2] for m in PIN.finditer((ROOT / lock).read_text("utf-8"))}


def test_the_locks_pin_every_declared_dependency_with_hashes() -> None:
    for lock in ("requirements-dev.lock", "requirements.lock"):
        text = (ROOT / lock).read_text(encoding="utf-8")
        assert len(HASHED_PIN.findall(text)) == len(PIN.findall(text)) > 0, lock
    dev, runtime = _locked("requirements-dev.lock"), _locked("requirements.lock")
    for req in map(Requirement, PROJECT["dependencies"]):
        name = _canonical(req.name)
        assert name in runtime and req.specifier.contains(runtime[name]), req
        assert dev[name] == runtime[name], name  # one resolution, not two
    for req in map(Requirement, PROJECT["optional-dependencies"]["dev"]):
        assert req.specifier.contains(dev[_canonical(req.name)]), req


def test_setup_and_image_install_from_the_locks() -> None:
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-dev.lock" in setup
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "pip install . --no-deps" in dockerfile
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"!requirements.lock", "!LICENSE"} <= set(ignore)


def test_the_licence_is_the_apache_2_text() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
