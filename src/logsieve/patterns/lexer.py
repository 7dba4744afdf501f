"""Tokenizer for the structured pattern kinds (JSON ``{...}`` and space-delimited ``[...]``).

Unstructured term patterns have a different, simpler grammar and are read in ``parser.py``.
Quoted strings and ``%regex%`` bodies are read here too, so every kind unescapes them the same
way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import PatternError

TokenKind = Literal[
    "LBRACE",
    "RBRACE",
    "LBRACKET",
    "RBRACKET",
    "LPAREN",
    "RPAREN",
    "COMMA",
    "AND",
    "OR",
    "OP",
    "STRING",
    "REGEX",
    "SELECTOR",
    "WORD",
    "EOF",
]

_PUNCTUATION: dict[str, TokenKind] = {
    "{": "LBRACE",
    "}": "RBRACE",
    "[": "LBRACKET",
    "]": "RBRACKET",
    "(": "LPAREN",
    ")": "RPAREN",
    ",": "COMMA",
}
# Characters that end a bare word (besides whitespace and the two-character operators).
_WORD_STOP = frozenset('{}[](),"=<>')
# Characters a selector's property name cannot contain without bracket notation.
SELECTOR_NAME_STOP = frozenset(".[]=!<>&|(){}'\",%*")


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str  # the source text of the token
    pos: int
    value: str = ""  # unescaped content of STRING and REGEX tokens


def read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a double-quoted string starting at ``text[start] == '"'``.

    ``\\"`` is a literal quote and ``\\\\`` a backslash (the AWS CDK quotes terms this way);
    any other backslash is kept as it is. Returns the content and the index after the quote.
    """
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\" and i + 1 < n and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    raise PatternError("Unterminated quoted string: add the closing '\"'", start)


def read_regex(text: str, start: int) -> tuple[str, int]:
    """Read a ``%...%`` regex starting at ``text[start] == '%'``; returns body and end index."""
    end = text.find("%", start + 1)
    if end < 0:
        raise PatternError("Unterminated regular expression: add the closing '%'", start)
    return text[start + 1 : end], end + 1


def _read_selector(text: str, start: int) -> int:
    """Return the index just after the selector that starts at ``text[start] == '$'``."""
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == ".":
            i += 1
            if i < n and text[i] in "[*":
                if text[i] == "*":
                    i += 1
                continue
            while i < n and not text[i].isspace() and text[i] not in SELECTOR_NAME_STOP:
                i += 1
        elif c == "[":
            i += 1
            if i < n and text[i] in "'\"":
                close = text.find(text[i], i + 1)
                if close < 0:
                    raise PatternError("Unterminated quoted key in selector", i)
                i = close + 1
            close = text.find("]", i)
            if close < 0:
                raise PatternError("Missing ']' in selector", i)
            i = close + 1
        else:
            break
    return i


def tokenize(text: str, start: int = 0, *, selectors: bool = False) -> list[Token]:
    """Split ``text[start:]`` into tokens; ``selectors`` enables ``$...`` JSON selectors."""
    tokens: list[Token] = []
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        two = text[i : i + 2]
        if c in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[c], c, i))
            i += 1
        elif two == "&&":
            tokens.append(Token("AND", two, i))
            i += 2
        elif two == "||":
            tokens.append(Token("OR", two, i))
            i += 2
        elif two in ("!=", "<=", ">="):
            tokens.append(Token("OP", two, i))
            i += 2
        elif c in "=<>":
            tokens.append(Token("OP", c, i))
            i += 1
        elif c in "&|":
            raise PatternError(f"Unexpected '{c}': use '{c}{c}' to combine conditions", i)
        elif c == '"':
            value, end = read_quoted(text, i)
            tokens.append(Token("STRING", text[i:end], i, value))
            i = end
        elif c == "%":
            value, end = read_regex(text, i)
            tokens.append(Token("REGEX", text[i:end], i, value))
            i = end
        elif c == "$" and selectors:
            end = _read_selector(text, i)
            tokens.append(Token("SELECTOR", text[i:end], i))
            i = end
        else:
            end = i
            while end < n:
                ch = text[end]
                if ch.isspace() or ch in _WORD_STOP:
                    break
                pair = text[end : end + 2]
                if pair in ("&&", "||", "!="):
                    break
                end += 1
            tokens.append(Token("WORD", text[i:end], i))
            i = end
    tokens.append(Token("EOF", "", n))
    return tokens
