"""The report: a readable table, JSON, or SARIF 2.1.0 for CI systems."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from .model import Caller, Result

_MARK = {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP"}
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def table(results: Sequence[Result], caller: Caller) -> str:
    lines = [caller.shown(), ""]
    width = max((len(r.id) for r in results), default=8)
    for r in results:
        lines.append(
            f"{_MARK[r.status]}  {r.id:<{width}}  {r.severity:<8}  {r.region:<12}  {r.title}"
        )
        if r.status == "skipped":
            lines.append(f"      skipped: {r.note}")
        for failing in r.failing:
            lines.append(f"      - {failing.resource}: {failing.detail}")
        if r.failing:
            lines.append(f"      why: {r.why}")
            lines.append("      fix: " + r.failing[0].cli.replace("\n", "\n           "))
    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    lines.append(f"\n{passed} passed, {failed} failed, {skipped} skipped")
    return "\n".join(lines)


def as_json(results: Sequence[Result], caller: Caller) -> str:
    """``{"account": {account, arn, user_id, unknown}, "results": [...]}``."""
    document = {
        "account": dataclasses.asdict(caller),
        "results": [dataclasses.asdict(r) for r in results],
    }
    return json.dumps(document, indent=2)


def _run_properties(caller: Caller) -> dict[str, str]:
    """SARIF run properties naming the account checked (or why it is unknown)."""
    if caller.unknown:
        return {"accountUnknown": caller.unknown}
    return {"account": caller.account, "callerArn": caller.arn, "callerUserId": caller.user_id}


def sarif(results: Sequence[Result], version: str, caller: Caller) -> str:
    rules = {}
    found = []
    for r in results:
        rules[r.id] = {
            "id": r.id,
            "name": r.id.replace("-", "").replace(".", "_"),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": r.why},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"security-severity-label": r.severity},
        }
        for failing in r.failing:
            found.append({
                "ruleId": r.id,
                "level": _SARIF_LEVEL[r.severity],
                "message": {"text": f"{failing.resource}: {failing.detail}. Fix: {failing.cli}"},
                "locations": [{"logicalLocations": [
                    {"name": failing.resource,
                     "fullyQualifiedName": f"{r.region}/{failing.resource}",
                     "kind": "resource"}
                ]}],
                "properties": {"region": r.region, "terraform": failing.terraform},
            })  # fmt: skip
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "logsieve check", "version": version,
                "informationUri": "https://github.com/logsieve/logsieve",
                "rules": list(rules.values()),
            }},
            "results": found,
            "properties": _run_properties(caller),
        }],
    }  # fmt: skip
    return json.dumps(document, indent=2)
