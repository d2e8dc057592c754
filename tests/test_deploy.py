"""The deployment files, checked without Docker (promtool runs in tests/test_promtool.py).

docker-compose.yml, deploy/prometheus/{prometheus,rules}.yml, deploy/alertmanager, the HAProxy
load balancer (also `haproxy -c` when Debian's haproxy is installed), the Grafana provisioning
and dashboard, the Dockerfile and the runbook anchors in docs/operations.md. PromQL is checked
cheaply: every `hotline_*` name an expression uses must be exported by the code (the
`hotline.metrics` families plus Faust's sensor metrics under the `hotline_worker` prefix), and
brackets must balance.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # PyYAML, a dev dependency
from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import ValidationError

from hotline.credentials import digest
from hotline.settings import DEMO_AGENCIES, Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "hotline.json"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "hotline.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
HAPROXY = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

KAFKA = ("kafka-1", "kafka-2", "kafka-3")
URGENT_WORKERS = ("worker-1", "worker-2")
BULK_WORKERS = ("bulk-1", "bulk-2")
WORKERS = URGENT_WORKERS + BULK_WORKERS
GATEWAYS = ("gateway-1", "gateway-2")
APP_SERVICES = WORKERS + GATEWAYS
GATEWAY_PORT, WORKER_PORT = 8000, 6066
FAUST_PREFIX = "hotline_worker"
# Every rule's runbook_url starts with this; docs/operations.md#alert-rules documents it.
RUNBOOK_BASE = "https://hotline.example/docs/operations.md#"

SECRET_KEY = re.compile(r"KEY|TOKEN|PASSWORD|SECRET", re.IGNORECASE)
# `${VAR}`, `${VAR:?message}` or `${VAR?message}`: a default (`:-`) would be a value in the file.
ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}")
METRIC_NAME = re.compile(r"(?<![\w:.])(hotline_[A-Za-z0-9_:]*)")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


# ---------------------------------------------------------------- loading


def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _compose() -> dict[str, Any]:
    doc = _yaml(COMPOSE)
    assert isinstance(doc, dict)
    return doc


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, from either compose syntax."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _rules() -> list[dict[str, Any]]:
    doc = _yaml(RULES)
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _dashboard() -> dict[str, Any]:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _panels(panels: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows nest their panels


def _dashboard_exprs() -> list[tuple[str, str]]:
    """(where, expr) for every panel target and annotation query."""
    doc = _dashboard()
    out = [
        (f"panel {p.get('title')!r} {t.get('refId')}", t["expr"])
        for p in _panels(doc["panels"])
        for t in p.get("targets", [])
        if "expr" in t
    ]
    out += [
        (f"annotation {a['name']!r}", a["expr"])
        for a in doc.get("annotations", {}).get("list", [])
        if "expr" in a
    ]
    return out


# ---------------------------------------------------------------- what the code exports

# How prometheus_client exposes each metric type: a Counter family `x` (declared as
# `x_total`) appears as `x_total` and `x_created`, a Histogram `x` as `x_bucket`, `x_count`,
# `x_sum`, `x_created`. Labelled metrics have no samples until first used, so the sample
# names alone would miss them: the family type says what they will expose.
_EXPOSED_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}


def _exposed_names(registry: CollectorRegistry) -> set[str]:
    names: set[str] = set()
    for family in registry.collect():
        names.update(sample.name for sample in family.samples)
        names.update(family.name + sfx for sfx in _EXPOSED_SUFFIXES.get(family.type, ("",)))
    return names


@pytest.fixture(scope="module")
def exported() -> frozenset[str]:
    """Every `hotline_*` series name a gateway or worker can expose on /metrics."""
    import faust
    from faust.sensors.prometheus import setup_prometheus_sensors

    import hotline.metrics  # noqa: F401 - registers the hotline_* metrics on REGISTRY

    faust_registry = CollectorRegistry()
    app = faust.App("hotline-deploy-test", broker="memory://", autodiscover=False)
    # As streams/app.py does, on a fresh registry so the default one is left alone.
    setup_prometheus_sensors(app, registry=faust_registry, name_prefix=FAUST_PREFIX)
    names = _exposed_names(REGISTRY) | _exposed_names(faust_registry)
    return frozenset(n for n in names if n.startswith("hotline_"))


def _code_families() -> list[tuple[str, str]]:
    """(family name, type) of every metric defined in hotline/metrics.py."""
    from prometheus_client.metrics import MetricWrapperBase

    import hotline.metrics as m

    out = []
    for value in vars(m).values():
        if isinstance(value, MetricWrapperBase):
            (family,) = value.describe()
            out.append((family.name, family.type))
    return out


# ---------------------------------------------------------------- PromQL helpers


def _strip_strings(expr: str) -> str:
    return QUOTED.sub('""', expr)


def metric_names(expr: str) -> set[str]:
    return set(METRIC_NAME.findall(_strip_strings(expr)))


def balanced(expr: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for ch in _strip_strings(expr):
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack


def test_promql_helpers() -> None:
    expr = 'sum(rate(hotline_x_total{topic="hotline.inbound", job=~"hotline_y|a)"}[5m]))'
    assert metric_names(expr) == {"hotline_x_total"}
    assert balanced(expr)
    assert not balanced("sum(rate(hotline_x_total[5m])")
    assert not balanced("sum(rate(hotline_x_total[5m)))")


def test_exported_names_cover_code_and_faust(exported: frozenset[str]) -> None:
    assert "hotline_alerts_accepted_total" in exported
    assert "hotline_delivery_latency_seconds_bucket" in exported
    assert "hotline_worker_messages_received_total" in exported
    assert "hotline_worker_events_runtime_ms_bucket" in exported
    assert "hotline_worker_consumer_commit_latency_ms_bucket" not in exported  # no _ms there
    assert "hotline_alerts_accepted" not in exported  # counters are exposed with _total


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_defines_the_cluster_apps_and_monitoring() -> None:
    services = _services()
    expected = {*KAFKA, *APP_SERVICES, "loadbalancer", "prometheus", "alertmanager", "grafana"}
    assert expected <= set(services), f"missing services: {sorted(expected - set(services))}"


def test_depends_on_refers_to_defined_services() -> None:
    services = _services()
    for name, service in services.items():
        deps = service.get("depends_on") or []
        for dep in deps:  # list or mapping: iterating gives the names either way
            assert dep in services, f"{name} depends on undefined service {dep!r}"
            assert dep != name


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every mapping entry and `KEY=VALUE` list item, recursively."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, str(key), value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, str) and "=" in item:
                key, value = item.split("=", 1)
                yield path, key, value
            yield from _walk(item, f"{path}[{i}]")


def test_compose_holds_no_secret_values() -> None:
    checked = 0
    for path, key, value in _walk(_compose()):
        if SECRET_KEY.search(key) and not isinstance(value, dict | list):
            checked += 1
            assert isinstance(value, str) and ENV_REFERENCE.fullmatch(value), (
                f"{path}.{key} must be an environment reference like "
                f"'${{{key}:?message}}', not a value in the file"
            )
    assert checked >= 3  # partner keys, officer tokens, Grafana admin password
    text = COMPOSE.read_text(encoding="utf-8")
    assert not re.search(r"sha256:[0-9a-f]{16,}", text), "a key digest is written in the file"


def test_every_app_service_takes_secrets_from_the_environment() -> None:
    services = _services()
    for name in APP_SERVICES:
        env = _environment(services[name])
        for var in ("HOTLINE_PARTNER_KEYS", "HOTLINE_OFFICER_TOKENS"):
            assert ENV_REFERENCE.fullmatch(env.get(var, "")), f"{name}: {var}"
            assert env[var].startswith(f"${{{var}:?"), f"{name}: {var} must be required"
    for name in GATEWAYS:
        var = "HOTLINE_OPERATOR_TOKENS"
        assert _environment(services[name]).get(var, "").startswith(f"${{{var}:?"), name
    grafana = _environment(services["grafana"])
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")


def test_published_ports_are_bound_to_localhost() -> None:
    published = 0
    for name, service in _services().items():
        for port in service.get("ports") or []:
            published += 1
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port!r}"
    assert published >= 4


def test_gateways_are_published_on_8001_and_8002() -> None:
    services = _services()
    assert services["gateway-1"]["ports"] == [f"127.0.0.1:8001:{GATEWAY_PORT}"]
    assert services["gateway-2"]["ports"] == [f"127.0.0.1:8002:{GATEWAY_PORT}"]


def test_images_are_pinned_by_tag() -> None:
    for name, service in _services().items():
        image = service.get("image")
        assert isinstance(image, str), f"{name} has no image"
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag and "$" not in image, f"{name}: {image!r} has no tag"
        assert tag != "latest", f"{name}: {image!r}"
    assert _services()["kafka-1"]["image"] == "apache/kafka:4.0.2"


def test_kafka_is_a_three_node_kraft_quorum() -> None:
    services = _services()
    envs = {name: _environment(services[name]) for name in KAFKA}
    node_ids = {envs[name]["KAFKA_NODE_ID"]: name for name in KAFKA}
    assert len(node_ids) == 3
    for name, env in envs.items():
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        voters = dict(v.split("@", 1) for v in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","))
        assert set(voters) == set(node_ids), name
        for node_id, address in voters.items():
            assert address.split(":")[0] == node_ids[node_id], f"{name}: voter {node_id}"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert "CONTROLLER" in env["KAFKA_LISTENERS"]
        assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
        assert "CONTROLLER:PLAINTEXT" in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
        assert "healthcheck" in services[name], name
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1


def test_volumes_are_named_or_mount_repository_files() -> None:
    compose = _compose()
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if source.startswith(("./", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source!r}"
    for name in KAFKA:
        assert any(str(v).startswith(f"{name}-data:") for v in compose["services"][name]["volumes"])


def test_app_services_run_in_production_against_the_cluster() -> None:
    services = _services()
    bootstrap = ",".join(f"{k}:9092" for k in KAFKA)
    for name in APP_SERVICES:
        service, env = services[name], _environment(services[name])
        assert env["HOTLINE_MODE"] == "production", name
        assert env["HOTLINE_REPLICATION_FACTOR"] == "3", name
        assert env["HOTLINE_MIN_INSYNC_REPLICAS"] == "2", name
        assert env["HOTLINE_KAFKA_BOOTSTRAP"] == bootstrap, name
        assert "healthcheck" in service, name
        assert set(KAFKA) <= set(service.get("depends_on") or []), name
    for name in WORKERS:
        env = _environment(services[name])
        lane = "urgent" if name in URGENT_WORKERS else "bulk"
        assert services[name]["command"] == ["worker", "--lane", lane]
        assert env["HOTLINE_WORKER_HOST"] == "0.0.0.0"
        assert env.get("HOTLINE_WORKER_PORT", str(WORKER_PORT)) == str(WORKER_PORT)
        # Each worker tells the group a URL the other can reach (not 0.0.0.0).
        assert env["NODE_CANONICAL_URL"] == f"http://{name}:{WORKER_PORT}"
    for name in GATEWAYS:
        env = _environment(services[name])
        assert services[name]["command"] == ["gateway"]
        assert env["HOTLINE_GATEWAY_HOST"] == "0.0.0.0"
        assert env.get("HOTLINE_GATEWAY_PORT", str(GATEWAY_PORT)) == str(GATEWAY_PORT)
    # One consumer group per lane: in each, the second worker is the first one's hot standby.
    ids = {_environment(services[name])["HOTLINE_WORKER_ID"] for name in WORKERS}
    assert len(ids) == 1
    volumes = [v for name in WORKERS for v in services[name]["volumes"]]
    assert len({v.split(":")[0] for v in volumes}) == len(WORKERS)  # a store each


def test_monitoring_mounts_the_deploy_files() -> None:
    services = _services()
    prom_mounts = " ".join(services["prometheus"]["volumes"])
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in prom_mounts
    assert "./deploy/prometheus/rules.yml:/etc/prometheus/rules.yml" in prom_mounts
    graf_mounts = " ".join(services["grafana"]["volumes"])
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning" in graf_mounts
    assert "./deploy/grafana/dashboards:" in graf_mounts


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_a_non_root_hotline_image() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    froms = [ln.split()[1] for ln in lines if ln.upper().startswith("FROM ")]
    assert froms and all(f == "python:3.11-slim" for f in froms), froms
    users = [ln.split()[1] for ln in lines if ln.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, users
    assert 'ENTRYPOINT ["hotline"]' in lines
    assert any("pip install ." in ln for ln in lines)
    for ln in lines:
        if ln.upper().startswith(("ENV ", "ARG ")):
            assert not SECRET_KEY.search(ln), f"secret-looking build setting: {ln}"
    ignore = DOCKERIGNORE.read_text(encoding="utf-8").split()
    assert "*" in ignore or ".env" in ignore, ".env files must stay out of the build context"


def _image_env() -> dict[str, str]:
    """The `ENV` settings of the Dockerfile's last (runtime) stage."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    stage = re.split(r"^FROM\s", text, flags=re.MULTILINE)[-1]
    env: dict[str, str] = {}
    for line in stage.splitlines():
        if line.strip().upper().startswith("ENV "):
            env.update(item.split("=", 1) for item in shlex.split(line.strip()[4:]))
    return env


