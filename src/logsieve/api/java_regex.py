"""Java regular expressions (botocore model ``pattern`` constraints) translated to Python ``re``.

AWS checks member patterns with Java's regex engine; ``\\p{L}``, possessive quantifiers,
``$`` before any line terminator and POSIX classes differ from Python's. The translation keeps
Java's meaning; a construct it cannot reproduce faithfully raises ``ValueError`` and the
pattern is then not enforced (with a warning), rather than enforced wrongly.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)


class _Untranslatable(ValueError):
    """A Java regex construct with no faithful Python ``re`` equivalent."""


@functools.cache
def _category_runs() -> dict[str, tuple[tuple[int, int], ...]]:
    """Code point runs per Unicode general category (one pass, ~0.2 s, only if needed)."""
    category = unicodedata.category
    runs: dict[str, list[tuple[int, int]]] = {}
    start, current = 0, category("\x00")
    for cp in range(1, 0x110000):
        cat = category(chr(cp))
        if cat != current:
            runs.setdefault(current, []).append((start, cp - 1))
            start, current = cp, cat
    runs.setdefault(current, []).append((start, 0x10FFFF))
    return {cat: tuple(r) for cat, r in runs.items()}


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= 0x10FFFF:
        out.append((nxt, 0x10FFFF))
    return out


def _ascii(spec: str) -> list[tuple[int, int]]:
    """Ranges for a spec like ``a-zA-Z0-9`` (only letters, digits and single chars)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.append((ord(spec[i]), ord(spec[i + 2])))
            i += 3
        else:
            out.append((ord(spec[i]), ord(spec[i])))
            i += 1
    return out


_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
# Java's POSIX classes are US-ASCII only unless UNICODE_CHARACTER_CLASS is set (it is not).
_POSIX: dict[str, list[tuple[int, int]]] = {
    "Lower": _ascii("a-z"),
    "Upper": _ascii("A-Z"),
    "ASCII": [(0, 0x7F)],
    "Alpha": _ascii("a-zA-Z"),
    "Digit": _ascii("0-9"),
    "Alnum": _ascii("a-zA-Z0-9"),
    "Punct": [(ord(c), ord(c)) for c in _PUNCT],
    "Graph": [(0x21, 0x7E)],
    "Print": [(0x20, 0x7E)],
    "Blank": [(0x20, 0x20), (0x09, 0x09)],
    "Cntrl": [(0, 0x1F), (0x7F, 0x7F)],
    "XDigit": _ascii("0-9a-fA-F"),
    "Space": [(0x20, 0x20), (0x09, 0x0D)],
}
_WHITE_SPACE = [
    (0x09, 0x0D),
    (0x20, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
]
_HORIZONTAL = [
    (0x09, 0x09),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x2000, 0x200A),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
]
_VERTICAL = [(0x0A, 0x0D), (0x85, 0x85), (0x2028, 0x2029)]
_LINE_TERMINATORS = [(0x0A, 0x0A), (0x0D, 0x0D), (0x85, 0x85), (0x2028, 0x2029)]
# Java binary properties (``\\p{IsAlphabetic}``; names compared upper-cased without "_"/" "),
# approximated by general categories, and the ``java.lang.Character`` ones.
_BINARY_PROPS: dict[str, tuple[str, ...]] = {
    "ALPHABETIC": ("L", "Nl"),
    "LETTER": ("L",),
    "DIGIT": ("Nd",),
    "PUNCTUATION": ("P",),
    "CONTROL": ("Cc",),
    "UPPERCASE": ("Lu",),
    "LOWERCASE": ("Ll",),
    "TITLECASE": ("Lt",),
    "ASSIGNED": ("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Cs", "Co"),
}
_JAVA_PROPS: dict[str, tuple[str, ...]] = {
    "javaLowerCase": ("Ll",),
    "javaUpperCase": ("Lu",),
    "javaTitleCase": ("Lt",),
    "javaDigit": ("Nd",),
    "javaLetter": ("L",),
    "javaLetterOrDigit": ("L", "Nd"),
    "javaAlphabetic": ("L", "Nl"),
    "javaISOControl": ("Cc",),
}
# Major classes and their subcategories as Unicode spells them ("L" + "u" -> "Lu").
_SUBCATEGORIES = {"L": "ultmo", "M": "nce", "N": "dlo", "P": "cdseifo", "S": "mcko", "Z": "slp"}
_SUBCATEGORIES["C"] = "cfson"
_GENERAL_CATEGORIES = frozenset(_SUBCATEGORIES) | {
    major + minor for major, minors in _SUBCATEGORIES.items() for minor in minors
}


