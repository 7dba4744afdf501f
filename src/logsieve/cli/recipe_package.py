"""``logsieve recipes package vpn-connect-realtime``: the client connect handler for real AWS."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["package"]


@click.command("package")
@click.argument("recipe_name", metavar="RECIPE", type=click.Choice(["vpn-connect-realtime"]))
@click.option("--allow-list", default="", metavar="NAMES",
              help="Comma-separated usernames or certificate common names allowed to connect "
                   "(default: everyone; the handler then only alerts).")  # fmt: skip
@click.option("--function-name", default="AWSClientVPN-connect-alert", show_default=True,
              help="The Lambda function's name (Client VPN requires the AWSClientVPN- "
                   "prefix).")  # fmt: skip
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="Directory to write the files to.")  # fmt: skip
def package(recipe_name: str, allow_list: str, function_name: str, output: Path) -> None:
    """Write a recipe's Lambda handler, ready for real AWS: the zip, a CloudFormation template
    and the same in Terraform.

    vpn-connect-realtime is a Client VPN client connect handler: Client VPN calls it on every
    connection attempt, it emails (SNS) at once and allows the connection, or applies the
    allow-list.

    \b
    Examples:
      logsieve recipes package vpn-connect-realtime --output vpn-alerts
      logsieve recipes package vpn-connect-realtime --allow-list alice,bob --output vpn-alerts
    """
    from logsieve.export.vpn_connect import ZIP_NAME, Package, cloudformation, handler_zip
    from logsieve.export.vpn_connect import terraform as terraform_text

    if not function_name.startswith("AWSClientVPN-") or function_name == "AWSClientVPN-":
        raise click.BadParameter("must start with AWSClientVPN- (Client VPN only calls those)",
                                 param_hint="--function-name")  # fmt: skip
    names = tuple(name.strip() for name in allow_list.split(",") if name.strip())
    chosen = Package(function_name, names)
    output.mkdir(parents=True, exist_ok=True)
    files = {
        ZIP_NAME: handler_zip(),
        "vpn-connect-realtime.cfn.yaml": cloudformation(chosen).encode(),
        "vpn-connect-realtime.tf": terraform_text(chosen).encode(),
    }
    for name, content in files.items():
        (output / name).write_bytes(content)
        click.echo(f"Wrote {output / name}")
    zip_path, template = output / ZIP_NAME, output / "vpn-connect-realtime.cfn.yaml"
    click.echo(
        "\nDeploy with CloudFormation:\n"
        f"  aws s3 cp {zip_path} s3://BUCKET/{ZIP_NAME}\n"
        f"  aws cloudformation deploy --template-file {template} --stack-name vpn-connect-realtime"
        " --capabilities CAPABILITY_IAM \\\n"
        "      --parameter-overrides CodeBucket=BUCKET AlertEmail=you@example.com\n"
        f"or with Terraform: terraform apply -var alert_email=you@example.com (in {output})\n"
        "then name the function on the endpoint:\n"
        "  aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id cvpn-endpoint-... "
        "--client-connect-options Enabled=true,LambdaFunctionArn=FUNCTION_ARN"
    )
