"""`triage rules ...`: check, test and simulate a council's rule set."""

from __future__ import annotations

from pathlib import Path

import click

from config.profile import ProfileError, load_profile


@click.group("rules")
def rules_group() -> None:
    """The council profile's checklist, rules and pathways."""


def _profile(path: str | None):
    from config.settings import Settings

    try:
        return load_profile(path or Settings.from_env().profile)
    except ProfileError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1) from None


@rules_group.command("check")
@click.option("--profile", "profile_path", default=None,
              help="A profile name or folder (default: TRIAGE_PROFILE).")
def check(profile_path: str | None) -> None:
    """Validate the profile: checklist, services, localities, decision graph, pathways,
    match weights, reports."""
    import rules
    import workflows
    from triage.services.reports.catalogue import check_reports

    profile = _profile(profile_path)
    problems = list(rules.check(profile))
    try:
        pathways = workflows.load_pathways(profile)
        problems += list(pathways.check())
        problems += check_reports(profile, pathways.data)
    except workflows.WorkflowError as exc:
        problems += list(exc.problems)
    if "demo" in profile.files:
        from config.demo import read_demo_data
        from triage.models.account import Role

        problems += read_demo_data(profile, roles=list(Role.__members__))[1]
    errors = [p for p in problems if not p.message.startswith("warning:")]
    for problem in problems:
        prefix = "" if problem.message.startswith("warning:") else "error: "
        click.echo(f"{prefix}{problem}", err=True)
    if errors:
        raise SystemExit(1)
    click.echo(f"profile {profile.id}: checklist {profile.checklist.id} v"
               f"{profile.checklist.version} ({len(profile.checklist.questions)} questions), "
               f"{len(profile.services)} services, {len(profile.localities)} postcode sectors "
               f"({_unit_counts(profile)}), "
               f"{len(profile.levels)} levels ({', '.join(profile.levels)}), "
               f"{sum(1 for t in profile.teams if t.service)} teams, "
               f"allocation: {_allocation(profile)}, "
               f"rules v{rules.load(profile).version}, matching bands "
               f"{' / '.join(f'{b} {t:g}' for b, t in profile.matching.bands.items())} bits: "
               "no errors "
               f"({len(problems)} warnings)")


def _allocation(profile) -> str:
    """Which services balance new cases within which unit ("none" without a block)."""
    return "; ".join(f"{a.service} within {a.unit}" for a in profile.allocation) or "none"


def _unit_counts(profile) -> str:
    """How many values of each locality unit the profile has (each unit's label and count)."""
    localities = profile.localities
    return ", ".join(f"{localities.label(c)} {len(localities.values(c))}"
                     for c in localities.columns)


@rules_group.command("test")
@click.option("--profile", "profile_path", default=None)
def test(profile_path: str | None) -> None:
    """Run the profile's worked examples against its rules."""
    import rules

    profile = _profile(profile_path)
    try:
        ruleset = rules.load(profile)
    except rules.RuleError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1) from None
    from rules.examples import example_problems

    problems = example_problems(profile)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    results = rules.run_examples(profile, ruleset)
    failed = [r for r in results if not r.passed]
    for r in results:
        click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.name}")
        for difference in ([] if r.passed else r.differences):
            click.echo(f"      {difference}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed or not results:
        raise SystemExit(1)


@rules_group.command("example")
@click.option("--profile", "profile_path", default=None)
@click.option("--name", default=None, help="A worked example's name (default: the first one "
              "routed to a service without review).")
@click.option("--consent", default="given", show_default=True)
def example(profile_path: str | None, name: str | None, consent: str) -> None:
    """Print a worked example as a referral body (JSON) the API takes, for trying the
    profile with curl."""
    import json
    from datetime import date

    from rules.examples import first_routed_example, load_examples, referral_body

    profile = _profile(profile_path)
    examples = load_examples(profile)
    if name is None:
        try:
            n, chosen = first_routed_example(profile)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        found = [(n, e) for n, e in enumerate(examples) if e.get("name") == name]
        if not found:
            raise click.ClickException(f"profile {profile.id} has no worked example named "
                                       f"{name!r}")
        n, chosen = found[0]
    click.echo(json.dumps(referral_body(chosen, today=date.today(), n=n, consent=consent,
                                        channel="partner"), indent=2))


@rules_group.command("simulate")
@click.option("--candidate", required=True, type=click.Path(exists=True, path_type=Path),
              help="A candidate profile folder, or a candidate decision-graph JSON file.")
@click.option("--limit", default=None, type=int, help="Only the newest N referrals.")
def simulate(candidate: Path, limit: int | None) -> None:
    """Re-decide every stored referral with a candidate rule set; show what would change."""
    from rules import RuleError
    from triage import create_app
    from triage.services.referrals.simulation import simulate_stored

    app = create_app(background=False)
    try:
        report = simulate_stored(app.extensions["triage"], candidate=candidate, limit=limit)
    except (ProfileError, RuleError) as exc:
        click.echo(f"the candidate {candidate} cannot be used:", err=True)
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1) from None
    click.echo(report)
