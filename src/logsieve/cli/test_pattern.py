"""``logsieve test-pattern``: TestMetricFilter, offline, on your own files."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import IO

import click
import orjson

from logsieve.patterns import PatternError, compile
from logsieve.patterns.errors import with_caret as format_pattern_error

EXIT_MATCHED, EXIT_NO_MATCH, EXIT_ERROR = 0, 1, 2


class InputError(click.ClickException):
    exit_code = EXIT_ERROR


def _open(source: str) -> contextlib.AbstractContextManager[IO[str]]:
    if source == "-":
        return contextlib.nullcontext(sys.stdin)
    try:
        return open(source, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"Cannot read {source}: {exc.strerror}") from exc


def _read_message(line: str, where: str) -> str:
    """The ``message`` of one JSON-lines record (FilterLogEvents and export shape)."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc})") from exc
    message = record.get("message") if isinstance(record, dict) else None
    if not isinstance(message, str):
        raise InputError(f'{where}: expected a JSON object with a "message" string')
    return message


def read_messages(sources: tuple[str, ...], jsonl: bool) -> Iterator[str]:
    """One event per non-empty line (CloudWatch Logs has no empty events) of every source."""
    for source in sources or ("-",):
        name = "<stdin>" if source == "-" else source
        with _open(source) as handle:
            for number, raw in enumerate(handle, 1):
                line = raw.rstrip("\r\n")
                if line:
                    yield _read_message(line, f"{name}, line {number}") if jsonl else line


def _show_match(number: int, message: str, values: dict[str, str]) -> None:
    click.echo(click.style(f"{number:>6}  ", fg="cyan") + message)
    if values:
        shown = "  ".join(f"{key}={value}" for key, value in values.items())
        click.echo(" " * 8 + click.style(shown, dim=True))


@click.command("test-pattern")
@click.argument("pattern")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--jsonl", is_flag=True, help='Input lines are JSON objects with a "message" field.')
@click.option("--json", "as_json", is_flag=True, help="Print TestMetricFilter-shaped JSON.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help="Show at most this many matches (every event is still counted).",
)
def test_pattern(
    pattern: str, files: tuple[str, ...], jsonl: bool, as_json: bool, limit: int | None
) -> None:
    """Test a CloudWatch Logs filter PATTERN on log events, the way AWS would match it.

    Reads one event per line from FILES (or standard input, or '-'), prints every matching
    event with the values the pattern extracts, then "N of M events matched". Exit status:
    0 when something matched, 1 when nothing did, 2 for an invalid pattern or input.

    \b
    Examples:
      logsieve test-pattern 'ERROR -healthz' app.log
      logsieve test-pattern '{ $.eventName = "StopLogging" }' cloudtrail.jsonl
      logsieve test-pattern '[..., action = REJECT, status]' vpc-flow.log
      aws logs filter-log-events ... | jq -c '.events[]' | logsieve test-pattern --jsonl ERROR
    """
    try:
        compiled = compile(pattern)
    except PatternError as exc:
        click.echo(format_pattern_error(pattern, exc), err=True)
        sys.exit(EXIT_ERROR)
    total = matched = 0
    shown: list[dict[str, object]] = []
    for message in read_messages(files, jsonl):
        total += 1
        values = compiled.extract(message)
        if values is None:
            continue
        matched += 1
        if limit is not None and len(shown) >= limit:
            continue
        shown.append({"eventNumber": total, "eventMessage": message, "extractedValues": values})
        if not as_json:
            _show_match(total, message, values)
    if as_json:
        document = {
            "pattern": pattern,
            "kind": compiled.kind,
            "matched": matched,
            "total": total,
            "matches": shown,
        }
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(click.style(f"{matched} of {total} events matched", bold=True))
    sys.exit(EXIT_MATCHED if matched else EXIT_NO_MATCH)
