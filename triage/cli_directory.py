"""`triage directory ...`: loading partners' Open Referral UK feeds into the directory."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("directory")
def directory_group() -> None:
    """The service directory (partners' services, published at /services and /oruk/)."""


@directory_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_file(file: Path) -> None:
    """Load a partner's ORUK feed file (a 1.0 or 3.0 page of services): all or nothing."""
    from triage.cli import _app
    from triage.services.directory import importer

    app = _app()
    rt = app.extensions["triage"]
    try:
        loaded = importer.load(rt, file)
    except importer.ImportProblems as exc:
        click.echo(f"error: {exc.message}", err=True)
        for where, messages in exc.errors.items():
            for message in messages:
                click.echo(f"error: {where}: {message}", err=True)
        raise SystemExit(1) from None
    finally:
        rt.db.dispose()
    click.echo(f"imported {loaded.services} services (ORUK {loaded.format}) from "
               f"{loaded.organisations} organisations: {loaded.created} new, {loaded.updated} "
               f"updated; {loaded.stale} stale (assured over 90 days ago or never)")
