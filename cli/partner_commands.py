"""The partner-side commands: what a partner's machine runs against a gateway.

`hotline import`, `hotline lookup` and `hotline numbers sync`; cli/main.py registers them.
Each imports its client inside (cli/importer.py, cli/lookup.py, cli/numbers_sync.py), so a
partner's machine starts them without loading Faust, FastAPI or the broker tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.exits import CommandError, ExitCode


def import_numbers(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (a 'number' column, else the first; a header is optional) or NDJSON"
            " of scam numbers."
        ),
    ],
    key: Annotated[str, typer.Option(envvar="HOTLINE_PARTNER_KEY", help="Partner API key.")],
    url: Annotated[str, typer.Option(help="Gateway base URL.")] = "http://127.0.0.1:8000",
    batch: Annotated[int, typer.Option(min=1, help="Alerts per request.")] = 5000,
    attempts: Annotated[
        int,
        typer.Option(
            min=1, help="Sends of one batch (gateway unreachable or busy) before giving up."
        ),
    ] = 10,
) -> None:
    """Post a scam-number list through the bulk lane, with a progress bar."""
    from cli.importer import run_import

    code = run_import(file, url=url.rstrip("/"), key=key, batch=batch, attempts=attempts)
    raise typer.Exit(code)


def lookup(
    key: Annotated[
        str,
        typer.Option(
            envvar=["HOTLINE_PARTNER_KEY", "HOTLINE_OFFICER_TOKEN"],
            help="Partner API key or duty-officer token.",
        ),
    ],
    number: Annotated[
        str | None, typer.Option(help="A phone number, any format (yours: no country code).")
    ] = None,
    document: Annotated[str | None, typer.Option(help="An identity document's number.")] = None,
    country: Annotated[str | None, typer.Option(help="With --document: issuing country.")] = None,
    doc_type: Annotated[
        str | None, typer.Option("--type", help="With --document: passport, national_id, ...")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A person's full name, any script.")] = None,
    dob: Annotated[str | None, typer.Option(help="With --name: date of birth, YYYY-MM-DD.")] = None,
    url: Annotated[str, typer.Option(help="Gateway base URL.")] = "http://127.0.0.1:8000",
) -> None:
    """Look up a number, a document or a person among what partners shared with you."""
    from rich.console import Console

    from cli.lookup import fetch, render

    given = {
        "number": number,
        "document": document,
        "country": country,
        "type": doc_type,
        "name": name,
        "date_of_birth": dob,
    }
    params = {k: v for k, v in given.items() if v}
    if not {"number", "document", "name"} & set(params):
        raise CommandError("give --number, --document, or --name with --dob", ExitCode.USAGE)
    render(fetch(url.rstrip("/"), key, params), Console())


numbers = typer.Typer(help="The scam numbers partners shared with you.", no_args_is_help=True)


@numbers.command("sync")
def numbers_sync(
    out: Annotated[Path, typer.Option(help="The blocklist file: one E.164 number per line.")],
    key: Annotated[
        str,
        typer.Option(
            envvar=["HOTLINE_PARTNER_KEY", "HOTLINE_OFFICER_TOKEN"],
            help="Partner API key or duty-officer token.",
        ),
    ],
    url: Annotated[str, typer.Option(help="Gateway base URL.")] = "http://127.0.0.1:8000",
    follow: Annotated[
        bool, typer.Option(help="Keep the file current: ask again every --every seconds.")
    ] = False,
    every: Annotated[float, typer.Option(min=1.0, help="Seconds between syncs (--follow).")] = 10.0,
) -> None:
    """Bring a local blocklist file up to date with the numbers shared with you."""
    from cli.numbers_sync import sync

    sync(url.rstrip("/"), key, out, follow=follow, every=every, note=typer.echo)


audit = typer.Typer(
    help="Your agency's audit record: every exchange, hash-chained.", no_args_is_help=True
)


@audit.command("export")
def audit_export(
    out: Annotated[
        Path, typer.Option(help="The file to write (NDJSON, or CSV with --format csv).")
    ],
    key: Annotated[
        str,
        typer.Option(
            envvar=["HOTLINE_PARTNER_KEY", "HOTLINE_OFFICER_TOKEN"],
            help="Partner API key or duty-officer token.",
        ),
    ],
    since: Annotated[str | None, typer.Option(help="ISO 8601 time with its zone.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 time with its zone.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="ndjson or csv.")] = "ndjson",
    url: Annotated[str, typer.Option(help="Gateway base URL.")] = "http://127.0.0.1:8000",
) -> None:
    """Write your agency's audit entries to a file, with a progress display."""
    from cli.audit import export

    if fmt not in ("ndjson", "csv"):
        raise CommandError("--format is ndjson or csv", ExitCode.USAGE)
    n = export(url.rstrip("/"), key, out, since=since, until=until, fmt=fmt, note=typer.echo)  # type: ignore[arg-type]
    typer.echo(f"{out}: {n:,} entries")


@audit.command("verify")
def audit_verify(
    file: Annotated[Path, typer.Argument(help="An export of `hotline audit export`.")],
) -> None:
    """Check an export's hash chain: no entry removed, altered or out of order."""
    from cli.audit import verify

    n, found = verify(file)
    if found is not None:
        raise CommandError(
            f"{file}: the chain breaks at entry {found.index + 1}: {found.reason}",
            ExitCode.DATA_ERROR,
        )
    typer.echo(f"{file}: {n:,} entries, the chain holds")
