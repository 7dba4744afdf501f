"""Every snippet in README.md runs as written, in order, against a fresh server.

The README is a walk-through a newcomer follows; this test follows it the same way and fails
with the snippet and its output when one does not work.

What is run, in README order:
- ```sh blocks: with bash (``-e -o pipefail``), each in a fresh shell.
- ```python blocks: with this interpreter (the venv's).
- ```toml blocks: loaded with the real config loader (``load_config``), which must accept them
  (the code directories a ``[[functions]]`` entry names are made first, as its author would).
- other blocks (output, other languages): not run.

What the test substitutes, and nothing else:
- The working directory is a fresh one holding ``.venv`` (a link to this venv) and ``samples``
  (a link to the repository's), as in a clone; ``PATH`` starts with the venv's ``bin``, as
  after ``source .venv/bin/activate``; ``HOME`` is fresh, so ``~/.logsieve`` and ``~/.aws``
  are new, and no ``AWS_*``/``LOGSIEVE_*`` variable of the developer's is passed on.
- ``LOGSIEVE_PORT`` names a free port and ``http://127.0.0.1:4588`` in a snippet is replaced
  by that port's URL, so the walk-through never meets a server already on 4588.
- Once the server is started, the ``export AWS_...`` line it printed is run before each later
  snippet: the README tells the reader to paste it.

Directives, an HTML comment right before a block:
- ``<!-- readme-test: skip (reason) -->``: not run; listed with its reason.
- ``<!-- readme-test: server -->``: started in the background, left running for the rest of the
  README, and waited for until it says ``listening``.
- ``<!-- readme-test: file NAME -->``: written to NAME in the working directory, not run.
A sh block whose commands are not installed (``jq``, ``zip``...) is skipped and listed too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from logsieve.sections import load_config
from tests.cli.serving import UserServer, export_line, user_env
from tests.server import free_port

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DEFAULT_ENDPOINT = "http://127.0.0.1:4588"
FENCE = re.compile(r"^```(\w*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*readme-test:\s*(\w+)\s*(.*?)\s*-->\s*$")
SNIPPET_TIMEOUT = 90.0  # a cap for a hung snippet; they take seconds


@dataclass
class Snippet:
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    directive: str = ""  # skip | server | file
    argument: str = ""

    def where(self) -> str:
        return f"README.md:{self.line} ({self.language or 'no language'})"


def snippets(markdown: str) -> list[Snippet]:
    """Every fenced block, with the directive comment right before it (blank lines allowed)."""
    found: list[Snippet] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        snippet = Snippet(index + 1, opened[1], "\n".join(lines[index + 1 : end]) + "\n")
        before = index - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        if before >= 0 and (directive := DIRECTIVE.match(lines[before])):
            snippet.directive, snippet.argument = directive[1], directive[2]
        found.append(snippet)
        index = end + 1
    return found


def missing_commands(script: str, path: str) -> list[str]:
    """Commands a sh snippet starts (first word of a command, after a pipe, ``&&``...) that
    are not on ``path``."""
    missing = set()
    for line in script.replace("\\\n", " ").splitlines():
        tokens = shlex.shlex(line, posix=True, punctuation_chars=True)
        tokens.whitespace_split = True
        starts = True
        for token in tokens:
            if token in (";", "|", "||", "&&", "&", "(", ")"):
                starts = True
            elif starts:
                starts = "=" in token  # VAR=value cmd: the command comes next
                if not starts and shutil.which(token, path=path) is None:
                    missing.add(token)
    return sorted(missing)


def _text(output: bytes | str | None) -> str:
    """What a timed-out process printed (bytes, whatever ``text=True`` asked for)."""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


class Walkthrough:
    """The state one reader builds up: a working directory, a shell environment, a server."""

    def __init__(self, root: Path) -> None:
        self.work = root / "clone"
        self.work.mkdir()
        venv = Path(sys.executable).parent.parent
        (self.work / ".venv").symlink_to(venv)
        (self.work / "samples").symlink_to(REPO / "samples")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        path = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        self.env = user_env(root / "home", {"PATH": path, "LOGSIEVE_PORT": str(self.port)})
        self.exports = ""
        self.server: UserServer | None = None
        self.skipped: list[str] = []
        self.failures: list[str] = []
        self.timings: list[tuple[float, str]] = []

    def text(self, snippet: Snippet) -> str:
        return snippet.text.replace(DEFAULT_ENDPOINT, self.url)

    def run(self, snippet: Snippet) -> None:
        if snippet.directive == "skip":
            self.skipped.append(f"{snippet.where()}: {snippet.argument or 'no reason given'}")
        elif snippet.directive == "file":
            (self.work / snippet.argument).write_text(snippet.text)
        elif snippet.directive == "server":
            self.start_server(snippet)
        elif snippet.directive:
            self.failures.append(f"{snippet.where()}: unknown directive {snippet.directive!r}")
        elif snippet.language == "toml":
            self.load_toml(snippet)
        elif snippet.language in ("sh", "python"):
            self.execute(snippet)

    def start_server(self, snippet: Snippet) -> None:
        command = ["bash", "-e", "-c", self.text(snippet)]
        self.server = UserServer([], self.env, self.work, command=command).start()
        try:
            self.server.wait_listening(timeout=30)
            self.exports = export_line(self.server.output)
        except AssertionError as exc:
            self.failures.append(f"{snippet.where()} did not start the server:\n{exc}")

    def load_toml(self, snippet: Snippet) -> None:
        path = self.work / f"readme-{snippet.line}.toml"
        path.write_text(snippet.text)
        try:
            for function in tomllib.loads(snippet.text).get("functions", []):
                (self.work / function["code_dir"]).mkdir(parents=True, exist_ok=True)
            load_config(path, environ={})
        except Exception as exc:  # a ConfigError, or anything the loader should have caught
            self.failures.append(f"{snippet.where()} is not a valid config: {exc}\n{snippet.text}")

    def execute(self, snippet: Snippet) -> None:
        text = self.text(snippet)
        if snippet.language == "sh" and (missing := missing_commands(text, self.env["PATH"])):
            self.skipped.append(f"{snippet.where()}: needs {', '.join(missing)}, not installed")
            return
        if snippet.language == "python":
            script = self.work / f"readme-{snippet.line}.py"
            script.write_text(text)
            text = f"exec {shlex.quote(sys.executable)} {shlex.quote(script.name)}\n"
        started = time.monotonic()
        try:
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", f"{self.exports}\n{text}"],
                env=self.env, cwd=self.work, capture_output=True, text=True,
                timeout=SNIPPET_TIMEOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            self.failures.append(
                f"{snippet.where()} did not finish in {SNIPPET_TIMEOUT:g} s:\n{snippet.text}"
                f"--- output so far:\n{_text(exc.stdout)}{_text(exc.stderr)}"
            )
            return
        self.timings.append((time.monotonic() - started, snippet.where()))
        if done.returncode != 0:
            self.failures.append(
                f"{snippet.where()} exited {done.returncode} after "
                f"{time.monotonic() - started:.1f} s:\n{snippet.text}"
                f"--- stdout:\n{done.stdout[-3000:]}--- stderr:\n{done.stderr[-3000:]}"
            )

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


def test_readme_snippets_run_as_written(tmp_path: Path) -> None:
    walk = Walkthrough(tmp_path)
    found = snippets(README.read_text(encoding="utf-8"))
    assert found, "no fenced blocks found in README.md"
    started = time.monotonic()
    try:
        for snippet in found:
            walk.run(snippet)
    finally:
        walk.close()
    elapsed = time.monotonic() - started
    print(f"README: {len(found)} blocks in {elapsed:.1f} s; skipped {len(walk.skipped)}:")
    for line in walk.skipped:
        print(f"  {line}")
    print("slowest:", ", ".join(f"{w} {t:.1f} s" for t, w in sorted(walk.timings)[-5:]))
    if walk.server is not None and "Traceback" in walk.server.output:
        walk.failures.append(f"the server logged a traceback:\n{walk.server.output[-5000:]}")
    if walk.failures:
        pytest.fail(
            f"{len(walk.failures)} README snippet(s) failed:\n\n" + "\n\n".join(walk.failures),
            pytrace=False,
        )


def test_snippet_parser_reads_directives() -> None:
    markdown = (
        "text\n<!-- readme-test: skip (needs real AWS) -->\n\n```sh\naws s3 ls\n```\n"
        "```python\nprint(1)\n```\n<!-- readme-test: file handler.py -->\n```python\n"
        "def main(e, c): pass\n```\n"
    )
    first, second, third = snippets(markdown)
    assert (first.line, first.language, first.directive, first.argument) == (
        4, "sh", "skip", "(needs real AWS)"
    )  # fmt: skip
    assert (second.text, second.directive) == ("print(1)\n", "")
    assert (third.directive, third.argument) == ("file", "handler.py")
    script = "aws logs x --filter '[a = 1 || b]' | no-such-tool -c . \\\n  --role r\nX=1 ls # c"
    assert missing_commands(script, os.environ["PATH"]) == ["no-such-tool"]
