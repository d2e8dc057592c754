"""Process configuration: read once per process from `HOTLINE_*` environment variables
and, below them, from a `.env` file in the working directory.

Secrets are stored as SHA-256 digests (`sha256:<hex>`), never in plain text. Dev mode, the
default of the local run, falls back to the clearly marked demo credentials
(`demo-partner-<agency>` / `demo-officer-<agency>` / `demo-operator`); production mode refuses
them, and dev mode refuses to listen beyond the loopback unless told to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.credentials import (
    DEMO_ID_SECRET,
    DEMO_OFFICER_PREFIX,
    DEMO_OPERATOR_TOKEN,
    DEMO_PARTNER_PREFIX,
    DIGEST,
    digest,
)
from hotline.fields import Kind


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (`localhost`, 127.0.0.0/8, ::1)."""
    host = host.strip().removeprefix("[").removesuffix("]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve to anything


class Agency(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    country: str  # ISO 3166-1 alpha-2: default region for phone numbers it sends
    languages: tuple[str, ...] = ()


DEMO_AGENCIES: tuple[Agency, ...] = (
    Agency(id="vn-hanoi", name="Công an thành phố Hà Nội", country="VN", languages=("vi",)),
    Agency(id="cn-beijing", name="北京市公安局", country="CN", languages=("zh",)),
    Agency(id="ru-moscow", name="ГУ МВД России по г. Москве", country="RU", languages=("ru",)),
)


class Settings(BaseSettings):
    # `.env` is the file Compose reads beside docker-compose.yml, so one file configures a
    # local `hotline up` and the containers alike; a variable in the environment wins over
    # it. `extra="ignore"` lets it hold Compose-only names (GRAFANA_*, ..._TOKEN_FILE).
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_",
        env_file=".env",
        frozen=True,
        extra="ignore",
        env_nested_delimiter="__",
    )

    mode: Literal["dev", "production"] = "dev"
    # Dev mode accepts the published demo credentials: on a reachable interface that is an
    # open door, so only a deliberate demo set-up may combine the two.
    allow_dev_on_network: bool = False
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "hotline"
    replication_factor: int = Field(default=1, ge=1)
    min_insync_replicas: int = Field(default=1, ge=1)
    # The bulk lane's inputs and tables: any number of bulk workers share these partitions.
    # Fixed once the topics exist (a key's partition must not move under its state).
    partitions: int = Field(default=8, ge=1, le=256)
    # Per-agency delivery topics are single-partition: the offset is the console cursor.
    delivery_retention_ms: int = 14 * 24 * 3600 * 1000

    agencies: tuple[Agency, ...] = DEMO_AGENCIES
    # sender -> recipient -> kinds it may send there; empty means "every agency, every kind".
    partnerships: dict[str, dict[str, list[Kind]]] = Field(default_factory=dict)
    # agency -> SHA-256 digests of its partner API keys / duty-officer tokens.
    partner_keys: dict[str, list[str]] = Field(default_factory=dict)
    officer_tokens: dict[str, list[str]] = Field(default_factory=dict)
    # SHA-256 digests of the tokens operators' scrapers send to the gateway's /metrics: it
    # shows every agency's activity, which no single agency may see.
    operator_tokens: list[str] = Field(default_factory=list)

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # Off by default; when set, the gateway also serves /metrics without a token on this port
    # (same host), for deployments that isolate operators by network instead.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_host: str = "127.0.0.1"
    worker_port: int = 6066
    worker_id: str = "hotline-worker"
    # Where a gateway asks the registry (urgent-lane workers' web addresses, comma-separated;
    # any one will do: a worker not holding the key passes the question to the one that does).
    # Empty: this host's urgent worker, http://<worker_host>:<worker_port>.
    registry_urls: str = ""
    # A bulk-lane worker (`hotline worker --lane bulk`) and the gateway's intake processes
    # lower their CPU priority by this much, so an import that saturates every core still
    # leaves the urgent lane and the gateway's loop their share.
    bulk_lane_nice: int = Field(default=10, ge=0, le=19)
    # Tables on local disk (RocksDB), with their changelog topics as the source of truth: a
    # restarted worker resumes from its store and replays only the changelog's tail; a new one
    # (or "memory://") rebuilds from the changelogs.
    worker_store: str = "rocksdb://"
    data_dir: Path = Path(".hotline")
    kafka_port: int = 9092
    log_level: str = "INFO"

    case_ttl_days: float = Field(default=30.0, gt=0)
    escalation_seconds: float = Field(default=120.0, gt=0)
    console_window: int = Field(default=500, ge=0, description="recent events on a fresh sign-in")
    console_ring: int = Field(default=20_000, ge=100, description="events kept per agency")
    # Alert states a gateway keeps in memory (the most recently used); all of them are on its
    # disk under data_dir, so this bounds memory, not what GET can answer.
    gateway_state_cache: int = Field(default=10_000, ge=100)
    max_body_bytes: int = 1024 * 1024
    max_batch: int = 10_000
    # A partner must hear "retry" within a second when Kafka cannot take the write.
    produce_timeout_s: float = 1.0
    batch_produce_timeout_s: float = 30.0
    partner_rate_per_s: float = Field(default=100.0, gt=0)
    partner_burst: int = Field(default=200, ge=1)
    # Bulk items a partner may post per second: intake paced to what the stream digests, so
    # an import never starves the gateway's urgent path or its consoles of CPU.
    partner_bulk_items_per_s: float = Field(default=2_000.0, gt=0)
    partner_bulk_burst: int = Field(default=10_000, ge=1)
    # Worker processes that validate and enrich batch posts, off the event loop that answers
    # urgent posts and feeds consoles. One by default: on two cores the loop keeps the other.
    intake_processes: int = Field(default=1, ge=1)
    console_rate_per_s: float = Field(default=20.0, gt=0)
    console_burst: int = Field(default=40, ge=1)

    # Keys derived ids so that none can be computed from a guessed source_ref.
    id_secret: SecretStr = SecretStr(DEMO_ID_SECRET)
    # The largest Kafka record any producer writes and any topic takes; intake refuses an
    # alert whose enriched form would not leave room for its case within it.
    max_record_bytes: int = Field(default=1_000_000, ge=64 * 1024)
    # A follow-up whose alert has not reached the stream yet waits this long for it (the
    # alert may be queued behind an import in the bulk lane) before it is rejected.
    follow_up_wait_seconds: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _enforce_non_demo_secrets(self) -> Settings:
        for var, agency, d in self._configured():
            if not DIGEST.fullmatch(d):
                # Not the value itself: a plain key pasted here by mistake must not be logged.
                raise ValueError(
                    f"{var} has a malformed digest for {agency}: expected 'sha256:' and 64 "
                    "lowercase hex digits, as `hotline hash-secret` prints"
                )
        demo = self._demo_digests()
        if self.mode == "production":
            if not self.partner_keys or not self.officer_tokens:
                raise ValueError(
                    "production mode needs HOTLINE_PARTNER_KEYS and HOTLINE_OFFICER_TOKENS"
                )
            if any(d in demo for _, _, d in self._configured()):
                raise ValueError("production mode refuses the demo credentials")
            if self.id_secret.get_secret_value() == DEMO_ID_SECRET:
                raise ValueError(
                    "production mode needs its own HOTLINE_ID_SECRET (the demo one is published)"
                )
        self._refuse_shared_digests()
        known = {a.id for a in self.agencies}
        unknown = (
            set(self.partner_keys) | set(self.officer_tokens) | set(self.partnerships)
        ) - known
        if unknown:
            raise ValueError(f"unknown agencies in configuration: {sorted(unknown)}")
        return self

    @model_validator(mode="after")
    def _refuse_dev_mode_on_the_network(self) -> Settings:
        if self.mode != "dev" or self.allow_dev_on_network:
            return self
        for var, host in (
            ("HOTLINE_GATEWAY_HOST", self.gateway_host),
            ("HOTLINE_WORKER_HOST", self.worker_host),
        ):
            if not is_loopback(host):
                raise ValueError(
                    f"dev mode accepts the public demo credentials, so it listens on the "
                    f"loopback only, not {var}={host!r}: set HOTLINE_MODE=production with "
                    "real keys, or HOTLINE_ALLOW_DEV_ON_NETWORK=true for a demo"
                )
        return self

    def _refuse_shared_digests(self) -> None:
        """Each digest names one agency in one role: otherwise the last one silently wins,
        or a partner's key opens a console."""
        seen: dict[str, tuple[str, str]] = {}
        for var, agency, d in self._effective():
            if d in seen:
                other_var, other_agency = seen[d]
                raise ValueError(
                    f"one digest is configured twice, in {other_var} for {other_agency} and "
                    f"in {var} for {agency}: every key and token must be unique to one agency "
                    "and one role"
                )
            seen[d] = (var, agency)

    def _configured(self) -> Iterator[tuple[str, str, str]]:
        """(environment variable, agency, digest) of every configured key and token."""
        for var, by_agency in (
            ("HOTLINE_PARTNER_KEYS", self.partner_keys),
            ("HOTLINE_OFFICER_TOKENS", self.officer_tokens),
        ):
            for agency, ds in by_agency.items():
                for d in ds:
                    yield var, agency, d
        for d in self.operator_tokens:
            yield "HOTLINE_OPERATOR_TOKENS", "operators", d

    def _effective(self) -> Iterator[tuple[str, str, str]]:
        """Like `_configured`, plus the demo credentials dev mode falls back to."""
        yield from self._configured()
        if self.mode != "dev":
            return
        for var, configured, prefix in (
            ("HOTLINE_PARTNER_KEYS", self.partner_keys, DEMO_PARTNER_PREFIX),
            ("HOTLINE_OFFICER_TOKENS", self.officer_tokens, DEMO_OFFICER_PREFIX),
        ):
            if not configured:
                for a in self.agencies:
                    yield f"{var} (demo default)", a.id, digest(prefix + a.id)
        if not self.operator_tokens:
            yield "HOTLINE_OPERATOR_TOKENS (demo default)", "operators", digest(DEMO_OPERATOR_TOKEN)

    def _demo_digests(self) -> set[str]:
        return {
            digest(prefix + a.id)
            for a in self.agencies
            for prefix in (DEMO_PARTNER_PREFIX, DEMO_OFFICER_PREFIX)
        } | {digest(DEMO_OPERATOR_TOKEN)}

    @cached_property
    def agency_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.agencies)

    def agency(self, agency_id: str) -> Agency:
        return self._agencies_by_id[agency_id]

    @cached_property
    def _agencies_by_id(self) -> dict[str, Agency]:
        return {a.id: a for a in self.agencies}

    @cached_property
    def partner_digests(self) -> dict[str, str]:
        """digest -> agency; dev mode without configuration uses the demo keys."""
        return self._digest_index(self.partner_keys, DEMO_PARTNER_PREFIX)

    @cached_property
    def officer_digests(self) -> dict[str, str]:
        return self._digest_index(self.officer_tokens, DEMO_OFFICER_PREFIX)

    @cached_property
    def operator_digests(self) -> frozenset[str]:
        """Who may read /metrics on the partner-facing port; dev mode: the demo token."""
        if not self.operator_tokens and self.mode == "dev":
            return frozenset({digest(DEMO_OPERATOR_TOKEN)})
        return frozenset(self.operator_tokens)

    def _digest_index(self, configured: dict[str, list[str]], demo_prefix: str) -> dict[str, str]:
        if not configured and self.mode == "dev":
            return {digest(demo_prefix + a): a for a in self.agency_ids}
        return {d: agency for agency, ds in configured.items() for d in ds}

    @cached_property
    def registry_targets(self) -> list[str]:
        urls = [u.strip().rstrip("/") for u in self.registry_urls.split(",") if u.strip()]
        return urls or [f"http://{self.worker_host}:{self.worker_port}"]

    @property
    def id_key(self) -> bytes:
        return self.id_secret.get_secret_value().encode()

    @property
    def intake_record_bytes(self) -> int:
        """What an enriched alert may take of a record; the rest is for its case."""
        return self.max_record_bytes // 2

    def may_send(self, sender: str, recipient: str, kind: Kind) -> bool:
        if sender == recipient:
            return False
        if not self.partnerships:
            return recipient in self.agency_ids
        return kind in self.partnerships.get(sender, {}).get(recipient, [])