def _settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


# Stand-ins for what an operator puts in `.env`: distinct digests, like real ones.
_SECRETS = {
    "HOTLINE_PARTNER_KEYS": json.dumps({a.id: [digest(f"p-{a.id}")] for a in DEMO_AGENCIES}),
    "HOTLINE_OFFICER_TOKENS": json.dumps({a.id: [digest(f"o-{a.id}")] for a in DEMO_AGENCIES}),
    "HOTLINE_OPERATOR_TOKENS": json.dumps([digest("operator")]),
    "HOTLINE_ID_SECRET": "a-deployment-id-secret",
}


def _interpolate(value: str) -> str:
    """Compose's `${VAR}`, `${VAR:?message}` and `${VAR:-default}`, from `_SECRETS`."""

    def one(m: re.Match[str]) -> str:
        name, op, rest = m.group(1), m.group(2) or "", m.group(3) or ""
        if name in _SECRETS:
            return _SECRETS[name]
        assert op.endswith("-"), f"{name} is required and has no stand-in in this test"
        return rest

    return re.sub(r"\$\{(\w+)(:?[-?])?([^}]*)\}", one, value)


def test_the_image_alone_does_not_run_dev_mode_on_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = _image_env()
    assert env["HOTLINE_GATEWAY_HOST"] == "0.0.0.0"  # containers listen beyond loopback...
    assert env["HOTLINE_MODE"] == "production"  # ...so demo keys must not work there
    with pytest.raises(ValidationError, match="HOTLINE_PARTNER_KEYS"):
        _settings_from(env, monkeypatch)  # no keys configured: refuses to start


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_with_the_image_and_compose_settings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose_env = {k: _interpolate(v) for k, v in _environment(_services()[name]).items()}
    settings = _settings_from({**_image_env(), **compose_env}, monkeypatch)
    assert settings.mode == "production" and not settings.allow_dev_on_network


