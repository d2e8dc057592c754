"""Topic names and their explicit configuration; the application creates them, not the broker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import murmur2
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay

from hotline.errors import ConfigError
from hotline.fields import Lane
from hotline.retry import backoff
from hotline.settings import Settings

RECORD_OVERHEAD = 16 * 1024


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int = 1
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str

    @property
    def inbound(self) -> str:
        return f"{self.prefix}.inbound"

    @property
    def inbound_bulk(self) -> str:
        return f"{self.prefix}.inbound.bulk"

    @property
    def acks(self) -> str:
        return f"{self.prefix}.acks"

    @property
    def acks_bulk(self) -> str:
        return f"{self.prefix}.acks.bulk"

    @property
    def match_bulk(self) -> str:
        """Bulk alerts the bulk lane admitted, in batches, for the case index to match."""
        return f"{self.prefix}.match.bulk"

    @property
    def matched_bulk(self) -> str:
        """The case index's answers to match.bulk, back to the bulk lane."""
        return f"{self.prefix}.matched.bulk"

    @property
    def match_urgent(self) -> str:
        """Urgent alerts an urgent worker admitted whose index partition another one holds."""
        return f"{self.prefix}.match.urgent"

    @property
    def matched_urgent(self) -> str:
        """The answers to match.urgent, back to the partition that holds the alert."""
        return f"{self.prefix}.matched.urgent"

    @property
    def links(self) -> str:
        """Link messages between the case index's partitions (streams/cases.py)."""
        return f"{self.prefix}.links"

    @property
    def dead_letter(self) -> str:
        return f"{self.prefix}.dead-letter"

    @property
    def alert_state(self) -> str:
        return f"{self.prefix}.alert-state"

    @property
    def alert_state_bulk(self) -> str:
        return f"{self.prefix}.alert-state.bulk"

    def states(self) -> dict[Lane, str]:
        """Every alert's state is on one of these, written by the lane that holds it."""
        return {"urgent": self.alert_state, "bulk": self.alert_state_bulk}

    def inbound_of(self, lane: Lane) -> str:
        return self.inbound if lane == "urgent" else self.inbound_bulk

    def acks_of(self, lane: Lane) -> str:
        return self.acks if lane == "urgent" else self.acks_bulk

    def deliveries(self, agency: str) -> str:
        return f"{self.prefix}.deliveries.{agency}"

    @property
    def audit_events(self) -> str:
        """Exchanges as the processes that saw them report them, keyed by the agency whose
        record each goes on (hotline/audit.py)."""
        return f"{self.prefix}.audit.events"

    @property
    def audit_log(self) -> str:
        """Each agency's hash-chained audit entries, kept for good (streams/audit_trail.py)."""
        return f"{self.prefix}.audit.log"


def topics(settings: Settings) -> Topics:
    return Topics(settings.topic_prefix)


