"""The bench's importer process: its lines are what the HTTP phases read."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from bench import importer


class _Gateway(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = len(body.splitlines())
        doc = {"accepted": n, "rejected": 0, "items": [{"status": 202}] * n}
        raw = orjson.dumps(doc)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gateway_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        signal.signal(signal.SIGTERM, previous)  # the importer installs its own
        server.shutdown()


def test_a_run_prints_a_line_per_batch_and_a_summary(
    gateway_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    importer.run(gateway_url, "k", seed=1, skip=0, count=7, tag="t", batch=3)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["items"] for line in lines[:-1]] == [3, 3, 1]
    summary = lines[-1]
    assert summary["summary"] is True
    assert (summary["sent"], summary["accepted"], summary["rejected"]) == (7, 7, 0)
    assert summary["stopped_early"] is False
    assert summary["item_statuses"] == {"202": 7}
