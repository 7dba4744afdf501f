"""The pattern playground's logic: a pattern tried on sample lines, the bundled samples, and
the same filter written out for the aws CLI, boto3 and Terraform.

The pattern engine decides (``patterns.compile``: the matcher PutMetricFilter,
FilterLogEvents and the pumps use); ``highlight.show`` marks what it found. An invalid
pattern gets AWS's message with a caret under the offending character, the text ``logsieve
test-pattern`` prints.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from logsieve.patterns import PatternError
from logsieve.patterns import compile as compile_pattern
from logsieve.patterns.errors import with_caret

from .highlight import Shown, show

SAMPLES = Path(__file__).parent / "samples"
MAX_LINES = 1000


@dataclass
class Tried:
    """One sample line: matched or not, and what the pattern extracted from it."""

    number: int
    message: str
    matched: bool
    shown: Shown
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class Trial:
    error: str = ""  # AWS's message with the caret, when the pattern is invalid
    kind: str = ""
    lines: list[Tried] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return sum(line.matched for line in self.lines)


def split_lines(text: str) -> list[str]:
    """One event per non-empty line (CloudWatch Logs has no empty events)."""
    return [line for line in text.splitlines() if line.strip()][:MAX_LINES]


def trial(pattern: str, lines: list[str]) -> Trial:
    """``pattern`` tried on every line (an empty pattern matches everything, as AWS's)."""
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:
        return Trial(error=with_caret(pattern, exc))
    found = Trial(kind=compiled.kind)
    for number, message in enumerate(lines, 1):
        values = compiled.extract(message)
        matched = values is not None
        shown = show(message, compiled if matched and pattern.strip() else None)
        found.lines.append(Tried(number, message, matched, shown, values or {}))
    return found


def samples() -> list[str]:
    """The bundled samples' names (``samples/*.log`` of this package)."""
    return sorted(path.stem for path in SAMPLES.glob("*.log"))


def sample(name: str) -> str:
    """A bundled sample's lines ("" for a name that is not one)."""
    if name not in samples():
        return ""
    return (SAMPLES / f"{name}.log").read_text(encoding="utf-8")


# --- "copy as" ---------------------------------------------------------------------------


@dataclass
class Target:
    """What the pattern would become: a metric filter or a subscription filter."""

    kind: str  # "metric" or "subscription"
    group: str
    name: str
    pattern: str
    namespace: str = ""
    metric: str = ""
    value: str = "1"
    destination: str = ""
    region: str = "us-east-1"
    source_arn: str = ""  # the log group's ARN (``...:log-group:name:*``)

    @property
    def lambda_function(self) -> str | None:
        """The function's name when the destination is a Lambda function."""
        parts = self.destination.split(":")
        if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
            return parts[6]
        return None


def _hcl(text: str) -> str:
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def _label(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower() or "filter"


def copy_as(target: Target) -> dict[str, str]:
    """The aws CLI, boto3 and Terraform texts that create ``target`` on AWS."""
    q, t = shlex.quote, target
    if t.kind == "metric":
        transformation = {"metricName": t.metric, "metricNamespace": t.namespace,
                          "metricValue": t.value}  # fmt: skip
        cli = (
            f"aws logs put-metric-filter --log-group-name {q(t.group)} --filter-name "
            f"{q(t.name)} \\\n  --filter-pattern {q(t.pattern)} \\\n  --metric-transformations "
            f"{q(json.dumps([transformation]))}"
        )
        boto3 = (
            f'boto3.client("logs").put_metric_filter(\n    logGroupName={t.group!r},\n'
            f"    filterName={t.name!r},\n    filterPattern={t.pattern!r},\n"
            f"    metricTransformations=[{transformation!r}],\n)"
        )
        terraform = (
            f'resource "aws_cloudwatch_log_metric_filter" "{_label(t.name)}" {{\n'
            f"  name           = {_hcl(t.name)}\n  log_group_name = {_hcl(t.group)}\n"
            f"  pattern        = {_hcl(t.pattern)}\n\n  metric_transformation {{\n"
            f"    name      = {_hcl(t.metric)}\n    namespace = {_hcl(t.namespace)}\n"
            f"    value     = {_hcl(t.value)}\n  }}\n}}"
        )
        return {"aws CLI": cli, "boto3": boto3, "Terraform": terraform}
    cli = (
        f"aws logs put-subscription-filter --log-group-name {q(t.group)} --filter-name "
        f"{q(t.name)} \\\n  --filter-pattern {q(t.pattern)} --destination-arn "
        f"{q(t.destination)}"
    )
    boto3 = (
        f'boto3.client("logs").put_subscription_filter(\n    logGroupName={t.group!r},\n'
        f"    filterName={t.name!r},\n    filterPattern={t.pattern!r},\n"
        f"    destinationArn={t.destination!r},\n)"
    )
    terraform = (
        f'resource "aws_cloudwatch_log_subscription_filter" "{_label(t.name)}" {{\n'
        f"  name            = {_hcl(t.name)}\n  log_group_name  = {_hcl(t.group)}\n"
        f"  filter_pattern  = {_hcl(t.pattern)}\n  destination_arn = {_hcl(t.destination)}\n}}"
    )
    function = t.lambda_function
    if function is not None:  # CloudWatch Logs may only invoke a function allowed to
        statement, principal = statement_id(t), logs_principal(t.region)
        cli = (
            f"aws lambda add-permission --function-name {q(function)} --statement-id "
            f"{q(statement)} \\\n  --action lambda:InvokeFunction --principal {principal} "
            f"--source-arn {q(t.source_arn)}\n" + cli
        )
        boto3 = (
            f'boto3.client("lambda").add_permission(\n    FunctionName={function!r},\n'
            f'    StatementId={statement!r},\n    Action="lambda:InvokeFunction",\n'
            f"    Principal={principal!r},\n    SourceArn={t.source_arn!r},\n)\n" + boto3
        )
        terraform = (
            f'resource "aws_lambda_permission" "{_label(t.name)}_logs" {{\n'
            f'  statement_id  = {_hcl(statement)}\n  action        = "lambda:InvokeFunction"\n'
            f"  function_name = {_hcl(function)}\n  principal     = {_hcl(principal)}\n"
            f"  source_arn    = {_hcl(t.source_arn)}\n}}\n\n" + terraform
        )
    return {"aws CLI": cli, "boto3": boto3, "Terraform": terraform}


def logs_principal(region: str) -> str:
    """CloudWatch Logs' service principal, which invokes subscribed functions."""
    return f"logs.{region}.amazonaws.com"


def statement_id(target: Target) -> str:
    """The permission's statement id (the same in the snippets and in the console's grant)."""
    return f"logs-{_label(target.group)}-{_label(target.name)}"[:100]
