"""Process configuration: read once per process from `HOTLINE_*` environment variables.

Secrets are stored as SHA-256 digests (`sha256:<hex>`), never in plain text. Dev mode, the
default of the local run, falls back to the clearly marked demo credentials
(`demo-partner-<agency>` / `demo-officer-<agency>`); production mode refuses them.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotline.models import Kind

DEMO_PARTNER_PREFIX = "demo-partner-"
DEMO_OFFICER_PREFIX = "demo-officer-"
# Keys the ids the hotline derives (case ids); production refuses this published one.
DEMO_ID_SECRET = "demo-id-secret-not-for-production"  # noqa: S105 - published on purpose


def digest(secret: str) -> str:
    """The only form in which a key or token is configured or compared."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


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
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", frozen=True, extra="ignore", env_nested_delimiter="__"
    )

    mode: Literal["dev", "production"] = "dev"
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "hotline"
    replication_factor: int = Field(default=1, ge=1)
    min_insync_replicas: int = Field(default=1, ge=1)
    # Per-agency delivery topics are single-partition: the offset is the console cursor.
    delivery_retention_ms: int = 14 * 24 * 3600 * 1000

    agencies: tuple[Agency, ...] = DEMO_AGENCIES
    # sender -> recipient -> kinds it may send there; empty means "every agency, every kind".
    partnerships: dict[str, dict[str, list[Kind]]] = Field(default_factory=dict)
    # agency -> SHA-256 digests of its partner API keys / duty-officer tokens.
    partner_keys: dict[str, list[str]] = Field(default_factory=dict)
    officer_tokens: dict[str, list[str]] = Field(default_factory=dict)

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    worker_host: str = "127.0.0.1"
    worker_port: int = 6066
    worker_id: str = "hotline-worker"
    worker_store: str = "memory://"
    data_dir: Path = Path(".hotline")
    kafka_port: int = 9092
    log_level: str = "INFO"

    case_ttl_days: float = Field(default=30.0, gt=0)
    escalation_seconds: float = Field(default=120.0, gt=0)
    console_window: int = Field(default=500, ge=0, description="recent events on a fresh sign-in")
    console_ring: int = Field(default=20_000, ge=100, description="events kept per agency")
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
        demo = self._demo_digests()
        configured = [
            d for ds in (*self.partner_keys.values(), *self.officer_tokens.values()) for d in ds
        ]
        if self.mode == "production":
            if not self.partner_keys or not self.officer_tokens:
                raise ValueError(
                    "production mode needs HOTLINE_PARTNER_KEYS and HOTLINE_OFFICER_TOKENS"
                )
            if any(d in demo for d in configured):
                raise ValueError("production mode refuses the demo credentials")
            if self.id_secret.get_secret_value() == DEMO_ID_SECRET:
                raise ValueError(
                    "production mode needs its own HOTLINE_ID_SECRET (the demo one is published)"
                )
        if any(not d.startswith("sha256:") for d in configured):
            raise ValueError("keys and tokens are configured as 'sha256:<hex>' digests only")
        known = {a.id for a in self.agencies}
        unknown = (
            set(self.partner_keys) | set(self.officer_tokens) | set(self.partnerships)
        ) - known
        if unknown:
            raise ValueError(f"unknown agencies in configuration: {sorted(unknown)}")
        return self

    def _demo_digests(self) -> set[str]:
        return {
            digest(prefix + a.id)
            for a in self.agencies
            for prefix in (DEMO_PARTNER_PREFIX, DEMO_OFFICER_PREFIX)
        }

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

    def _digest_index(self, configured: dict[str, list[str]], demo_prefix: str) -> dict[str, str]:
        if not configured and self.mode == "dev":
            return {digest(demo_prefix + a): a for a in self.agency_ids}
        return {d: agency for agency, ds in configured.items() for d in ds}

    @cached_property
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