# ---------------------------------------------------------------- Prometheus


def test_prometheus_scrapes_every_app_service_by_name() -> None:
    doc = _yaml(PROMETHEUS)
    services = _services()
    assert "/etc/prometheus/rules.yml" in doc["rule_files"]
    targets: dict[str, set[str]] = {}
    for job in doc["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics"
        for group in job["static_configs"]:
            for target in group["targets"]:
                host, _, port = target.partition(":")
                assert host == "localhost" or host in services, f"undefined target {target}"
                targets.setdefault(host, set()).add(port)
    for name in GATEWAYS:
        assert targets.get(name) == {str(GATEWAY_PORT)}, name
    for name in WORKERS:
        assert targets.get(name) == {str(WORKER_PORT)}, name


def test_prometheus_sends_an_operator_token_to_the_gateways() -> None:
    """The gateways' /metrics is on the partner-facing port and wants an operator token."""
    (job,) = [j for j in _yaml(PROMETHEUS)["scrape_configs"] if j["job_name"] == "hotline-gateway"]
    auth = job["authorization"]
    assert auth.get("type", "Bearer") == "Bearer"
    assert "credentials" not in auth, "the token itself must not be in the file"
    path = auth["credentials_file"]
    # ...which compose hands to Prometheus as a secret, from a file outside the repository.
    compose = _compose()
    prometheus = compose["services"]["prometheus"]
    names = [s if isinstance(s, str) else s["source"] for s in prometheus.get("secrets", [])]
    assert path in {f"/run/secrets/{n}" for n in names}, path
    (name,) = [n for n in names if path == f"/run/secrets/{n}"]
    source = compose["secrets"][name]["file"]
    assert ENV_REFERENCE.fullmatch(source) and ":?" in source, source


def test_rules_have_severity_and_runbook_annotations() -> None:
    rules = _rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names)), "duplicate alert names"
    for rule in rules:
        name = rule["alert"]
        assert isinstance(rule["expr"], str) and rule["expr"].strip(), name
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        for key in ("summary", "description", "runbook_url"):
            assert str(rule["annotations"].get(key, "")).strip(), f"{name}: no {key}"
        # Absolute, so the link works from a notification; one base, so it changes in one go.
        assert rule["annotations"]["runbook_url"].startswith(RUNBOOK_BASE), name
        assert "runbook" not in rule["annotations"], f"{name}: the old relative runbook"
        if "for" in rule:
            assert DURATION.match(str(rule["for"])), f"{name}: for={rule['for']!r}"
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


