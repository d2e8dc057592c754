"""Which topics the hotline creates, with how many partitions, and what it refuses."""

from __future__ import annotations

from hotline.settings import Settings
from hotline.topics import partition_mismatches, specs, topics


def test_both_lanes_have_the_configured_partitions_and_the_rest_one() -> None:
    settings = Settings(partitions=4)
    t = topics(settings)
    counts = {s.name: s.partitions for s in specs(settings)}
    bulk = {t.inbound_bulk, t.acks_bulk, t.matched_bulk, t.alert_state_bulk}
    urgent = {t.inbound, t.acks, t.alert_state, t.match_urgent, t.matched_urgent, t.links}
    audit = {t.audit_events, t.audit_log}  # keyed by agency: one chainer per agency's chain
    lanes = bulk | urgent | audit | {t.match_bulk}
    assert {counts[name] for name in lanes} == {4}
    # A delivery topic's offset is a console cursor; dead letters are read by people.
    assert {n for n, c in counts.items() if c == 1} == set(counts) - lanes


def test_topics_with_another_partition_count_are_named() -> None:
    settings = Settings(partitions=8)
    present = specs(settings)
    counts = {s.name: s.partitions for s in present}
    counts[topics(settings).inbound_bulk] = 1  # made before the bulk lane was partitioned
    [wrong] = partition_mismatches(present, counts)
    assert wrong == "hotline.inbound.bulk has 1, expected 8"
    assert partition_mismatches(present, {s.name: s.partitions for s in present}) == []


def test_the_audit_log_is_kept_for_good_and_the_deliveries_are_not() -> None:
    settings = Settings()
    t = topics(settings)
    retention = {s.name: s.config.get("retention.ms") for s in specs(settings)}
    assert retention[t.audit_log] == "-1"
    assert all(retention[t.deliveries(a)] not in (None, "-1") for a in settings.agency_ids)
