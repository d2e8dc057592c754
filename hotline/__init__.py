"""Live alert hotline between partner law-enforcement agencies."""

from __future__ import annotations

# The one place the version is written: pyproject.toml reads it (`dynamic`), and so do the
# gateway's OpenAPI document and `hotline --version`.
__version__ = "0.1.0"
