"""The wheel ships every package and the resources (pyproject lists packages explicitly)."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


def test_every_python_package_under_desktop_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "desktop").rglob("__init__.py")
    }
    missing = found - listed
    assert not missing, f"add these to [tool.setuptools] packages: {sorted(missing)}"
    assert "desktop.resources" in listed
    assert config["tool"]["setuptools"]["package-dir"]["desktop.resources"] == "resources"


def test_resources_the_app_reads_exist():
    from desktop.paths import resource_path

    assert resource_path("capabilities.json").is_file()
    assert resource_path("icons/letta-desktop.svg").is_file()
