"""What `hotline import` reads from a list file: every number, none taken for a header."""

from __future__ import annotations

from pathlib import Path

from cli.importer import read_alerts


def numbers(path: Path) -> list[str]:
    return [a["subject"]["number"] for a in read_alerts(path)]


def test_a_csv_without_a_header_imports_its_first_line_too(tmp_path: Path) -> None:
    data = tmp_path / "list.csv"
    data.write_text("+84 912 345 678\n0912 345 679,investment\n")
    assert numbers(data) == ["+84 912 345 678", "0912 345 679"]
    one = tmp_path / "one.csv"
    one.write_text("+84912345670\n")  # a single number: it used to be read as the header
    assert numbers(one) == ["+84912345670"]


def test_a_csv_header_names_the_number_column_and_the_fields(tmp_path: Path) -> None:
    data = tmp_path / "list.csv"
    data.write_text("scam_type,number\ninvestment,+84912345678\n\nromance,+84912345679\n")
    alerts = list(read_alerts(data))
    assert [a["subject"]["number"] for a in alerts] == ["+84912345678", "+84912345679"]
    assert [a["subject"]["scam_type"] for a in alerts] == ["investment", "romance"]
    # Source refs count data rows from line 2, blank lines skipped: a re-import is a retry.
    assert [a["source_ref"].rsplit("-", 1)[1] for a in alerts] == ["2", "3"]


def test_a_header_without_a_number_column_reads_the_first_column(tmp_path: Path) -> None:
    data = tmp_path / "list.csv"
    data.write_text("phone,note\n+84912345678,seen twice\n")
    assert numbers(data) == ["+84912345678"]


def test_an_empty_csv_has_no_alerts(tmp_path: Path) -> None:
    data = tmp_path / "empty.csv"
    data.write_text("")
    assert numbers(data) == []