def _categories(cats: tuple[str, ...]) -> list[tuple[int, int]]:
    table = _category_runs()
    out: list[tuple[int, int]] = []
    for name, runs in table.items():
        if any(name == c or (len(c) == 1 and name[0] == c) for c in cats):
            out.extend(runs)
    return _merge(out)


@functools.cache
def _property_ranges(name: str) -> tuple[tuple[int, int], ...]:
    """Ranges of a Java ``\\p{name}``: general categories, POSIX and common binary props.

    Scripts and blocks (``\\p{IsLatin}``, ``\\p{InGreek}``) are not supported.
    """
    if name in _POSIX:
        return tuple(_merge(_POSIX[name]))
    if name == "all":
        return ((0, 0x10FFFF),)
    if name in _JAVA_PROPS:
        return tuple(_categories(_JAVA_PROPS[name]))
    if name in ("javaWhitespace", "javaSpaceChar"):
        extra = [(0x09, 0x0D), (0x1C, 0x1F)] if name == "javaWhitespace" else []
        return tuple(_merge(extra + [r for r in _WHITE_SPACE if r[0] >= 0x20]))
    for prefix in ("general_category=", "gc=", "Is"):
        if name.startswith(prefix) and len(name) > len(prefix):
            bare = name[len(prefix) :]
            if prefix == "Is":
                key = bare.upper().replace("_", "").replace(" ", "")
                if key == "WHITESPACE":
                    return tuple(_WHITE_SPACE)
                if key in _BINARY_PROPS:
                    return tuple(_categories(_BINARY_PROPS[key]))
            name = bare
            break
    if name in ("LC", "L&"):
        return tuple(_categories(("Lu", "Ll", "Lt")))
    if name in _GENERAL_CATEGORIES:
        return tuple(_categories((name,)))
    raise _Untranslatable(f"unsupported Unicode property \\p{{{name}}}")


def _cp_escape(cp: int) -> str:
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _ranges_fragment(ranges: Sequence[tuple[int, int]]) -> str:
    """Character-class body (without brackets) for code point ranges."""
    parts = []
    for lo, hi in ranges:
        parts.append(_cp_escape(lo) if lo == hi else f"{_cp_escape(lo)}-{_cp_escape(hi)}")
    return "".join(parts)


# "&", "~" and "|" too: Python warns about "&&", "~~", "||" (reserved for set operations).
_CLASS_SPECIAL = frozenset("\\]^-[&~|")


def _class_char(cp: int) -> str:
    ch = chr(cp)
    if ch in _CLASS_SPECIAL:
        return "\\" + ch
    if cp < 0x20 or cp >= 0x7F:
        return _cp_escape(cp)
    return ch


def _literal(cp: int) -> str:
    if cp < 0x20 or 0x7F <= cp < 0xA0:
        return _cp_escape(cp)
    return re.escape(chr(cp))


class _Cls:
    """A parsed Java character class: a union of fragments/nested classes, or an intersection."""

    __slots__ = ("intersect", "negated", "union")

    def __init__(self, negated: bool, union: list[tuple[str, Any]], intersect: list[_Cls]):
        self.negated = negated
        self.union = union
        self.intersect = intersect

    def _flat(self) -> tuple[list[str], list[str]]:
        frags: list[str] = []
        subs: list[str] = []
        for kind, item in self.union:
            if kind == "frag":
                frags.append(item)
            elif not item.negated and not item.intersect:
                f, s = item._flat()
                frags.extend(f)
                subs.extend(s)
            else:
                subs.append(item.render())
        return frags, subs

    def render(self) -> str:
        """A Python regex matching exactly one character, like the Java class."""
        if self.intersect:
            parts = [c.render() for c in self.intersect]
            expr = "(?:" + "".join(f"(?={p})" for p in parts[:-1]) + parts[-1] + ")"
        else:
            frags, subs = self._flat()
            body = "".join(frags)
            if not subs:
                if not body:  # an empty set, e.g. \P{all}
                    return "[\\s\\S]" if self.negated else "(?!)"
                return "[" + ("^" if self.negated else "") + body + "]"
            alts = ([f"[{body}]"] if body else []) + subs
            expr = "(?:" + "|".join(alts) + ")"
        return f"(?:(?!{expr})[\\s\\S])" if self.negated else expr


