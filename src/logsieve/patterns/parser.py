"""Parse filter-pattern text into the syntax tree of ``ast.py``.

The first non-blank character picks the kind (rule G1): ``{`` JSON, ``[`` space-delimited, a
pattern that is exactly one ``%...%`` a standalone regex, anything else unstructured terms.
JSON and space-delimited patterns share the tokenizer and the ``&&``/``||``/parentheses
grammar; only their comparisons differ.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .ast import (
    NUMERIC_OPERATORS,
    And,
    Check,
    Comparison,
    Expr,
    JsonPattern,
    Or,
    Pattern,
    Position,
    Regex,
    RegexPattern,
    SpacePattern,
    Term,
    TermMode,
    TextPattern,
    Value,
    iter_exprs,
)
from .errors import PatternError
from .lexer import Token, read_quoted, read_regex, tokenize
from .selectors import parse_selector
from .values import to_number

MAX_PATTERN_LENGTH = 1024
MAX_REGEXES = 2  # per JSON or space-delimited pattern
MAX_WILDCARD_SELECTORS = 3  # per JSON pattern
MAX_NESTING = 50  # parentheses; deeper would only exhaust the parser's stack
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def parse(text: str) -> Pattern:
    """Parse a whole filter pattern."""
    if len(text) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"Filter pattern is {len(text)} characters long; the maximum is {MAX_PATTERN_LENGTH}",
            MAX_PATTERN_LENGTH,
        )
    start = len(text) - len(text.lstrip())
    first = text[start : start + 1]
    if first == "{":
        return _parse_json(text, start)
    if first == "[":
        return _parse_space(text, start)
    if first == "%":
        body, end = read_regex(text, start)
        if text[end:].strip():
            raise PatternError(
                "A regular expression must be the whole pattern or a value inside a JSON or "
                "space-delimited pattern",
                end,
            )
        return RegexPattern(Regex(body, start))
    return _parse_terms(text, start)


# --- unstructured terms -------------------------------------------------------------------


def _parse_terms(text: str, i: int) -> TextPattern:
    terms: list[Term] = []
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return TextPattern(tuple(terms))
        start = i
        mode: TermMode = "required"
        if text[i] in "?-":
            mode = "optional" if text[i] == "?" else "excluded"
            i += 1
            if i >= n or text[i].isspace():
                raise PatternError(f"Expected a term after '{text[start]}'", start)
        if text[i] == '"':
            value, i = read_quoted(text, i)
            if i < n and not text[i].isspace():
                raise PatternError(
                    "A quoted term must be followed by a space or the end of the pattern", i
                )
        else:
            end = i
            while end < n and not text[end].isspace():
                end += 1
            value = text[i:end]
            bad = [c for c in value if not c.isascii() or not c.isprintable()]
            if bad:
                shown = "".join(dict.fromkeys(bad))
                raise PatternError(
                    f"Invalid character(s) in term '{shown}': put the term in straight double "
                    'quotes, like "café"',
                    i + value.index(bad[0]),
                )
            i = end
        terms.append(Term(value, mode, start))


# --- shared boolean expressions -----------------------------------------------------------


class _TokenStream:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        tok = self.next()
        if tok.kind != kind:
            raise PatternError(f"Expected {what} but found {_describe(tok)}", tok.pos)
        return tok


def _describe(tok: Token) -> str:
    return "the end of the pattern" if tok.kind == "EOF" else repr(tok.text)


def _parse_expr(ts: _TokenStream, comparison: Callable[[_TokenStream], Expr]) -> Expr:
    items = [_parse_and(ts, comparison)]
    while ts.peek().kind == "OR":
        ts.next()
        items.append(_parse_and(ts, comparison))
    return items[0] if len(items) == 1 else Or(tuple(items))


def _parse_and(ts: _TokenStream, comparison: Callable[[_TokenStream], Expr]) -> Expr:
    items = [_parse_primary(ts, comparison)]
    while ts.peek().kind == "AND":
        ts.next()
        items.append(_parse_primary(ts, comparison))
    return items[0] if len(items) == 1 else And(tuple(items))


def _parse_primary(ts: _TokenStream, comparison: Callable[[_TokenStream], Expr]) -> Expr:
    if ts.peek().kind == "LPAREN":
        opening = ts.next()
        ts.depth += 1
        if ts.depth > MAX_NESTING:
            raise PatternError(f"Parentheses are nested more than {MAX_NESTING} deep", opening.pos)
        expr = _parse_expr(ts, comparison)
        ts.expect("RPAREN", "')'")
        ts.depth -= 1
        return expr
    return comparison(ts)


def _parse_value(ts: _TokenStream, op: str) -> Value:
    tok = ts.next()
    if tok.kind == "STRING":
        value = Value(tok.value, tok.pos)
    elif tok.kind == "REGEX":
        value = Value(tok.value, tok.pos, regex=Regex(tok.value, tok.pos))
    elif tok.kind == "WORD":
        value = Value(tok.text, tok.pos, number=to_number(tok.text))
    else:
        raise PatternError(f"Expected a value after '{op}' but found {_describe(tok)}", tok.pos)
    if op in NUMERIC_OPERATORS and value.number is None:
        raise PatternError(f"Operator '{op}' compares numbers; {tok.text} is not a number", tok.pos)
    if value.regex is not None and op not in ("=", "!="):
        raise PatternError(f"A regular expression can only be used with = or !=, not {op}", tok.pos)
    return value


def _check_regex_quota(exprs: list[Expr], pos: int) -> None:
    regexes = [
        node.value.regex
        for expr in exprs
        for node in iter_exprs(expr)
        if isinstance(node, Comparison) and node.value.regex is not None
    ]
    if len(regexes) > MAX_REGEXES:
        raise PatternError(
            f"A filter pattern can contain at most {MAX_REGEXES} regular expressions; "
            f"this one has {len(regexes)}",
            regexes[MAX_REGEXES].pos,
        )


def _expect_end(ts: _TokenStream, closing: str) -> None:
    tok = ts.next()
    if tok.kind != "EOF":
        raise PatternError(f"Unexpected {_describe(tok)} after the closing '{closing}'", tok.pos)


# --- JSON -----------------------------------------------------------------------------------


def _json_comparison(ts: _TokenStream) -> Expr:
    tok = ts.next()
    if tok.kind != "SELECTOR":
        raise PatternError(
            f"Expected a property selector such as $.eventName but found {_describe(tok)}",
            tok.pos,
        )
    selector = parse_selector(tok.text, tok.pos)
    nxt = ts.next()
    if nxt.kind == "OP":
        value = _parse_value(ts, nxt.text)
        return Comparison(selector, nxt.text, value, tok.pos)  # type: ignore[arg-type]
    word = nxt.text.upper() if nxt.kind == "WORD" else ""
    if word == "IS":
        what = ts.next()
        test = what.text.upper() if what.kind == "WORD" else ""
        if test in ("NULL", "TRUE", "FALSE"):
            return Check(selector, test, tok.pos)  # type: ignore[arg-type]
        if test == "NOT":
            raise PatternError(
                "IS NOT is not supported: use != to exclude a value, or NOT EXISTS", what.pos
            )
        raise PatternError("Expected NULL, TRUE or FALSE after IS", what.pos)
    if word == "NOT":
        what = ts.next()
        if what.kind == "WORD" and what.text.upper() == "EXISTS":
            return Check(selector, "NOT EXISTS", tok.pos)
        raise PatternError("Expected EXISTS after NOT", what.pos)
    if word == "EXISTS":
        raise PatternError(
            "EXISTS is not supported: use NOT EXISTS, or = * to require a value", nxt.pos
        )
    raise PatternError(
        f"Expected an operator (=, !=, <, >, <=, >=), IS or NOT EXISTS after {tok.text} "
        f"but found {_describe(nxt)}",
        nxt.pos,
    )


def _parse_json(text: str, start: int) -> JsonPattern:
    ts = _TokenStream(tokenize(text, start, selectors=True))
    ts.expect("LBRACE", "'{'")
    if ts.peek().kind == "RBRACE":
        raise PatternError("A JSON pattern needs a condition inside the braces", ts.peek().pos)
    expr = _parse_expr(ts, _json_comparison)
    ts.expect("RBRACE", "'&&', '||' or the closing '}'")
    _expect_end(ts, "}")
    _check_regex_quota([expr], start)
    selectors = [n.target for n in iter_exprs(expr) if isinstance(n, Comparison | Check)]
    wildcards = [s for s in selectors if s.wildcards]  # type: ignore[union-attr]
    if len(wildcards) > MAX_WILDCARD_SELECTORS:
        raise PatternError(
            f"A JSON pattern can contain at most {MAX_WILDCARD_SELECTORS} wildcard selectors; "
            f"this one has {len(wildcards)}",
            wildcards[MAX_WILDCARD_SELECTORS].pos,  # type: ignore[union-attr]
        )
    return JsonPattern(expr)


# --- space-delimited ------------------------------------------------------------------------


def _field_comparison(ts: _TokenStream) -> Expr:
    tok = ts.next()
    if tok.kind != "WORD" or not _FIELD_NAME.match(tok.text):
        raise PatternError(
            f"Expected a field name (letters, digits, '_' or '-') but found {_describe(tok)}",
            tok.pos,
        )
    op = ts.next()
    if op.kind != "OP":
        raise PatternError(
            f"Expected an operator (=, !=, <, >, <=, >=) after {tok.text} but found "
            f"{_describe(op)}",
            op.pos,
        )
    return Comparison(tok.text, op.text, _parse_value(ts, op.text), tok.pos)  # type: ignore[arg-type]


def _split_positions(tokens: list[Token]) -> list[tuple[int, list[Token]]]:
    """Split the tokens between '[' and ']' at top-level commas."""
    groups: list[tuple[int, list[Token]]] = []
    current: list[Token] = []
    start = tokens[0].pos if tokens else 0
    depth = 0
    for tok in tokens:
        if tok.kind == "LPAREN":
            depth += 1
        elif tok.kind == "RPAREN":
            depth -= 1
        if tok.kind == "COMMA" and depth == 0:
            groups.append((start, current))
            current = []
            start = tok.pos + 1
        else:
            current.append(tok)
    groups.append((start, current))
    return groups


def _parse_position(pos: int, tokens: list[Token]) -> Position:
    if not tokens:
        return Position(pos)
    first = tokens[0]
    if len(tokens) == 1 and first.kind == "WORD":
        if first.text == "...":
            return Position(first.pos, ellipsis=True)
        if _FIELD_NAME.match(first.text):
            return Position(first.pos, name=first.text)
        raise PatternError(
            f"Invalid field name {first.text!r}: use letters, digits, '_' or '-', "
            "starting with a letter",
            first.pos,
        )
    end = tokens[-1].pos + len(tokens[-1].text)
    ts = _TokenStream([*tokens, Token("EOF", "", end)])
    condition = _parse_expr(ts, _field_comparison)
    if ts.peek().kind != "EOF":
        tok = ts.peek()
        raise PatternError(
            f"Unexpected {_describe(tok)}: separate fields with ',' and combine conditions "
            "with && or ||",
            tok.pos,
        )
    names = [n.target for n in iter_exprs(condition) if isinstance(n, Comparison)]
    return Position(first.pos, name=names[0], condition=condition)  # type: ignore[arg-type]


def _parse_space(text: str, start: int) -> SpacePattern:
    tokens = tokenize(text, start)
    if tokens[0].kind != "LBRACKET":  # pragma: no cover - parse() only calls us on '['
        raise PatternError("Expected '['", start)
    close = None
    for k, tok in enumerate(tokens[1:], 1):
        if tok.kind == "LBRACKET":
            raise PatternError(
                "Unexpected '[' inside a space-delimited pattern: quote values that contain "
                "brackets",
                tok.pos,
            )
        if tok.kind == "RBRACKET":
            close = k
            break
    if close is None:
        raise PatternError("Missing the closing ']' of the space-delimited pattern", len(text))
    after = tokens[close + 1]
    if after.kind != "EOF":
        raise PatternError(f"Unexpected {_describe(after)} after the closing ']'", after.pos)
    inner = tokens[1:close]
    if not inner:
        return SpacePattern(())
    positions = tuple(_parse_position(pos, group) for pos, group in _split_positions(inner))
    conditions = [p.condition for p in positions if p.condition is not None]
    _check_regex_quota(conditions, start)
    return SpacePattern(positions)
