"""`hotline numbers sync`'s local state: a number stays blocked while any alert reports it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.exits import CommandError
from cli.numbers_sync import Blocklist, state_path


def change(number: str, alert_id: str, active: bool) -> dict[str, object]:
    return {"number": number, "alert_id": alert_id, "active": active}


def test_a_number_is_blocked_while_any_alert_reports_it() -> None:
    b = Blocklist()
    b.apply(change("+84912345678", "al-1", True))
    b.apply(change("+84912345678", "al-2", True))
    b.apply(change("+8613800138000", "al-3", True))
    b.apply(change("+84912345678", "al-1", False))  # cancelled
    assert b.numbers == {"+84912345678": {"al-2"}, "+8613800138000": {"al-3"}}
    b.apply(change("+84912345678", "al-2", False))
    b.apply(change("+84912345678", "al-2", False))  # the same change again changes nothing
    assert set(b.numbers) == {"+8613800138000"}


def test_the_file_and_its_state_are_written_together_and_read_back(tmp_path: Path) -> None:
    out = tmp_path / "blocklist.txt"
    b = Blocklist("c1.abc")
    b.apply(change("+84912345678", "al-1", True))
    b.apply(change("+74951234567", "al-2", True))
    b.save(out, state_path(out))
    assert out.read_text() == "+74951234567\n+84912345678\n"
    again = Blocklist.load(state_path(out))
    assert again.cursor == "c1.abc" and again.numbers == b.numbers
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_state_file_it_did_not_write_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.sync.json"
    bad.write_text("[1, 2]")
    with pytest.raises(CommandError):
        Blocklist.load(bad)
