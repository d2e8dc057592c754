"""Settings validation: a process refuses, at start-up, a configuration that fails open."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hotline.credentials import digest
from hotline.settings import Settings


@pytest.fixture(autouse=True)
def _no_hotline_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test states its whole configuration; the shell running pytest must not add to it."""
    import os

    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    # Every production configuration below has its own id secret unless a test says otherwise.
    monkeypatch.setenv("HOTLINE_ID_SECRET", "a-deployment-id-secret")


def keys(**by_agency: str) -> dict[str, list[str]]:
    return {agency.replace("_", "-"): [digest(secret)] for agency, secret in by_agency.items()}


def production(**overrides: Any) -> Settings:
    """A valid production configuration, changed by `overrides`."""
    config: dict[str, Any] = {
        "mode": "production",
        "partner_keys": keys(vn_hanoi="p-hn", cn_beijing="p-bj"),
        "officer_tokens": keys(vn_hanoi="o-hn", cn_beijing="o-bj"),
        **overrides,
    }
    return Settings(**config)


def refused(**config: Any) -> str:
    with pytest.raises(ValidationError) as error:
        Settings(**config)
    return str(error.value)


# ---------------------------------------------------------------- dev mode and the network


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "hotline.example.org", ""])
@pytest.mark.parametrize("setting", ["gateway_host", "worker_host"])
def test_dev_mode_refuses_a_non_loopback_bind(setting: str, host: str) -> None:
    message = refused(**{setting: host})
    assert f"HOTLINE_{setting.upper()}" in message
    assert "HOTLINE_MODE=production" in message
    assert "HOTLINE_ALLOW_DEV_ON_NETWORK=true" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost"])
def test_dev_mode_on_loopback_is_allowed(host: str) -> None:
    settings = Settings(gateway_host=host, worker_host=host)
    assert settings.mode == "dev"


def test_dev_mode_on_the_network_when_explicitly_allowed() -> None:
    settings = Settings(gateway_host="0.0.0.0", worker_host="0.0.0.0", allow_dev_on_network=True)
    assert settings.mode == "dev" and settings.allow_dev_on_network


def test_allow_dev_on_network_is_off_by_default() -> None:
    assert Settings().allow_dev_on_network is False


def test_production_may_bind_any_interface() -> None:
    assert production(gateway_host="0.0.0.0", worker_host="0.0.0.0").mode == "production"


def test_the_allow_flag_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_GATEWAY_HOST", "0.0.0.0")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("HOTLINE_ALLOW_DEV_ON_NETWORK", "true")
    assert Settings().gateway_host == "0.0.0.0"


# ---------------------------------------------------------------- malformed digests

GOOD = digest("a long random key")
MALFORMED = [
    "hunter2",  # the key itself instead of its digest
    "sha256:" + "ab" * 31,  # too short
    "sha256:" + "ab" * 33,  # too long
    GOOD.upper().replace("SHA256", "sha256"),  # uppercase hex never matches digest()
    "SHA256:" + GOOD.removeprefix("sha256:"),
    " " + GOOD,
    GOOD + "\n",
    "sha1:" + "ab" * 20,
    "sha256:" + "g" * 64,
]


@pytest.mark.parametrize("bad", MALFORMED, ids=repr)
@pytest.mark.parametrize("mode", ["dev", "production"])
def test_malformed_partner_key_digests_are_refused(mode: str, bad: str) -> None:
    message = refused(
        mode=mode,
        partner_keys={"vn-hanoi": [GOOD], "cn-beijing": [bad]},
        officer_tokens=keys(vn_hanoi="o-hn"),
    )
    assert "HOTLINE_PARTNER_KEYS" in message and "cn-beijing" in message
    assert "hash-secret" in message
    if bad.strip() == "hunter2":
        assert "hunter2" not in message, "a mistyped secret must not reach the logs"


@pytest.mark.parametrize("bad", MALFORMED, ids=repr)
def test_malformed_officer_token_digests_are_refused(bad: str) -> None:
    message = refused(
        mode="production",
        partner_keys=keys(vn_hanoi="p-hn"),
        officer_tokens={"vn-hanoi": [bad]},
    )
    assert "HOTLINE_OFFICER_TOKENS" in message and "vn-hanoi" in message


# ---------------------------------------------------------------- duplicate digests


