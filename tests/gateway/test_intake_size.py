"""Finding 5: intake refuses what the stream could not deliver once enriched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway import intake
from hotline.errors import PayloadTooLarge
from hotline.settings import Settings
from tests.streams.test_guard import fraud

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_a_fraud_pattern_that_would_outgrow_a_record_is_refused_at_intake() -> None:
    body = fraud("F-515K", 2_000, width=250)  # about 515 KB as posted; enrichment doubles it
    with pytest.raises(PayloadTooLarge) as caught:
        intake.accept(body, "vn-hanoi", Settings(), NOW, "urgent")
    assert caught.value.status_code == 413
    assert "split it" in caught.value.detail


def test_an_ordinary_fraud_pattern_is_accepted() -> None:
    record = intake.accept(fraud("F-1K", 20), "vn-hanoi", Settings(), NOW, "urgent")
    assert record.enrichment is None  # the stream enriches; intake only measured it