_TERMS = _ranges_fragment(_LINE_TERMINATORS)
# Java's "$" also matches before a final \u2028, \u0085, "\r\n"...; Python's only before "\n".
_END_OF_INPUT = f"(?=(?:\\r\\n|[{_TERMS}])?\\Z)"
_ANCHORS = {
    (False, "^"): "^",
    (False, "$"): _END_OF_INPUT,
    (True, "^"): f"(?:\\A|(?<=[{_TERMS}])(?<!\\r(?=\\n))(?!\\Z))",
    (True, "$"): f"(?:(?=[{_TERMS}]|\\Z)(?<!\\r(?=\\n)))",
}
_ANCHOR_ESCAPES = {"b": "\\b", "B": "\\B", "A": "\\A", "z": "\\Z", "Z": _END_OF_INPUT}
_SHORTHAND = frozenset("dDsSwW")


class _JavaRegex:
    """Translate a ``java.util.regex`` pattern (as found in AWS models) to Python ``re``.

    Handles what the models use: ``\\p{..}``/``\\P{..}`` (expanded to explicit ranges),
    ``\\uXXXX`` including surrogate pairs, octal/hex escapes, Java's lenient ``-`` in
    classes, nested classes and ``&&`` intersections, inline flags anywhere (Python only
    allows them at the start), ``.`` excluding all Java line terminators, quantified anchors,
    ``\\z``/``\\Z``, ``\\h``/``\\v``/``\\R`` and ``\\Q..\\E``. Compile the result with
    ``re.ASCII`` so ``\\w``/``\\d``/``\\s``/``\\b`` and ``(?i)`` stay ASCII as in Java.
    """

    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0

    def translate(self) -> str:
        out = self._sequence(flags="")
        if self.pos != len(self.src):
            raise _Untranslatable("unbalanced ')'")
        return out

    # -- helpers -------------------------------------------------------------------------

    def _peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.src[i] if i < len(self.src) else ""

    def _take(self) -> str:
        if self.pos >= len(self.src):
            raise _Untranslatable("unexpected end of pattern")
        ch = self.src[self.pos]
        self.pos += 1
        return ch

    def _quantifier(self) -> tuple[str, int] | None:
        """Parse a quantifier at pos; return (text, minimum) or None if there is none."""
        ch = self._peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            text, low = ch, (1 if ch == "+" else 0)
        elif ch == "{":
            m = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.src, self.pos)
            if not m:
                return None
            self.pos = m.end()
            text, low = m.group(0), int(m.group(1))
        else:
            return None
        if self._peek() in ("?", "+"):
            text += self._take()
        return text, low

    # -- sequences and groups ------------------------------------------------------------

    def _sequence(self, flags: str) -> str:
        """Translate up to the closing ')' of the current group; ``flags`` holds active s/m."""
        out: list[str] = []
        openers: list[str] = []  # scoped-flag groups opened by a bare "(?i)" in this group
        last_start: int | None = None
        last_anchor = quantified = False
        while self.pos < len(self.src):
            ch = self._peek()
            if ch == ")":
                break
            quant_start = self.pos
            q = self._quantifier()
            if q is not None:
                text, low = q
                if last_start is None:
                    raise _Untranslatable(f"dangling quantifier at {quant_start}")
                if last_anchor:
                    # Java allows quantified anchors; Python does not. x{0,..} drops x.
                    if low == 0:
                        del out[last_start:]
                    last_start = None
                    continue
                if quantified:
                    # Java silently ignores a "{n,m}" after a quantifier ("a{11}{0,5}" is
                    # "a{11}", checked with OpenJDK 17); any other second quantifier is an error.
                    if text.startswith("{"):
                        continue
                    raise _Untranslatable(f"dangling quantifier at {quant_start}")
                out.append(text)
                quantified = True
                continue
            start = len(out)
            anchor = False
            if ch == "|":
                self.pos += 1
                out.append(")" * len(openers) + "|" + "".join(openers))
                last_start = None
                continue
            if ch == "(":
                self.pos += 1
                group = self._group(flags)
                if isinstance(group, tuple):  # bare "(?i)": applies to the rest of this group
                    opener, flags = group
                    openers.append(opener)
                    out.append(opener)
                    last_start = None
                    continue
                out.append(group)
            elif ch == "[":
                self.pos += 1
                out.append(self._class().render())
            elif self.src.startswith("\\Q", self.pos):
                # Quoted text is plain characters: a following quantifier takes the last one.
                self.pos += 2
                quoted = self._quote()
                out.extend(_literal(ord(c)) for c in quoted)
                last_start = len(out) - 1 if quoted else None
                last_anchor = quantified = False
                continue
            elif ch == "\\":
                self.pos += 1
                text, anchor = self._escape()
                out.append(text)
            elif ch == ".":
                self.pos += 1
                out.append("[\\s\\S]" if "s" in flags else f"[^{_TERMS}]")
            elif ch in ("^", "$"):
                self.pos += 1
                out.append(_ANCHORS["m" in flags, ch])
                anchor = True
            else:
                self.pos += 1
                out.append(_literal(ord(ch)))
            last_start, last_anchor, quantified = start, anchor, False
        out.append(")" * len(openers))
        return "".join(out)

    def _group(self, flags: str) -> str | tuple[str, str]:
        """After '(' : return the translated group, or (opener, flags) for bare flags."""
        if self._peek() != "?":
            inner = self._sequence(flags)
            self._close()
            return "(" + inner + ")"
        self.pos += 1
        ch = self._peek()
        if ch in (":", "=", "!", ">"):
            self.pos += 1
            head = "(?" + ch
        elif ch == "<" and self._peek(1) in ("=", "!"):
            self.pos += 2
            head = "(?<" + self.src[self.pos - 1]
        elif ch == "<":
            m = re.compile(r"<([A-Za-z][A-Za-z0-9]*)>").match(self.src, self.pos)
            if not m:
                raise _Untranslatable("bad named group")
            self.pos = m.end()
            head = f"(?P<{m.group(1)}>"
        else:
            m = re.compile(r"([idmsuxU]*)(?:-([idmsuxU]*))?([:)])").match(self.src, self.pos)
            if not m:
                raise _Untranslatable("unsupported group construct")
            self.pos = m.end()
            on = "".join(c for c in m.group(1) if c in "imsx")
            off = "".join(c for c in (m.group(2) or "") if c in "imsx")
            flags = "".join(sorted((set(flags) | set(on)) - set(off)))
            spec = on + ("-" + off if off else "")
            opener = f"(?{spec}:" if spec else "(?:"
            if m.group(3) == ")":
                return (opener, flags)
            inner = self._sequence(flags)
            self._close()
            return opener + inner + ")"
        inner = self._sequence(flags)
        self._close()
        return head + inner + ")"

    def _close(self) -> None:
        if self._peek() != ")":
            raise _Untranslatable("unclosed group")
        self.pos += 1

    # -- escapes -------------------------------------------------------------------------

    def _code_point_escape(self, ch: str) -> int | None:
        """Escapes that denote one character (after the backslash and ``ch``)."""
        simple = {"t": 9, "n": 10, "r": 13, "f": 12, "a": 7, "e": 27}
        if ch in simple:
            return simple[ch]
        if ch == "0":
            m = re.compile(r"[0-3][0-7]{2}|[0-7]{1,2}").match(self.src, self.pos)
            if not m:
                raise _Untranslatable("bad octal escape")
            self.pos = m.end()
            return int(m.group(0), 8)
        if ch == "x":
            m = re.compile(r"\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{2})").match(self.src, self.pos)
            if not m:
                raise _Untranslatable("bad hex escape")
            self.pos = m.end()
            return int(m.group(1) or m.group(2), 16)
        if ch == "u":
            cp = self._hex4()
            if 0xD800 <= cp <= 0xDBFF and self.src.startswith("\\u", self.pos):
                save = self.pos
                self.pos += 2
                low = self._hex4()
                if 0xDC00 <= low <= 0xDFFF:
                    return 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                self.pos = save
            return cp
        if ch == "c":
            return ord(self._take()) ^ 64
        if not ch.isalnum():
            return ord(ch)
        return None

    def _hex4(self) -> int:
        m = re.compile(r"[0-9a-fA-F]{4}").match(self.src, self.pos)
        if not m:
            raise _Untranslatable("bad \\u escape")
        self.pos = m.end()
        return int(m.group(0), 16)

    def _property(self, negated: bool) -> str:
        if self._peek() == "{":
            end = self.src.find("}", self.pos)
            if end < 0:
                raise _Untranslatable("unclosed \\p{")
            name = self.src[self.pos + 1 : end]
            self.pos = end + 1
        else:
            name = self._take()
        ranges = list(_property_ranges(name))
        return _ranges_fragment(_complement(ranges) if negated else ranges)

    def _quote(self) -> str:
        end = self.src.find("\\E", self.pos)
        end = len(self.src) if end < 0 else end
        text = self.src[self.pos : end]
        self.pos = min(len(self.src), end + 2)
        return text

    def _escape(self) -> tuple[str, bool]:
        """Outside a class, after the backslash: (python text, is_anchor)."""
        ch = self._take()
        if ch in _ANCHOR_ESCAPES:
            return _ANCHOR_ESCAPES[ch], True
        if ch == "G":
            raise _Untranslatable("\\G is not supported")
        if ch in _SHORTHAND:
            return "\\" + ch, False
        if ch in ("p", "P"):
            return "[" + self._property(ch == "P") + "]", False
        if ch in ("h", "H"):
            return "[" + ("^" if ch == "H" else "") + _ranges_fragment(_HORIZONTAL) + "]", False
        if ch in ("v", "V"):
            return "[" + ("^" if ch == "V" else "") + _ranges_fragment(_VERTICAL) + "]", False
        if ch == "R":
            return "(?:\\r\\n|[" + _ranges_fragment(_VERTICAL) + "])", False
        if ch == "k":
            m = re.compile(r"<([A-Za-z][A-Za-z0-9]*)>").match(self.src, self.pos)
            if not m:
                raise _Untranslatable("bad \\k<name>")
            self.pos = m.end()
            return f"(?P={m.group(1)})", False
        if ch in "123456789":
            return "\\" + ch, False
        cp = self._code_point_escape(ch)
        if cp is None:
            raise _Untranslatable(f"unsupported escape \\{ch}")
        return _literal(cp), False

    # -- character classes ---------------------------------------------------------------

    def _class_atom(self) -> tuple[str, Any]:
        """One class element: ('char', code point) or ('frag', class body text)."""
        ch = self._take()
        if ch != "\\":
            return ("char", ord(ch))
        ch = self._take()
        if ch in _SHORTHAND:
            return ("frag", "\\" + ch)
        if ch in ("p", "P"):
            return ("frag", self._property(ch == "P"))
        if ch in ("h", "v"):
            return ("frag", _ranges_fragment(_HORIZONTAL if ch == "h" else _VERTICAL))
        if ch in ("H", "V"):
            rng = _complement(_merge(_HORIZONTAL if ch == "H" else _VERTICAL))
            return ("frag", _ranges_fragment(rng))
        if ch == "Q":
            return ("frag", "".join(_class_char(ord(c)) for c in self._quote()))
        cp = self._code_point_escape(ch)
        if cp is None:
            raise _Untranslatable(f"unsupported class escape \\{ch}")
        return ("char", cp)

    def _class(self) -> _Cls:
        negated = False
        if self._peek() == "^":
            negated = True
            self.pos += 1
        union: list[tuple[str, Any]] = []
        operands: list[_Cls] = []
        first = True
        while True:
            if self.pos >= len(self.src):
                raise _Untranslatable("unclosed character class")
            ch = self._peek()
            if ch == "]" and not first:
                self.pos += 1
                break
            first = False
            if ch == "[":
                self.pos += 1
                union.append(("cls", self._class()))
                continue
            if self.src.startswith("&&", self.pos):
                self.pos += 2
                operands.append(_Cls(False, union, []))
                union = []
                continue
            kind, value = self._class_atom()
            if (
                kind == "char"
                and self._peek() == "-"
                and self._peek(1) not in ("]", "[", "")
                and not self.src.startswith("&&", self.pos + 1)
            ):
                save = self.pos
                self.pos += 1
                hi_kind, hi = self._class_atom()
                if hi_kind == "char":
                    if hi < value:
                        raise _Untranslatable("reversed class range")
                    union.append(("frag", f"{_class_char(value)}-{_class_char(hi)}"))
                    continue
                self.pos = save  # "a-\w": Java reads the '-' literally
            union.append(("frag", _class_char(value) if kind == "char" else value))
        if operands:
            operands.append(_Cls(False, union, []))
            return _Cls(negated, [], operands)
        return _Cls(negated, union, [])


def java_regex_to_python(pattern: str) -> str:
    """Translate a Java regex to Python ``re`` syntax (compile with ``re.ASCII``).

    Raises ``ValueError`` for constructs that cannot be translated faithfully.
    """
    return _JavaRegex(pattern).translate()


@functools.lru_cache(maxsize=4096)
def compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a model pattern; None (and a warning) if it cannot be checked faithfully."""
    try:
        return re.compile(java_regex_to_python(pattern), re.ASCII)
    except (ValueError, re.error) as exc:  # _Untranslatable is a ValueError
        log.warning("model pattern %r not enforced: %s", pattern, exc)
        return None