@pytest.mark.parametrize("mode", ["dev", "production"])
def test_one_digest_twice_for_one_agency_is_refused(mode: str) -> None:
    message = refused(
        mode=mode,
        partner_keys={"vn-hanoi": [GOOD, GOOD]},
        officer_tokens=keys(vn_hanoi="o-hn"),
    )
    assert "HOTLINE_PARTNER_KEYS" in message and "vn-hanoi" in message


@pytest.mark.parametrize("mode", ["dev", "production"])
def test_one_digest_under_two_agencies_is_refused(mode: str) -> None:
    message = refused(
        mode=mode,
        partner_keys={"vn-hanoi": [GOOD], "cn-beijing": [GOOD]},
        officer_tokens=keys(vn_hanoi="o-hn"),
    )
    assert "HOTLINE_PARTNER_KEYS" in message
    assert "vn-hanoi" in message and "cn-beijing" in message


@pytest.mark.parametrize("mode", ["dev", "production"])
def test_one_digest_as_partner_key_and_officer_token_is_refused(mode: str) -> None:
    message = refused(
        mode=mode, partner_keys={"vn-hanoi": [GOOD]}, officer_tokens={"vn-hanoi": [GOOD]}
    )
    assert "HOTLINE_PARTNER_KEYS" in message and "HOTLINE_OFFICER_TOKENS" in message


def test_a_demo_key_configured_as_the_other_role_is_refused_in_dev() -> None:
    """Dev mode falls back to the demo officer tokens: a partner key may not be one of them."""
    message = refused(partner_keys={"vn-hanoi": [digest("demo-officer-vn-hanoi")]})
    assert "HOTLINE_PARTNER_KEYS" in message and "HOTLINE_OFFICER_TOKENS" in message


def test_distinct_digests_are_accepted() -> None:
    settings = production()
    assert settings.partner_digests == {digest("p-hn"): "vn-hanoi", digest("p-bj"): "cn-beijing"}
    assert settings.officer_digests == {digest("o-hn"): "vn-hanoi", digest("o-bj"): "cn-beijing"}


def test_production_still_refuses_the_demo_credentials() -> None:
    with pytest.raises(ValidationError, match="demo"):
        production(partner_keys={"vn-hanoi": [digest("demo-partner-vn-hanoi")]})


def test_production_still_needs_keys_and_tokens() -> None:
    message = refused(mode="production")
    assert "HOTLINE_PARTNER_KEYS" in message and "HOTLINE_OFFICER_TOKENS" in message


# ---------------------------------------------------------------- operator tokens


def test_dev_mode_falls_back_to_the_demo_operator_token() -> None:
    assert Settings().operator_digests == frozenset({digest("demo-operator")})


def test_configured_operator_tokens_replace_the_demo_one() -> None:
    settings = Settings(operator_tokens=[digest("op-1"), digest("op-2")])
    assert settings.operator_digests == frozenset({digest("op-1"), digest("op-2")})


def test_operator_tokens_come_from_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_OPERATOR_TOKENS", f'["{digest("op-1")}"]')
    assert Settings().operator_tokens == [digest("op-1")]


def test_production_without_operator_tokens_has_none() -> None:
    assert production().operator_digests == frozenset()


def test_production_refuses_the_demo_operator_token() -> None:
    with pytest.raises(ValidationError, match="demo"):
        production(operator_tokens=[digest("demo-operator")])


@pytest.mark.parametrize("bad", MALFORMED, ids=repr)
def test_malformed_operator_token_digests_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="HOTLINE_OPERATOR_TOKENS"):
        production(operator_tokens=[bad])


@pytest.mark.parametrize("role", ["partner_keys", "officer_tokens"])
@pytest.mark.parametrize("mode", ["dev", "production"])
def test_an_operator_token_may_not_be_an_agency_credential(mode: str, role: str) -> None:
    config: dict[str, Any] = {
        "mode": mode,
        "partner_keys": keys(vn_hanoi="p-hn"),
        "officer_tokens": keys(vn_hanoi="o-hn"),
        "operator_tokens": [GOOD],
    }
    config[role] = {"vn-hanoi": [GOOD]}
    message = refused(**config)
    assert "HOTLINE_OPERATOR_TOKENS" in message and f"HOTLINE_{role.upper()}" in message


def test_a_partner_key_may_not_be_the_demo_operator_token_in_dev() -> None:
    message = refused(partner_keys={"vn-hanoi": [digest("demo-operator")]})
    assert "HOTLINE_OPERATOR_TOKENS" in message


