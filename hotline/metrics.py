"""Every metric the hotline exports, in one place (deploy/ rules and dashboards are checked
against this list by tests). Labels are bounded: agency, kind, lane, reason, event — never ids.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ACK_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0)

# gateway: intake
ALERTS_ACCEPTED = Counter(
    "hotline_alerts_accepted_total",
    "Alerts durably written to Kafka (202).",
    ["sender", "kind", "lane"],
)
ALERTS_REJECTED = Counter(
    "hotline_alerts_rejected_total",
    "Alerts refused at intake or by the stream.",
    ["sender", "reason"],
)
HTTP_RESPONSES = Counter(
    "hotline_http_responses_total", "HTTP responses by route and status class.", ["route", "status"]
)
KAFKA_PRODUCE_ERRORS = Counter(
    "hotline_kafka_produce_errors_total", "Kafka writes that failed.", ["component"]
)
PARTNER_LAST_SEEN = Gauge(
    "hotline_partner_last_post_timestamp_seconds",
    "Unix time of each partner's last accepted alert.",
    ["sender"],
)

# worker: stream
AUDIT_REPORTS_LOST = Counter(
    "hotline_audit_reports_lost_total",
    "Gateway audit reports (deliveries, lookups) that found the queue to Kafka full.",
)
DUPLICATES = Counter(
    "hotline_duplicates_dropped_total", "Retried alerts dropped as duplicates.", ["kind"]
)
CORROBORATIONS = Counter(
    "hotline_corroborations_total", "Reports that joined another agency's case.", ["kind"]
)
DELIVERIES = Counter(
    "hotline_deliveries_total",
    "Events routed to an agency's delivery topic.",
    ["recipient", "kind", "event"],
)
DEAD_LETTERS = Counter(
    "hotline_dead_letters_total",
    "Records the stream could not process, kept for inspection.",
    ["topic"],
)
ESCALATIONS = Counter(
    "hotline_escalations_total",
    "Immediate alerts escalated for want of acknowledgement.",
    ["recipient"],
)
URGENT_UNACKED = Gauge(
    "hotline_urgent_unacknowledged",
    "Immediate alerts delivered and not yet acknowledged.",
    ["recipient"],
)
CHANGELOG_REPLAYED = Counter(
    "hotline_worker_changelog_replayed_total",
    "Changelog records applied to a table (recovery on start, and standby copies).",
    ["table"],
)
WORKER_ACTIVE = Gauge(
    "hotline_worker_active",
    "1 on a worker that owns urgent-lane partitions; 0 on a standby only, and a bulk-only worker.",
)
OUTCOMES = Counter(
    "hotline_outcomes_total",
    "Outcome reports recorded, by the recipient that reported them and the alert's sender.",
    ["recipient", "sender", "kind"],
)
ACK_LATENCY = Histogram(
    "hotline_ack_latency_seconds",
    "Delivery to acknowledgement.",
    ["recipient"],
    buckets=ACK_BUCKETS,
)

# gateway: consoles
E2E_LATENCY = Histogram(
    "hotline_delivery_latency_seconds",
    "Alert accepted to pushed on a console socket.",
    ["lane"],
    buckets=LATENCY_BUCKETS,
)
CONSOLE_CONNECTIONS = Gauge(
    "hotline_console_connections", "Open, signed-in console sockets.", ["agency"]
)
CONSOLE_PUSHED = Counter(
    "hotline_console_events_total", "Events pushed to console sockets.", ["agency", "event"]
)
CONSOLE_DUPLICATES = Counter(
    "hotline_console_duplicates_suppressed_total",
    "Delivery records seen again (worker retry) and not shown twice.",
    ["agency"],
)
CONSOLE_SLOW_CLOSED = Counter(
    "hotline_console_slow_closed_total",
    "Sockets closed because the client fell behind.",
    ["agency"],
)
CONSUMER_LAG = Gauge(
    "hotline_consumer_lag", "Records behind the end of the topic.", ["component", "topic"]
)
