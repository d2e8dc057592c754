"""`hotline audit verify` on exports, NDJSON and CSV, whole and tampered (no gateway)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import audit
from cli import main as cli
from cli.exits import ExitCode
from tests.hotline.test_audit import chain


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_an_export_reads_back_as_written_and_verifies(tmp_path: Path, fmt: audit.Format) -> None:
    entries = chain(6)
    out = tmp_path / f"record.{fmt}"
    out.write_text(audit.render(entries, fmt))
    assert audit.read(out) == entries
    assert audit.verify(out) == (6, None)
    result = CliRunner().invoke(cli.cli, ["audit", "verify", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 entries, the chain holds" in result.output


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_a_tampered_export_fails_naming_the_entry(tmp_path: Path, fmt: audit.Format) -> None:
    out = tmp_path / f"record.{fmt}"
    out.write_text(audit.render(chain(6), fmt).replace("cn-beijing", "ru-moscow", 1))
    result = CliRunner().invoke(cli.cli, ["audit", "verify", str(out)])
    assert result.exit_code == ExitCode.DATA_ERROR
    assert "breaks at entry 1" in result.output


def test_an_export_with_an_entry_removed_fails(tmp_path: Path) -> None:
    lines = audit.render(chain(5), "ndjson").splitlines()
    out = tmp_path / "record.ndjson"
    out.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    n, found = audit.verify(out)
    assert (n, found is not None and found.index) == (4, 2)


def test_an_export_from_mid_chain_verifies(tmp_path: Path) -> None:
    out = tmp_path / "record.ndjson"
    out.write_text(audit.render(chain(5)[2:], "ndjson"))
    assert audit.verify(out) == (3, None)


def test_a_file_that_is_no_export_is_refused_as_such(tmp_path: Path) -> None:
    out = tmp_path / "record.ndjson"
    out.write_text('{"not": "an entry"}\n')
    result = CliRunner().invoke(cli.cli, ["audit", "verify", str(out)])
    assert result.exit_code == ExitCode.DATA_ERROR
    assert "is not an audit export" in result.output
