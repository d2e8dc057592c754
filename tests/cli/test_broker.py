from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli import broker, kafka_config, kafka_jars
from cli.broker import LocalBroker, free_port
from cli.kafka_config import render_server_properties
from cli.kafka_jars import KAFKA_VERSION, BrokerError, ensure_jars


def _parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def _no_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_jars.shutil, "which", lambda name: None)


# --- server.properties ------------------------------------------------------------------


def test_properties_describe_one_combined_node_on_loopback(tmp_path: Path) -> None:
    props = _parse_properties(
        render_server_properties(port=19092, controller_port=19093, data_dir=tmp_path)
    )

    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str(tmp_path / "logs")
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.num.partitions"] == "4"
    assert int(props["broker.heartbeat.interval.ms"]) < int(props["broker.session.timeout.ms"])
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):
        assert props[key] == "1", key


def test_properties_are_pure() -> None:
    render = lambda: render_server_properties(  # noqa: E731
        port=1, controller_port=2, data_dir=Path("/d")
    )
    assert render() == render()


def test_properties_escape_backslashes_in_paths() -> None:
    text = render_server_properties(port=1, controller_port=2, data_dir=Path("/a\\b"))
    assert "log.dirs=/a\\\\b/logs" in text


# --- missing tools ----------------------------------------------------------------------