def key_hash(key: bytes) -> int:
    """Kafka's default partitioner (Java's and aiokafka's) before the modulo: every producer
    to a partitioned topic must agree where a key goes, so a group's records meet there."""
    hashed: int = murmur2(key)
    return hashed & 0x7FFFFFFF


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives `key`."""
    return key_hash(key) % partitions


def partition_count(settings: Settings, name: str) -> int:
    """How many partitions the topic `name` has (as created from `specs`)."""
    return next((s.partitions for s in specs(settings) if s.name == name), 1)


def specs(settings: Settings) -> list[TopicSpec]:
    t = topics(settings)
    durable = {
        "min.insync.replicas": str(settings.min_insync_replicas),
        # Room for one record of the agreed size in a batch of its own (headers included).
        "max.message.bytes": str(settings.max_record_bytes + RECORD_OVERHEAD),
    }
    # Each lane has its own topics and its own processes, so urgent alerts never queue behind
    # an import. Every lane topic has `partitions` partitions, keyed by an alert's group (the
    # alert, its follow-ups and acknowledgements land together), so any number of workers per
    # lane share them; the match topics are keyed by the index partition an alert is matched
    # on, its station (see docs/architecture.md).
    p = settings.partitions
    week = {**durable, "retention.ms": str(7 * 24 * 3600 * 1000)}
    bulk = {**durable, "retention.ms": str(3 * 24 * 3600 * 1000)}
    compact = {**durable, "cleanup.policy": "compact"}
    out = [
        TopicSpec(t.inbound, p, week),
        TopicSpec(t.inbound_bulk, p, bulk),
        TopicSpec(t.acks, p, durable),
        TopicSpec(t.acks_bulk, p, durable),
        TopicSpec(t.match_urgent, p, week),
        TopicSpec(t.matched_urgent, p, week),
        TopicSpec(t.links, p, week),
        TopicSpec(t.match_bulk, p, bulk),
        TopicSpec(t.matched_bulk, p, bulk),
        TopicSpec(t.alert_state, p, compact),
        TopicSpec(t.alert_state_bulk, p, compact),
        TopicSpec(t.dead_letter, 1, {**durable, "retention.ms": str(30 * 24 * 3600 * 1000)}),
        # Keyed by agency, so each agency's exchanges are chained by the one worker that
        # holds its partition; the log outlives every delivery topic (retention -1: for good).
        TopicSpec(t.audit_events, p, week),
        TopicSpec(t.audit_log, p, {**durable, "retention.ms": "-1"}),
    ]
    # One single-partition topic per agency: its offset is the console cursor, and a broker
    # ACL per topic can enforce need-to-know below the application.
    retention = {**durable, "retention.ms": str(settings.delivery_retention_ms)}
    out += [TopicSpec(t.deliveries(a), 1, retention) for a in settings.agency_ids]
    return out


def changelog_specs(settings: Settings, changelogs: Sequence[tuple[str, int]]) -> list[TopicSpec]:
    """A worker's table changelogs (name, partitions), compacted like its alert-state topics."""
    compact = {
        "min.insync.replicas": str(settings.min_insync_replicas),
        "max.message.bytes": str(settings.max_record_bytes + RECORD_OVERHEAD),
        "cleanup.policy": "compact",
    }
    return [TopicSpec(name, partitions, compact) for name, partitions in changelogs]


async def ensure_topics(settings: Settings, changelogs: Sequence[tuple[str, int]] = ()) -> None:
    """Creates the topics that are missing; refuses topics whose partitions differ from
    the settings (a key's partition decides which worker holds its state: it must not move).

    `changelogs`: a worker's table changelogs, created here rather than by Faust as it starts:
    Faust creates them while it joins its group, and a partition assignment made before one
    exists leaves that table without partitions (and a step writing to it waiting for ever)."""
    ours = specs(settings)
    named = {s.name for s in ours}  # the alerts tables' changelogs are alert-state topics
    wanted = [*ours, *(s for s in changelog_specs(settings, changelogs) if s.name not in named)]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [s for s in wanted if s.name in existing]
        if present:
            described = await admin.describe_topics([s.name for s in present])
            counts = {d["topic"]: len(d["partitions"]) for d in described}
            if wrong := partition_mismatches(present, counts):
                raise ConfigError(
                    "topics exist with other partition counts than the settings ask: "
                    + "; ".join(wrong)
                    + ". Set HOTLINE_PARTITIONS to what they have, or start on new topics"
                    " (another HOTLINE_TOPIC_PREFIX)."
                )
        missing = [
            NewTopic(s.name, s.partitions, settings.replication_factor, topic_configs=s.config)
            for s in wanted
            if s.name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process created them between list and create
    finally:
        await admin.close()


def partition_mismatches(present: list[TopicSpec], counts: dict[str, int]) -> list[str]:
    return [
        f"{s.name} has {counts[s.name]}, expected {s.partitions}"
        for s in present
        if counts.get(s.name, s.partitions) != s.partitions
    ]


async def ensure_topics_with_retry(
    settings: Settings,
    give_up_after: float = 120.0,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    changelogs: Sequence[tuple[str, int]] = (),
) -> None:
    """For processes started before the broker is up (a fresh deployment)."""
    await AsyncRetrying(
        retry=retry_if_exception_type(KafkaError),
        wait=backoff(0.5, 5.0),
        stop=stop_after_delay(give_up_after),
        sleep=sleep,
        reraise=True,
    )(ensure_topics, settings, changelogs)


async def check_topics_if_reachable(settings: Settings, within: float = 5.0) -> None:
    """`ensure_topics` once, for a process that may start before the broker: raises
    ConfigError if the topics are wrong, does nothing if Kafka does not answer in time (the
    process waits for it, serving its 503s, and checks again when it connects)."""
    try:
        async with asyncio.timeout(within):
            await ensure_topics(settings)
    except (KafkaError, OSError, TimeoutError):
        return
