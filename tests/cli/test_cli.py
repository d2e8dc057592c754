"""`hotline hash-secret`: the secret never appears on the command line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import main as cli
from hotline.credentials import digest

runner = CliRunner()
SECRET = "a long random key with spaces"


@pytest.mark.parametrize("line", [SECRET + "\n", SECRET, SECRET + "\r\n"], ids=repr)
def test_hash_secret_reads_one_line_from_standard_input(line: str) -> None:
    result = runner.invoke(cli.cli, ["hash-secret"], input=line)
    assert result.exit_code == 0, result.output
    assert result.stdout == digest(SECRET) + "\n"


def test_hash_secret_keeps_other_whitespace() -> None:
    result = runner.invoke(cli.cli, ["hash-secret"], input=f" {SECRET} \n")
    assert result.stdout == digest(f" {SECRET} ") + "\n"


def test_hash_secret_refuses_a_secret_on_the_command_line() -> None:
    result = runner.invoke(cli.cli, ["hash-secret", SECRET], input="")
    assert result.exit_code != 0
    assert digest(SECRET) not in result.output
    assert "standard input" in result.output and "hotline hash-secret" in result.output
    assert SECRET not in result.output


@pytest.mark.parametrize("given", ["", "\n"], ids=repr)
def test_hash_secret_refuses_an_empty_secret(given: str) -> None:
    result = runner.invoke(cli.cli, ["hash-secret"], input=given)
    assert result.exit_code == 1
    assert "empty" in result.output and "sha256:" not in result.output


def test_hash_secret_refuses_more_than_one_line() -> None:
    result = runner.invoke(cli.cli, ["hash-secret"], input="one\ntwo\n")
    assert result.exit_code == 1
    assert "one secret" in result.output and "sha256:" not in result.output


def test_hash_secret_prompts_twice_without_echo_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return SECRET

    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(cli.getpass, "getpass", getpass)
    result = runner.invoke(cli.cli, ["hash-secret"])
    assert result.exit_code == 0, result.output
    assert result.stdout == digest(SECRET) + "\n"
    assert len(prompts) == 2


def test_hash_secret_refuses_two_different_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([SECRET, SECRET + "x"])
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    result = runner.invoke(cli.cli, ["hash-secret"])
    assert result.exit_code == 1
    assert "do not match" in result.output and "sha256:" not in result.output
