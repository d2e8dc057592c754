"""What an operator sees when a command fails: one line on standard error, its own exit code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import uvicorn
from aiokafka.errors import KafkaConnectionError
from typer.testing import CliRunner, Result

from cli import importer
from cli import main as cli
from cli.exits import CommandError, ExitCode
from gateway import health
from hotline import topics
from hotline.errors import ConfigError

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_hotline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)


def one_error_line(result: Result) -> str:
    """The single `error: …` line a failed command wrote, and nothing else on stderr."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_import_of_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "numbers.ndjson"
    result = runner.invoke(cli.cli, ["import", str(missing), "--key", "k"])
    assert result.exit_code == ExitCode.NO_INPUT == 66
    assert one_error_line(result) == f"error: {missing}: no such file"


def test_import_of_a_directory_is_unreadable_input(tmp_path: Path) -> None:
    folder = tmp_path / "numbers.ndjson"
    folder.mkdir()
    result = runner.invoke(cli.cli, ["import", str(folder), "--key", "k"])
    assert result.exit_code == ExitCode.NO_INPUT
    assert str(folder) in one_error_line(result)


def test_import_names_the_line_that_is_not_json_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "numbers.ndjson"
    data.write_text('{"number": "+84 90 123 4567"}\n\n{"number": "+84 90 123 4568"\n')
    sent: list[httpx.Request] = []
    monkeypatch.setattr(importer.httpx, "Client", _recording_client(sent))
    result = runner.invoke(cli.cli, ["import", str(data), "--key", "k"])
    assert result.exit_code == ExitCode.DATA_ERROR == 65
    line = one_error_line(result)
    assert f"{data}, line 3: not JSON" in line and "column" in line
    assert sent == []  # the file is checked before the first batch goes out


def test_import_names_the_csv_line_that_is_not_utf8(tmp_path: Path) -> None:
    data = tmp_path / "numbers.csv"
    data.write_bytes(b"number\n+84901234567\n+8490\xff1234568\n")
    result = runner.invoke(cli.cli, ["import", str(data), "--key", "k"])
    assert result.exit_code == ExitCode.DATA_ERROR
    assert "line 3: not UTF-8" in one_error_line(result)


def test_production_without_keys_names_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_MODE", "production")
    result = runner.invoke(cli.cli, ["gateway"])
    assert result.exit_code == ExitCode.CONFIG == 78
    line = one_error_line(result)
    assert "HOTLINE_PARTNER_KEYS" in line and "HOTLINE_OFFICER_TOKENS" in line
    assert "Value error" not in line and "pydantic" not in line


def test_a_bad_setting_is_named_by_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTLINE_GATEWAY_PORT", "eight thousand")
    result = runner.invoke(cli.cli, ["worker"])
    assert result.exit_code == ExitCode.CONFIG
    line = one_error_line(result)
    assert line.startswith("error: invalid configuration: HOTLINE_GATEWAY_PORT: ")
    assert "gateway_port" not in line


def test_a_settings_error_never_echoes_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    # A plain key pasted where its digest belongs must not reach the terminal.
    monkeypatch.setenv("HOTLINE_PARTNER_KEYS", '{"vn-hanoi": [["a-plain-partner-key"]]}')
    result = runner.invoke(cli.cli, ["gateway"])
    assert result.exit_code == ExitCode.CONFIG
    line = one_error_line(result)
    assert "HOTLINE_PARTNER_KEYS (vn-hanoi.0)" in line
    assert "a-plain-partner-key" not in result.output


def test_command_error_reaches_the_shell_as_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> int:
        raise CommandError("the gateway refused the partner key (401)", ExitCode.NO_PERMISSION)

    monkeypatch.setattr(importer, "run_import", refused)
    result = runner.invoke(cli.cli, ["import", "x.ndjson", "--key", "k"])
    assert result.exit_code == ExitCode.NO_PERMISSION == 77
    assert one_error_line(result) == "error: the gateway refused the partner key (401)"


def test_exit_codes_are_distinct() -> None:
    assert len({int(c) for c in ExitCode}) == len(ExitCode)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_import_with_the_gateway_down_is_one_line_after_retrying(tmp_path: Path) -> None:
    data = tmp_path / "numbers.ndjson"
    data.write_text('{"number": "+84 90 123 4567"}\n')
    url = f"http://127.0.0.1:{_closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    done = subprocess.run(
        [sys.executable, "-m", "cli", "import", str(data), "--key", "k", "--url", url]
        + ["--attempts", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == ExitCode.UNAVAILABLE == 69, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith(f"error: cannot reach the gateway at {url} (ConnectError")
    assert "gave up after 2 attempts" in done.stderr
    assert "retrying in" in done.stdout  # the wait was said while it happened


def _recording_client(sent: list[httpx.Request]) -> type[httpx.Client]:
    class Recording(httpx.Client):
        def __init__(self, **kwargs: object) -> None:
            def handler(request: httpx.Request) -> httpx.Response:
                sent.append(request)
                return httpx.Response(500)

            transport = httpx.MockTransport(handler)
            super().__init__(base_url=str(kwargs["base_url"]), transport=transport)

    return Recording


def test_worker_without_kafka_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokafka.errors import KafkaConnectionError

    from hotline import topics

    async def never(settings: object, **_: object) -> None:
        raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092)]")

    monkeypatch.setattr(topics, "ensure_topics_with_retry", never)
    result = runner.invoke(cli.cli, ["worker"])
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert one_error_line(result).startswith("error: Kafka at 127.0.0.1:9092 did not answer")


def test_gateway_on_topics_with_other_partition_counts_says_so_and_exits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Retrying cannot fix it: an operator must choose the partitions or new topics.
    async def mismatch(settings: object) -> None:
        raise ConfigError("topics exist with other partition counts than the settings ask: x")

    served: list[object] = []
    monkeypatch.setattr(topics, "ensure_topics", mismatch)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(a))
    monkeypatch.setattr(health, "serve_metrics", lambda settings: None)
    result = runner.invoke(cli.cli, ["gateway"])
    assert result.exit_code == ExitCode.CONFIG
    assert "other partition counts" in one_error_line(result)
    assert served == []


def test_gateway_starts_before_kafka_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # It serves /healthz and 503s meanwhile, and connects when the broker answers.
    async def unreachable(settings: object) -> None:
        raise KafkaConnectionError("Unable to bootstrap")

    served: list[object] = []
    monkeypatch.setattr(topics, "ensure_topics", unreachable)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(a))
    monkeypatch.setattr(health, "serve_metrics", lambda settings: None)
    result = runner.invoke(cli.cli, ["gateway"])
    assert result.exit_code == 0, result.output
    assert len(served) == 1