def test_missing_maven_is_one_actionable_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_tools(monkeypatch)
    with pytest.raises(BrokerError) as err:
        ensure_jars(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert "Maven is required" in message
    assert "apt-get install maven" in message


def test_missing_java_fails_before_any_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_tools(monkeypatch)

    def no_download(*args: Any, **kwargs: Any) -> Path:
        raise AssertionError("must not fetch jars without java")

    monkeypatch.setattr(broker, "ensure_jars", no_download)
    with pytest.raises(BrokerError) as err:
        LocalBroker(data_dir=tmp_path).start()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("Java 17+ is required")
    assert "openjdk-17-jre-headless" in message


# --- jar cache --------------------------------------------------------------------------


def test_cached_jars_need_no_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / f"kafka-{KAFKA_VERSION}"
    (home / "lib").mkdir(parents=True)
    (home / ".complete").write_text(KAFKA_VERSION)
    _no_tools(monkeypatch)

    assert ensure_jars(tmp_path) == home / "lib"


def test_half_finished_download_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / f"kafka-{KAFKA_VERSION}" / "lib"
    lib.mkdir(parents=True)
    (lib / "truncated.jar").write_bytes(b"PK")  # left behind by an interrupted run
    commands: list[list[str]] = []

    def fake_maven(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        commands.append(cmd)
        out_dir = Path(next(a for a in cmd if a.startswith("-DoutputDirectory=")).split("=")[1])
        out_dir.mkdir(parents=True)
        (out_dir / f"kafka_2.13-{KAFKA_VERSION}.jar").write_bytes(b"PK")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(kafka_jars.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(kafka_jars.subprocess, "run", fake_maven)

    assert ensure_jars(tmp_path) == lib
    assert not (lib / "truncated.jar").exists()
    assert (lib.parent / ".complete").is_file()
    assert f"-Dkafka.version={KAFKA_VERSION}" in commands[0]
    ensure_jars(tmp_path)
    assert len(commands) == 1, "the second call must use the cache"


def test_maven_failure_is_reported_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_maven(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "[ERROR] Could not resolve artifact\n", "")

    monkeypatch.setattr(kafka_jars.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(kafka_jars.subprocess, "run", failing_maven)

    with pytest.raises(BrokerError, match="Could not resolve artifact"):
        ensure_jars(tmp_path)
    assert not (tmp_path / f"kafka-{KAFKA_VERSION}" / ".complete").exists()


def test_pom_takes_the_version_from_kafka_jars_py() -> None:
    pom = (Path(kafka_jars.__file__).with_name("kafka") / "pom.xml").read_text()
    assert "<version>${kafka.version}</version>" in pom
    assert KAFKA_VERSION not in pom


# --- small helpers ----------------------------------------------------------------------


def test_cluster_ids_look_like_kafka_uuids() -> None:
    for _ in range(200):
        cluster_id = kafka_config.new_cluster_id()
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert set(cluster_id) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_defaults_and_heap(tmp_path: Path) -> None:
    local = LocalBroker(port=29092, data_dir=tmp_path, heap="128m")
    assert local.controller_port == 29093
    assert local.bootstrap == "127.0.0.1:29092"
    assert local.log_path.parent == tmp_path
    assert "-Xms128m" in local._jvm_options()  # never above -Xmx
    assert "-Xms256m" in LocalBroker(data_dir=tmp_path, heap="1g")._jvm_options()
    with pytest.raises(ValueError, match="heap"):
        LocalBroker(data_dir=tmp_path, heap="lots")


def test_busy_port_is_refused_before_launching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka_jars.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(broker, "ensure_jars", lambda *a, **k: tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(BrokerError, match=f"Port {port} .* in use"):
            LocalBroker(port=port, controller_port=free_port(), data_dir=tmp_path).start()


def test_early_exit_error_quotes_the_broker_log(tmp_path: Path) -> None:
    local = LocalBroker(data_dir=tmp_path, port=free_port(), controller_port=free_port())
    lines = [f"line {n}" for n in range(100)]
    local.log_path.write_text("\n".join(lines + ["ERROR Address already in use"]) + "\n")
    local._proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    with pytest.raises(BrokerError) as err:
        local.wait_ready(timeout=10)
    message = str(err.value)
    assert "exited with code 3" in message
    assert "ERROR Address already in use" in message
    assert "line 61" in message and "line 60" not in message  # only the last 40 lines


# --- the real thing -----------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.integration
@pytest.mark.slow
async def test_real_broker_round_trip(tmp_path: Path) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    port, controller_port = free_port(), free_port()
    while controller_port == port:
        controller_port = free_port()
    local = LocalBroker(port=port, controller_port=controller_port, data_dir=tmp_path / "k")
    topic = "hotline.test.compacted"

    with local:  # start + wait_ready (from inside a running loop, on purpose)
        pid = local.pid
        assert pid is not None and local.is_running()

        admin = AIOKafkaAdminClient(bootstrap_servers=local.bootstrap)
        await admin.start()
        try:
            new = NewTopic(topic, 3, 1, topic_configs={"cleanup.policy": "compact"})
            created = await admin.create_topics([new])
            assert [t[1] for t in created.topic_errors] == [0]
            again = await admin.create_topics([new])
            assert [t[1] for t in again.topic_errors] == [36]  # TOPIC_ALREADY_EXISTS
            configs = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic)]
            )
            entries = {e[0]: e[1] for e in configs[0].resources[0][4]}
            assert entries["cleanup.policy"] == "compact"
            missing = await admin.describe_topics(["hotline.test.no-such-topic"])
            assert missing[0]["error_code"] == 3, "auto.create.topics.enable must be off"
        finally:
            await admin.close()

        producer = AIOKafkaProducer(bootstrap_servers=local.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            sent = await producer.send_and_wait(topic, b"alert-1", key=b"case-42")
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=local.bootstrap,
            group_id="hotline-test",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
            await consumer.commit()
        finally:
            await consumer.stop()

        assert (record.key, record.value) == (b"case-42", b"alert-1")
        assert (record.partition, record.offset) == (sent.partition, sent.offset)

    assert not local.is_running()
    assert not _pid_alive(pid), "the broker JVM must be gone after stop()"


def test_timeout_error_quotes_the_broker_log(tmp_path: Path) -> None:
    local = LocalBroker(data_dir=tmp_path, port=free_port(), controller_port=free_port())
    local.log_path.write_text("INFO still waiting for the controller\n")
    local._proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(BrokerError, match=r"not ready after 0.5 s(.|\n)*still waiting"):
            local.wait_ready(timeout=0.5)
    finally:
        local.stop(timeout=5)
    assert not local.is_running()