def test_rules_cover_what_operators_asked_for() -> None:
    exprs = "\n".join(r["expr"] for r in _rules())
    for needle in (
        "hotline_alerts_accepted_total",
        "hotline_deliveries_total",
        "or vector(0)",
        "hotline_consumer_lag",
        "hotline_worker_topic_partition_end_offset",
        'status="5xx"',
        "hotline_urgent_unacknowledged",
        "hotline_escalations_total",
        "hotline_partner_last_post_timestamp_seconds",
        "hotline_kafka_produce_errors_total",
        "up{",
        'hotline_worker_active{job="hotline-worker"}',
    ):
        assert needle in exprs, f"no rule uses {needle}"


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r["alert"])
def test_rule_expression(rule: dict[str, Any], exported: frozenset[str]) -> None:
    expr = rule["expr"]
    assert balanced(expr), f"unbalanced brackets in {rule['alert']}"
    unknown = metric_names(expr) - exported
    assert not unknown, f"{rule['alert']} uses metrics no code exports: {sorted(unknown)}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_~]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    anchors: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)):
            anchors.add(_slug(m.group(1)))
    anchors.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', markdown))
    return anchors


def test_every_runbook_anchor_is_a_heading_in_operations_md() -> None:
    anchors = _anchors(OPERATIONS.read_text(encoding="utf-8"))
    for rule in _rules():
        anchor = rule["annotations"]["runbook_url"].partition("#")[2]
        assert anchor in anchors, f"{rule['alert']}: no heading for #{anchor} in {OPERATIONS}"


