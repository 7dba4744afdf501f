"""``logsieve check``: is this account's logging set up so that alerts can work?"""

from __future__ import annotations

import sys

import boto3
import botocore.exceptions
import click

from logsieve import __version__
from logsieve.check import Account, CannotRun, Result, as_json, run_checks, sarif, table


@click.command()
@click.option("--profile", help="The AWS CLI profile to use (default: the standard chain).")
@click.option("--region", help="The region to check (default: the profile's).")
@click.option("--all-regions", is_flag=True, help="Check every region enabled for the account.")
@click.option("--endpoint-url", help="Another endpoint, e.g. a logsieve server or moto.")
@click.option(
    "--output", "fmt", type=click.Choice(["table", "json", "sarif"]), default="table",
    help="table (default), json, or SARIF 2.1.0 for CI systems.",
)  # fmt: skip
@click.option("--json", "as_json_flag", is_flag=True, help="Same as --output json.")
@click.option("--check", "only", multiple=True, help="Run only this check id (repeatable).")
@click.option("--fix", is_flag=True, help="Show the calls that would fix what fails.")
@click.option("--yes", is_flag=True, help="With --fix: make those calls.")
def check(
    profile: str | None, region: str | None, all_regions: bool, endpoint_url: str | None,
    fmt: str, as_json_flag: bool, only: tuple[str, ...], fix: bool, yes: bool,
) -> None:  # fmt: skip
    """Check the logging posture of an account: CloudTrail to CloudWatch Logs, VPC flow logs,
    Client VPN connection logging, the CIS monitoring controls, retention, subscriptions.

    Read-only unless --fix --yes. The account is named first (sts:GetCallerIdentity; when
    that is refused the checks still run and the missing permission is named). Exit 0 when
    every check passes, 1 when one fails, 2 when the checks could not run (the permission they
    lacked is named).
    """
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        regions = [session.region_name or "us-east-1"]
        first = Account(session, regions[0], endpoint_url)
        caller = first.caller()  # read once: an account is the same in every region
        if all_regions:
            regions = [r["RegionName"] for r in first.read("ec2", "describe_regions", "Regions")]
        results: list[Result] = []
        for name in regions:
            account = Account(session, name, endpoint_url)
            account.account_id = caller.account
            results += run_checks(account, only or None)
    except CannotRun as refused:
        click.echo(f"logsieve check: could not run: missing permission {refused.permission} "
                   f"({refused.message})", err=True)  # fmt: skip
        sys.exit(2)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        click.echo(f"logsieve check: could not run: {error}", err=True)
        sys.exit(2)
    fmt = "json" if as_json_flag else fmt
    if fmt == "json":
        click.echo(as_json(results, caller))
    elif fmt == "sarif":
        click.echo(sarif(results, __version__, caller))
    else:
        click.echo(table(results, caller))
    if fix:
        _fix(results, session, endpoint_url, yes)
    sys.exit(1 if any(r.status == "fail" for r in results) else 0)


def _fix(
    results: list[Result], session: boto3.Session, endpoint_url: str | None, yes: bool
) -> None:
    calls = [(r, call) for r in results for f in r.failing for call in f.calls]
    manual = [f for r in results for f in r.failing if not f.calls]
    click.echo(f"\n{len(calls)} fix call(s){'' if yes else ' (not applied; add --yes)'}:", err=True)
    for result, call in calls:
        click.echo(f"  {call.cli}", err=True)
        if yes:
            client = session.client(
                call.service, region_name=result.region, endpoint_url=endpoint_url
            )
            getattr(client, call.operation)(**call.params)
            click.echo("    applied", err=True)
    if manual:
        click.echo(
            f"{len(manual)} failing resource(s) need a manual fix (see the commands above).",
            err=True,
        )
