"""`hotline` console command: run the whole hotline locally, or one component of it.

Each command imports what it runs inside its own function, not for a circle (there is none:
cli sits above every package) but so that `hotline import` or `hotline lookup` on a partner's
machine starts without loading Faust, FastAPI or the broker tools.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from cli import partner_commands
from cli.exits import CommandError, ExitCode, settings_problem
from hotline import __version__
from hotline.credentials import digest
from hotline.settings import Settings


class _Commands(TyperGroup):
    """Turns the failures an operator can act on into one line and its exit code
    (cli/exits.py); anything else keeps its traceback, as a bug should."""

    # Any: typer's own click Context (vendored since 0.24) or click's, by typer version.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CommandError as exc:
            raise _fail(exc.message, exc.code) from None
        except ValidationError as exc:
            if exc.title != Settings.__name__:
                raise
            raise _fail(settings_problem(exc.errors()), ExitCode.CONFIG) from None


cli = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    help="Live alert hotline between partner law-enforcement agencies.",
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"hotline {__version__}")
        raise typer.Exit()


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


@cli.command()
def up(
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Post demo traffic.")] = True,
) -> None:
    """Start broker, worker, gateway (and demo traffic); Ctrl-C stops them all."""
    from cli.supervisor import run_all

    raise typer.Exit(run_all(Settings(), demo=demo))


@cli.command()
def kafka(
    port: Annotated[
        int | None, typer.Option(help="Listener port (default HOTLINE_KAFKA_PORT).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Broker data directory.")] = None,
) -> None:
    """Fetch (first time) and run a single-node Kafka broker on 127.0.0.1."""
    from cli.kafka_jars import BrokerError
    from cli.kafka_serve import serve

    settings = Settings()
    try:
        code = serve(
            port=port or settings.kafka_port, data_dir=data_dir or settings.data_dir / "kafka"
        )
    except BrokerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


class LaneChoice(StrEnum):
    urgent = "urgent"
    bulk = "bulk"


@cli.command()
def worker(
    lane: Annotated[
        LaneChoice | None,
        typer.Option(
            help="Run one lane only (urgent: urgent alerts, acknowledgements, escalations and "
            "the case index; bulk: imports). Default: both, in this one process."
        ),
    ] = None,
) -> None:
    """Run one Faust stream worker against the configured broker."""
    from aiokafka.errors import KafkaError

    from hotline import logs
    from hotline.errors import ConfigError
    from hotline.fields import Lane
    from hotline.topics import ensure_topics_with_retry
    from streams.app import LANES, changelog_topics, create_app
    from streams.runner import Worker

    settings = Settings()
    logs.configure(settings.log_level)

    def ensure(changelogs: list[tuple[str, int]]) -> None:
        try:
            loop.run_until_complete(ensure_topics_with_retry(settings, changelogs=changelogs))
        except KafkaError as exc:
            raise CommandError(
                f"Kafka at {settings.kafka_bootstrap} did not answer ({exc})",
                ExitCode.UNAVAILABLE,
            ) from None
        except ConfigError as exc:
            raise CommandError(exc.detail, ExitCode.CONFIG) from None

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ensure([])  # the hotline's topics, before anything else is set up
    lanes: tuple[Lane, ...] = LANES if lane is None else ("urgent" if lane == "urgent" else "bulk",)
    if lanes == ("bulk",) and settings.bulk_lane_nice:
        os.nice(settings.bulk_lane_nice)
    app = create_app(settings, lanes)
    ensure(changelog_topics(app))  # then its tables' changelogs (see hotline.topics)
    Path(app.conf.datadir).parent.mkdir(parents=True, exist_ok=True)  # Faust makes only the last
    Worker(
        app,
        loglevel=settings.log_level,
        quiet=True,
        logging_config=logs.dict_config(settings.log_level),
    ).execute_from_commandline()


@cli.command()
def gateway() -> None:
    """Run one HTTP + WebSocket gateway against the configured broker."""
    import uvicorn

    from gateway.health import serve_metrics
    from hotline import logs
    from hotline.errors import ConfigError
    from hotline.topics import check_topics_if_reachable

    settings = Settings()
    logs.configure(settings.log_level)
    # Topics that exist with other partition counts are a deployment error, not a broker that
    # is not up yet: said at once, with the worker's exit code, instead of retried forever.
    try:
        asyncio.run(check_topics_if_reachable(settings))
    except ConfigError as exc:
        raise CommandError(exc.detail, ExitCode.CONFIG) from None
    serve_metrics(settings)
    uvicorn.run(
        "gateway.main:create_app",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        ws_max_size=64 * 1024,
        # Events are small JSON sent to many sockets: per-socket deflate costs more CPU in
        # a fan-out than it saves on a LAN.
        ws_per_message_deflate=False,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


@cli.command()
def demo(
    url: Annotated[str, typer.Option(help="Gateway base URL.")] = "http://127.0.0.1:8000",
    rate: Annotated[
        float, typer.Option(help="Generated alerts per second after the demo file.")
    ] = 0.5,
    once: Annotated[bool, typer.Option(help="Post the demo file once, then stop.")] = False,
) -> None:
    """Post demo alerts as the three demo agencies."""
    from cli.demo.traffic import run_demo

    try:
        asyncio.run(run_demo(url.rstrip("/"), rate=rate, loop_forever=not once))
    except KeyboardInterrupt:
        pass
    except TimeoutError as exc:  # the gateway never became ready
        raise CommandError(str(exc), ExitCode.UNAVAILABLE) from None


# The partner-side commands (cli/partner_commands.py).
cli.command(name="import")(partner_commands.import_numbers)
cli.command()(partner_commands.lookup)
cli.add_typer(partner_commands.numbers, name="numbers")
cli.add_typer(partner_commands.audit, name="audit")


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _fail(message: str, code: int = ExitCode.FAILED) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


# Extra arguments are accepted only to refuse them with a useful message: a secret on the
# command line is already in the shell's history and visible to every user through `ps`.
@cli.command(
    name="hash-secret",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def hash_secret(ctx: typer.Context) -> None:
    """Print the digest of a key or token read from standard input or a hidden prompt."""
    if ctx.args:
        raise _fail(
            "hash-secret takes no secret on the command line (shell history and `ps` keep it; "
            "treat that one as exposed). Pipe it on standard input, "
            "`printf '%s\\n' \"$KEY\" | hotline hash-secret`, or run `hotline hash-secret` "
            "and type it.",
            code=ExitCode.USAGE,
        )
    if _stdin_is_terminal():
        secret = getpass.getpass("Secret: ")
        if getpass.getpass("Again: ") != secret:
            raise _fail("the two entries do not match")
    else:
        # One line; a CR too, for a file saved on Windows.
        secret = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if sys.stdin.read().strip():
            raise _fail("one secret per run: standard input has more than one line")
    if not secret:
        raise _fail("empty secret")
    typer.echo(digest(secret))


def main() -> None:
    sys.exit(cli())