# ---------------------------------------------------------------- Alertmanager


def test_prometheus_sends_alerts_to_the_compose_alertmanager() -> None:
    services = _services()
    (manager,) = _yaml(PROMETHEUS)["alerting"]["alertmanagers"]
    (group,) = manager["static_configs"]
    assert group["targets"] == ["alertmanager:9093"]
    alertmanager = services["alertmanager"]
    assert (
        "./deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
        in (alertmanager["volumes"])
    )
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]
    assert "healthcheck" in alertmanager


def _routes(route: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield route
    for child in route.get("routes", []):
        yield from _routes(child)


def test_alertmanager_routes_to_an_example_webhook_receiver() -> None:
    doc = _yaml(ALERTMANAGER)
    receivers = {r["name"]: r for r in doc["receivers"]}
    for route in _routes(doc["route"]):
        if "receiver" in route:
            assert route["receiver"] in receivers, route
    (hook,) = receivers[doc["route"]["receiver"]]["webhook_configs"]
    assert hook["url"].startswith(("http://", "https://")) and hook["send_resolved"] is True
    # A critical alert is reminded of sooner than the default.
    (critical,) = [r for r in doc["route"]["routes"] if r["matchers"] == ['severity="critical"']]
    assert DURATION.match(critical["repeat_interval"])
    for key in ("group_wait", "group_interval", "repeat_interval"):
        assert DURATION.match(doc["route"][key]), key


def test_alertmanager_inhibitions_name_real_alerts() -> None:
    alerts = {r["alert"] for r in _rules()}
    for rule in _yaml(ALERTMANAGER).get("inhibit_rules", []):
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            if matcher.startswith("alertname"):
                names = re.sub(r'^alertname=~?"?|"$', "", matcher).split("|")
                assert set(names) <= alerts, matcher


# ---------------------------------------------------------------- load balancer


def _haproxy_sections() -> dict[str, list[str]]:
    """'frontend hotline' -> its directive lines, comments dropped."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in HAPROXY.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(" ".join(line.split()), [])
        else:
            current.append(" ".join(line.split()))
    return sections


def test_the_load_balancer_is_published_on_localhost_and_mounts_its_config() -> None:
    service = _services()["loadbalancer"]
    assert service["ports"] == ["127.0.0.1:8080:8080"]
    assert (
        "./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in (service["volumes"])
    )
    assert set(GATEWAYS) <= set(service["depends_on"])
    assert "bind :8080" in _haproxy_sections()["frontend hotline"]


def test_the_load_balancer_sends_console_sockets_and_http_to_every_gateway() -> None:
    sections = _haproxy_sections()
    frontend = sections["frontend hotline"]
    assert "acl console_socket path /v1/console/ws" in frontend
    assert "acl upgrade hdr(Upgrade) -i websocket" in frontend
    assert "use_backend gateway-sockets if console_socket upgrade" in frontend
    assert "default_backend gateways" in frontend
    for backend in ("backend gateways", "backend gateway-sockets"):
        lines = sections[backend]
        servers = {ln.split()[2] for ln in lines if ln.startswith("server ")}
        assert servers == {f"{g}:{GATEWAY_PORT}" for g in GATEWAYS}, backend
        assert "http-check send meth GET uri /readyz" in lines, backend  # ready gateways only
        assert not any(ln.startswith(("cookie", "stick")) for ln in lines), "no stickiness"
    # An upgraded socket must outlive the console's 20 s ping interval.
    (tunnel,) = [ln for ln in sections["defaults"] if ln.startswith("timeout tunnel")]
    assert int(tunnel.split()[-1].removesuffix("s")) > 20
    # Recreated gateway containers get new addresses: resolved at run time, not once.
    assert "nameserver dns 127.0.0.11:53" in sections["resolvers docker"]
    (default_server,) = [ln for ln in sections["defaults"] if ln.startswith("default-server")]
    assert "resolvers docker" in default_server and "init-addr last,libc,none" in default_server


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_haproxy_accepts_its_config() -> None:
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    # Warnings are expected here: the gateways' names resolve only inside compose.
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_exported_metric_is_documented() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    for family, kind in _code_families():
        exposed = family + "_total" if kind == "counter" else family
        assert f"`{exposed}`" in text, f"{exposed} is not in the metrics table of {OPERATIONS}"


# ---------------------------------------------------------------- Grafana


def test_grafana_provisioning_points_at_compose_paths() -> None:
    services = _services()
    (datasource,) = _yaml(DATASOURCES)["datasources"]
    assert datasource["type"] == "prometheus"
    host = re.sub(r"^https?://", "", datasource["url"]).split(":")[0]
    assert host in services
    (provider,) = _yaml(DASHBOARD_PROVIDERS)["providers"]
    mounts = services["grafana"]["volumes"]
    assert any(v.split(":")[1] == provider["options"]["path"] for v in mounts)


def test_dashboard_structure() -> None:
    doc = _dashboard()
    uid = _yaml(DATASOURCES)["datasources"][0]["uid"]
    assert doc["title"] == "Hotline"
    panels = list(_panels(doc["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    for panel in panels:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == uid, panel["title"]
            assert panel["targets"], panel["title"]


def test_dashboard_answers_the_operators_questions() -> None:
    used = set().union(*(metric_names(expr) for _, expr in _dashboard_exprs()))
    for metric in (
        "hotline_alerts_accepted_total",
        "hotline_alerts_rejected_total",
        "hotline_delivery_latency_seconds_bucket",
        "hotline_ack_latency_seconds_bucket",
        "hotline_partner_last_post_timestamp_seconds",
        "hotline_urgent_unacknowledged",
        "hotline_escalations_total",
        "hotline_console_connections",
        "hotline_duplicates_dropped_total",
        "hotline_corroborations_total",
        "hotline_kafka_produce_errors_total",
        "hotline_consumer_lag",
        "hotline_worker_messages_received_total",
        "hotline_worker_events_runtime_ms_bucket",
        "hotline_worker_consumer_commit_latency_bucket",
    ):
        assert metric in used, f"no dashboard panel shows {metric}"


@pytest.mark.parametrize(("where", "expr"), _dashboard_exprs(), ids=lambda v: str(v)[:60])
def test_dashboard_expression(where: str, expr: str, exported: frozenset[str]) -> None:
    assert balanced(expr), f"unbalanced brackets in {where}"
    unknown = metric_names(expr) - exported
    assert not unknown, f"{where} uses metrics no code exports: {sorted(unknown)}"


def test_dashboard_filters_by_agency_and_instance() -> None:
    doc = _dashboard()
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    assert set(variables) == {"agency", "instance"}
    for var in variables.values():
        assert var["type"] == "query" and var["includeAll"] and var["multi"], var["name"]
        assert var["allValue"] == ".*", var["name"]  # All also matches series without it
        assert balanced(var["definition"]), var["name"]
    exprs = [expr for where, expr in _dashboard_exprs() if where.startswith("panel")]
    agency = re.compile(r'(?:sender|recipient|agency)=~"\$agency"')
    for where, expr in _dashboard_exprs():
        if not where.startswith("panel"):
            continue
        for name in metric_names(expr):
            # Every selector of a panel's metrics is narrowed to the chosen instances...
            assert re.search(re.escape(name) + r'\{[^}]*instance=~"\$instance"', expr), where
    # ...and every metric with an agency label to the chosen agencies.
    for family in ("hotline_alerts_accepted_total", "hotline_deliveries_total"):
        uses = [e for e in exprs if family in e]
        assert uses and all(agency.search(e) for e in uses), family
    assert sum(bool(agency.search(e)) for e in exprs) >= 15


def test_dashboard_shows_the_active_worker() -> None:
    (panel,) = [p for p in _panels(_dashboard()["panels"]) if p.get("title") == "Active worker"]
    (target,) = panel["targets"]
    assert 'hotline_worker_active{job="hotline-worker"' in target["expr"]
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[0]["color"] == "red" and steps[1] == {"color": "green", "value": 1}
