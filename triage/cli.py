"""The `triage` command: migrations, demo data, users and tokens, rules, the server and worker."""

from __future__ import annotations

import sys

import click

from config.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _app():
    from triage import create_app

    return create_app(_settings(), background=False)


@click.group()
def main() -> None:
    """Early Help triage: referral triage and case routing."""


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations to the configured database."""
    from triage.db import Database
    from triage.migrations import upgrade

    database = Database.from_settings(_settings())
    upgrade(database.engine, revision)
    database.dispose()
    click.echo(f"database at {revision}")


@main.group()
def demo() -> None:
    """Demonstration data (never in production)."""


@demo.command("load")
@click.option("--referrals", default=300, show_default=True)
def demo_load(referrals: int) -> None:
    """Load demo users and referrals through the real intake service (idempotent)."""
    from triage.demo import load_demo

    settings = _settings()
    if settings.env == "production":
        raise click.ClickException("demo data is refused in production (TRIAGE_ENV=production)")
    from triage.logs import to_file

    settings.instance_path.mkdir(parents=True, exist_ok=True)
    log_path = settings.instance_path / "demo-load.log"
    to_file(log_path)
    app = _app()
    summary = load_demo(app.extensions["triage"], referrals=referrals)
    app.extensions["triage"].relay.tick()
    app.extensions["triage"].relay.drain(timeout=120)
    click.echo(summary)
    click.echo(f"(its log: {log_path})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the web app and API under gunicorn."""
    from triage.server import run_gunicorn

    _settings()
    run_gunicorn(host=host, port=port, workers=workers, threads=threads)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--beat/--no-beat", default=True, show_default=True,
              help="Also run the periodic sweeps (one worker with --beat per deployment).")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(beat: bool, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (needs TRIAGE_REDIS_URL)."""
    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("TRIAGE_REDIS_URL is not set; without it tasks run "
                                   "in-process inside `triage serve` and no worker is needed.")
    from triage.worker import celery

    argv = ["worker", "--loglevel", settings.log_level, "--concurrency", "2"]
    if beat:
        argv.append("--beat")
    celery.worker_main([*argv, *celery_args])


@main.group()
def users() -> None:
    """Staff and partner accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True)
@click.option("--team", default=None, help="Staff: a team of the profile (a service, "
                                           "service:instance, or a teams.yaml team). "
                                           "Partners: their organisation.")
@click.option("--organisation", default=None)
@click.option("--name", default=None)
@click.option("--password", default=None, help="Omit to be asked (not echoed).")
def users_create(email, role, team, organisation, name, password) -> None:
    """Create a staff user (or a partner: role partner with an organisation)."""
    from triage.errors import ValidationFailed
    from triage.models import Role
    from triage.services.accounts import users

    if role == "partner" and organisation is None:
        organisation, team = team, None
    if password is None and sys.stdin.isatty():
        password = click.prompt("Password (12+ characters)", hide_input=True,
                                confirmation_prompt=True)
    app = _app()
    from triage.services.accounts.admin import roles_offered

    offered = roles_offered(app.extensions["triage"])
    if role in Role.__members__ and role not in offered:  # not a role under this profile
        raise click.ClickException(f"role: must be one of: {', '.join(offered)}.")
    try:
        user = users.create_user(app.extensions["triage"].db, email=email, role=role,
                                    team=team, organisation=organisation, name=name,
                                    password=password,
                                    teams=app.extensions["triage"].profile.teams)
    except ValidationFailed as exc:
        raise click.ClickException(_problems(exc.errors)) from None
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@main.group()
def tokens() -> None:
    """API tokens (shown once, stored hashed)."""


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--label", default=None)
def tokens_create(email: str, label: str | None) -> None:
    """Print a new API token for a user."""
    from triage.errors import ValidationFailed
    from triage.services.accounts import users

    app = _app()
    try:
        token = users.create_token(app.extensions["triage"].db, email=email, label=label)
    except ValidationFailed as exc:
        raise click.ClickException(_problems(exc.errors)) from None
    click.echo(token)


@tokens.command("revoke")
@click.option("--prefix", required=True, help="The first 12 characters of the token.")
def tokens_revoke(prefix: str) -> None:
    """Revoke a token by its prefix."""
    from triage.services.accounts import users

    app = _app()
    count = users.revoke_token(app.extensions["triage"].db, prefix=prefix)
    click.echo(f"revoked {count} token(s)")


@main.group()
def people() -> None:
    """People records."""


@people.command("find-duplicates")
def people_find_duplicates() -> None:
    """Queue pairs of stored people who may be one person for staff to check (the nightly
    job, run now; needs the `linkage` extra). Prints counts only."""
    from triage.services.people.duplicates import find_duplicates

    app = _app()
    rt = app.extensions["triage"]
    result = find_duplicates(rt)
    rt.db.dispose()
    if result.message:
        click.echo(result.message)
        return
    click.echo(f"people read: {result.people}; pairs found: {result.pairs}; "
               f"queued: {result.queued}; skipped: {result.skipped}")


@main.group()
def reports() -> None:
    """Reports for managers and commissioners."""


@reports.command("refresh")
def reports_refresh() -> None:
    """Count every report's figures again now (the periodic sweep does it hourly). Prints how
    long it took and how many tallies it wrote; counts only, no personal data."""
    from triage.services.reports.refresh import refresh

    app = _app()
    rt = app.extensions["triage"]
    result = refresh(rt)
    rt.db.dispose()
    click.echo(f"tallies: {result.tallies}; took {result.took_ms} ms; "
               f"counted at {result.refreshed_at.isoformat()}")


def _problems(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())


from triage.cli_rules import rules_group  # noqa: E402  (kept in its own module)

main.add_command(rules_group)

from triage.cli_directory import directory_group  # noqa: E402  (kept in its own module)

main.add_command(directory_group)
