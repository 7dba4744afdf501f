"""AWS's filter-pattern regex dialect, translated to RE2 (linear time: no pattern can hang us).

AWS accepts only letters, digits, the symbols ``_ # = @ / ; , - :`` and space, and the
operators ``^ $ ? [ ] { } | \\ * + .``; parentheses, other punctuation (even escaped) and
multi-byte characters are rejected. ``\\d \\D \\s \\S \\w \\W`` are ASCII classes and ``\\xhh``
names any ASCII character, which is how users write the characters they may not type.

Translation keeps AWS's meaning where RE2's differs: ``{,n}`` becomes ``{0,n}``, a ``{`` that
does not start a repetition is literal, and ``$`` also matches before a final newline (as in
Java, which CloudWatch's matcher follows; Lambda log lines end with one).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

# The pybind layer of google-re2: the package's `re2.search` wrapper re-encodes and rebuilds
# match objects in Python (6x slower on short lines); a boolean search needs neither.
from re2 import _re2

from .errors import PatternError
from .literals import contains_any

_ALLOWED = frozenset(string.ascii_letters + string.digits + "_#=@/;,-: " + "^$?[]{}|\\*+.")
_CLASS_ESCAPES = frozenset("dDsSwW")
_REPETITION = re.compile(r"\{ *(\d*) *(?:(,) *(\d*) *)?\}")
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
# Literal characters outside a class that need a backslash in RE2 syntax.
_RE2_SPECIAL = frozenset("\\.^$|?*+()[]{}")


def _literal(c: str) -> str:
    return "\\" + c if c in _RE2_SPECIAL else c


def _check_characters(source: str, pos: int) -> None:
    bad = [c for c in source if c not in _ALLOWED]
    if bad:
        shown = "".join(dict.fromkeys(bad))
        raise PatternError(
            f"Invalid character(s) in term '{shown}'", pos + 1 + source.index(bad[0])
        )


def translate(source: str, pos: int = 0) -> str:
    """Translate the body of ``%...%`` (starting at offset ``pos``) into RE2 syntax."""
    if not source:
        raise PatternError("Empty regular expression '%%'", pos)
    _check_characters(source, pos)
    out: list[str] = []
    i = 0
    n = len(source)
    in_class = False
    class_start = False  # just after '[' or '[^', where ']' is literal
    while i < n:
        c = source[i]
        at = pos + 1 + i
        if c == "\\":
            if i + 1 == n:
                raise PatternError("Regular expression ends with '\\'", at)
            d = source[i + 1]
            if d in _CLASS_ESCAPES:
                out.append("\\" + d)
                i += 2
            elif d == "x":
                digits = source[i + 2 : i + 4]
                if len(digits) < 2 or any(h not in string.hexdigits for h in digits):
                    raise PatternError("'\\x' must be followed by two hex digits", at)
                code = int(digits, 16)
                if code > 0x7F:
                    raise PatternError("'\\x' must name an ASCII character (00-7F)", at)
                out.append(f"\\x{{{code:02x}}}")
                i += 4
            elif d.isalnum():
                raise PatternError(f"Unsupported escape '\\{d}' in regular expression", at)
            else:
                out.append(" " if d == " " else "\\" + d)
                i += 2
            class_start = False
            continue
        if in_class:
            if c == "]" and not class_start:
                in_class = False
                out.append("]")
            elif c == "^" and class_start and source[i - 1] == "[":
                out.append("^")
                i += 1
                continue  # still at the start: a ']' next is literal
            elif c == "[":
                out.append("\\[")
            else:
                out.append("\\]" if c == "]" else c)
            class_start = False
            i += 1
            continue
        if c == "[":
            in_class = True
            class_start = True
            out.append("[")
        elif c == "$":
            out.append("(?:\\n?\\z)")
        elif c == "{":
            m = _REPETITION.match(source, i)
            if m and (m.group(1) or m.group(3)):
                low = m.group(1) or "0"
                out.append("{" + low + (m.group(2) or "") + (m.group(3) or "") + "}")
                i = m.end()
                continue
            out.append("\\{")
        elif c == "}":
            out.append("\\}")
        elif c in "^.|?*+":
            out.append(c)
        else:
            out.append(_literal(c))
        i += 1
    if in_class:
        raise PatternError("Unterminated character class: add the closing ']'", pos)
    return "".join(out)


def _class_end(source: str, i: int) -> int:
    """The index after the class that starts at ``source[i] == '['`` (already validated)."""
    i += 1
    if source[i] == "^":
        i += 1
    i += 1  # a first ']' is literal
    while source[i] != "]":
        i += 2 if source[i] == "\\" else 1
    return i + 1


def _alternatives(source: str) -> list[str]:
    """Split at ``|`` outside classes; the dialect has no groups, so every ``|`` is top-level."""
    branches, start, i = [], 0, 0
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
        elif c == "[":
            i = _class_end(source, i)
        else:
            if c == "|":
                branches.append(source[start:i])
                start = i + 1
            i += 1
    branches.append(source[start:])
    return branches


def _atoms(branch: str) -> list[tuple[str | None, str]]:
    """Each atom of a (valid) branch as (literal character or None, quantifier)."""
    atoms: list[tuple[str | None, str]] = []
    i, n = 0, len(branch)
    while i < n:
        c = branch[i]
        literal: str | None = None
        if c == "\\":
            d = branch[i + 1]
            if d == "x":
                literal, i = chr(int(branch[i + 2 : i + 4], 16)), i + 4
            else:
                literal, i = (None if d in _CLASS_ESCAPES else d), i + 2
        elif c == "[":
            i = _class_end(branch, i)
        elif c == "{" and (m := _REPETITION.match(branch, i)) and (m.group(1) or m.group(3)):
            literal, i = None, m.end()  # a repetition of nothing: leave it to RE2
        else:
            literal, i = (None if c in "^$." else c), i + 1
        quantifier = ""
        if i < n and branch[i] in "?*+":
            quantifier, i = branch[i], i + 1
        elif (
            i < n
            and branch[i] == "{"
            and (m := _REPETITION.match(branch, i))
            and (m.group(1) or m.group(3))
        ):
            quantifier, i = "+" if m.group(1) not in ("", "0") else "*", m.end()
        if quantifier and i < n and branch[i] == "?":
            i += 1  # lazy form: same set of matches
        atoms.append((literal, quantifier))
    return atoms


def required_literals(source: str) -> tuple[list[str] | None, bool]:
    """Per alternative, the longest literal every match must contain; and whether the regex
    is nothing but those literals (then a substring test is the exact answer).

    Returns ``(None, False)`` when some alternative has no literal to require.
    """
    literals: list[str] = []
    pure = True
    for branch in _alternatives(source):
        best, run = "", ""
        for literal, quantifier in _atoms(branch):
            pure = pure and literal is not None and not quantifier
            if literal is not None and quantifier in ("", "+"):
                run += literal
            if literal is None or quantifier:
                best, run = max(best, run, key=len), ""
        best = max(best, run, key=len)
        if not best:
            return None, False
        literals.append(best)
    return literals, pure


def compile_search(source: str, pos: int = 0) -> Callable[[str], bool]:
    """Compile an AWS-dialect regex into ``search(text) -> bool`` (unanchored, like AWS).

    A regex that is only literals (``ERROR|FATAL``) becomes substring tests; otherwise a
    substring test of a literal every match needs rules out most lines before RE2 runs.
    """
    translated = translate(source, pos)
    options = _re2.RE2.Options()
    options.never_capture = True
    options.log_errors = False
    compiled = _re2.RE2(translated.encode(), options)
    if not compiled.ok():
        reason = compiled.error()
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise PatternError(f"Invalid regular expression '%{source}%': {reason}", pos)
    match = compiled.Match

    def search(text: str) -> bool:
        try:
            data = text.encode()
        except UnicodeEncodeError:  # lone surrogates: match what is there, never raise
            data = text.encode("utf-8", "surrogatepass")
        return match(_UNANCHORED, data, 0, len(data))[0][0] >= 0

    literals, pure = required_literals(source)
    if literals is None:
        return search
    gate = contains_any(literals)
    if pure:
        return gate
    return lambda text: gate(text) and search(text)