def test_one_operator_token_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="HOTLINE_OPERATOR_TOKENS"):
        production(operator_tokens=[GOOD, GOOD])


def test_the_separate_metrics_port_is_off_by_default() -> None:
    assert Settings().metrics_port is None
    assert Settings(metrics_port=9100).metrics_port == 9100


def test_production_refuses_the_demo_id_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_ID_SECRET")
    with pytest.raises(ValidationError, match="HOTLINE_ID_SECRET"):
        production()


# ---------------------------------------------------------------- .env


@pytest.fixture
def dotenv(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A working directory with a `.env`, read as a process started there would read it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(Settings.model_config, "env_file", ".env")
    monkeypatch.delenv("HOTLINE_ID_SECRET")
    return tmp_path / ".env"


def test_settings_read_dotenv_in_the_working_directory(dotenv: Any) -> None:
    # The Compose `.env` of docs/operations.md: quoted JSON, comments, Compose-only names.
    dotenv.write_text(
        "# .env\n"
        f'HOTLINE_PARTNER_KEYS=\'{{"vn-hanoi": ["{digest("p-hn")}"]}}\'\n'
        "HOTLINE_ID_SECRET='from-dotenv'   # kept for good\n"
        "HOTLINE_ESCALATION_SECONDS=90\n"
        "HOTLINE_OPERATOR_TOKEN_FILE=/etc/hotline/secrets/operator-token\n"
        "GRAFANA_ADMIN_PASSWORD='not-a-hotline-setting'\n",
        encoding="utf-8",
    )
    settings = Settings()
    assert settings.partner_keys == {"vn-hanoi": [digest("p-hn")]}
    assert settings.id_secret.get_secret_value() == "from-dotenv"
    assert settings.escalation_seconds == 90.0


def test_the_environment_wins_over_dotenv(dotenv: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv.write_text("HOTLINE_ESCALATION_SECONDS=90\nHOTLINE_LOG_LEVEL=DEBUG\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_ESCALATION_SECONDS", "45")
    settings = Settings()
    assert (settings.escalation_seconds, settings.log_level) == (45.0, "DEBUG")


def test_settings_are_read_once_not_on_every_use(dotenv: Any) -> None:
    """A process keeps the configuration it started with: editing `.env` later changes
    nothing until a restart (the settings are frozen and never re-read)."""
    dotenv.write_text("HOTLINE_ESCALATION_SECONDS=90\n", encoding="utf-8")
    settings = Settings()
    dotenv.write_text("HOTLINE_ESCALATION_SECONDS=10\n", encoding="utf-8")
    assert settings.escalation_seconds == 90.0
    with pytest.raises(ValidationError):
        settings.escalation_seconds = 10.0  # type: ignore[misc]


def test_no_dotenv_is_fine(dotenv: Any) -> None:
    assert not dotenv.exists()
    assert Settings().mode == "dev"


# ---------------------------------------------------------------- the README's table

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_rows() -> list[tuple[list[str], list[str]]]:
    """(variables, backticked defaults) of each row of the README's configuration table."""
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`HOTLINE_"):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), re.findall(r"`([^`]+)`", cells[1])))
    return rows


def _shown(default: object) -> str | None:
    """A scalar default as the README writes it; None for defaults described in words."""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    if isinstance(default, int | float | str | Path):
        return str(default)
    return None


def test_every_setting_has_a_readme_row_and_every_row_is_a_setting() -> None:
    fields = {f"HOTLINE_{name.upper()}" for name in Settings.model_fields}
    documented = [var for variables, _ in _readme_rows() for var in variables]
    assert len(documented) == len(set(documented)), "a variable has two rows"
    assert not fields - set(documented), f"not in the README: {sorted(fields - set(documented))}"
    assert not set(documented) - fields, f"not settings: {sorted(set(documented) - fields)}"


def test_readme_defaults_match_the_code() -> None:
    for variables, defaults in _readme_rows():
        if len(defaults) < len(variables):
            continue  # a default in words ("demo keys in dev", "off")
        for var, shown in zip(variables, defaults, strict=False):
            field = Settings.model_fields[var.removeprefix("HOTLINE_").lower()]
            expected = _shown(field.default)
            if expected is not None:
                assert shown == expected, f"README says {var} defaults to {shown}, not {expected}"
