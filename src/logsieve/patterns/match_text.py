"""Matchers for unstructured term patterns and standalone ``%regex%`` patterns."""

from __future__ import annotations

from collections.abc import Callable

from .ast import RegexPattern, TextPattern
from .event import Event
from .literals import contains_all, contains_any
from .regex import compile_search


def _never(message: str) -> bool:
    return False


def _always(message: str) -> bool:
    return True


def _compile_terms(syntax: TextPattern) -> Callable[[str], bool]:
    """Substring semantics (T1-T12).

    ``?`` terms form an OR only when every term has ``?``; next to plain or ``-`` terms they
    are ignored (T6, the documented reading of A1). A blank quoted term such as ``" "`` is
    documented as matching everything (T8), so it counts as always present.
    """
    terms = syntax.terms
    if terms and all(t.mode == "optional" for t in terms):
        options = [t.text for t in terms]
        if any(not text.strip() for text in options):
            return _always
        return contains_any(options)
    required = [t.text for t in terms if t.mode == "required" and t.text.strip()]
    excluded = [t.text for t in terms if t.mode == "excluded"]
    if any(not text.strip() for text in excluded):
        return _never
    if not excluded:
        return contains_all(required)
    has_all = contains_all(required)
    has_any_excluded = contains_any(excluded)
    return lambda m: has_all(m) and not has_any_excluded(m)


def _substring(syntax: TextPattern) -> str | None:
    """The text whose presence is the whole pattern (``ACCEPT``), if it is one term."""
    terms = syntax.terms
    if len(terms) == 1 and terms[0].mode != "excluded" and terms[0].text.strip():
        return terms[0].text
    return None


class TextMatcher:
    def __init__(self, syntax: TextPattern | RegexPattern) -> None:
        #: A text message contains exactly when it matches, if the pattern is one term.
        self.substring: str | None = None
        if isinstance(syntax, RegexPattern):
            self.matches = compile_search(syntax.regex.source, syntax.regex.pos)
        else:
            self.matches = _compile_terms(syntax)
            self.substring = _substring(syntax)

    def match_event(self, event: Event) -> bool:
        return self.matches(event.message)

    def view(self, event: Event) -> str | None:
        return event.message if self.matches(event.message) else None

    def extract(self, event: Event) -> dict[str, str] | None:
        return {} if self.matches(event.message) else None
