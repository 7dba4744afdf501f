"""Subscription filter policies: which published messages a subscription receives.

A policy is a JSON object; every key must match (AND), and a key matches when any condition in
its list matches (OR). ``FilterPolicyScope`` picks what the keys name: ``MessageAttributes``
(the default: attribute names, ``String.Array`` values matched element by element) or
``MessageBody`` (fields of the message parsed as JSON, nested objects allowed). Conditions, as
AWS documents them: exact strings and numbers, ``null`` and booleans (body only), ``prefix``,
``suffix``, ``equals-ignore-case``, ``anything-but`` (a value, a list, or a prefix/suffix),
``numeric`` ranges, ``exists``, ``cidr``, and ``$or`` between sets of keys.

Compiled once when the subscription is created or changed; matching is pure.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .arns import invalid

MAX_KEYS = 5
MAX_COMBINATIONS = 150
_OPERATORS = ("<", "<=", "=", ">", ">=")
_MISSING = object()

Condition = Callable[[Any], bool]  # gets the value, or _MISSING


class FilterPolicyError(ValueError):
    """An invalid policy; the text is AWS's reason (after ``FilterPolicy: ``)."""


class FilterPolicy:
    """A compiled policy: ``matches(attributes, body)``."""

    def __init__(self, text: str, scope: str = "MessageAttributes") -> None:
        try:
            policy = json.loads(text)
        except ValueError:
            raise FilterPolicyError("failed to parse JSON.") from None
        if not isinstance(policy, dict):
            raise FilterPolicyError("Filter policy must be a JSON object")
        self.scope = scope
        self._combinations = 1
        self._test = self._compile(policy, depth=1)
        if self._combinations > MAX_COMBINATIONS:
            raise FilterPolicyError("Filter policy is too complex")

    def matches(self, attributes: Mapping[str, Mapping[str, Any]], body: str) -> bool:
        if self.scope == "MessageBody":
            try:
                document = json.loads(body)
            except ValueError:
                return False
            return isinstance(document, dict) and self._test(document)
        return self._test(_attribute_values(attributes))

    # -- compilation ---------------------------------------------------------------------

    def _compile(self, policy: dict[str, Any], depth: int) -> Callable[[Mapping[str, Any]], bool]:
        if depth == 1 and len([k for k in policy if k != "$or"]) > MAX_KEYS:
            raise FilterPolicyError("Filter policy can not have more than 5 keys")
        tests: list[Callable[[Mapping[str, Any]], bool]] = []
        for key, spec in policy.items():
            if key == "$or":
                if not isinstance(spec, list) or len(spec) < 2:
                    raise FilterPolicyError('"$or" must be an array of at least two objects')
                branches = [self._compile(branch, depth) for branch in spec]
                tests.append(lambda doc, bs=branches: any(b(doc) for b in bs))
            elif isinstance(spec, dict):
                if self.scope != "MessageBody":
                    raise FilterPolicyError(
                        "Filter policy scope MessageAttributes does not support nested filter "
                        "policy"
                    )
                inner = self._compile(spec, depth + 1)
                tests.append(lambda doc, k=key, f=inner: _nested(doc, k, f))
            elif isinstance(spec, list):
                if not spec:
                    raise FilterPolicyError(f'"{key}" must be an object or an array')
                self._combinations *= len(spec)
                conditions = [self._condition(item) for item in spec]
                tests.append(lambda doc, k=key, cs=conditions: _field(doc, k, cs))
            else:
                raise FilterPolicyError(f'"{key}" must be an object or an array')
        return lambda doc: all(test(doc) for test in tests)

    def _condition(self, item: Any) -> Condition:
        if item is None or isinstance(item, bool):
            return lambda v: v is not _MISSING and v == item and type(v) is type(item)
        if isinstance(item, str):
            return lambda v: _is_text(v) and v == item
        if isinstance(item, (int, float)):
            number = Decimal(str(item))
            return lambda v: _number(v) == number
        if not isinstance(item, dict) or len(item) != 1:
            raise FilterPolicyError("Match value must be String, number, true, false, or null")
        ((keyword, arg),) = item.items()
        if keyword == "prefix" and isinstance(arg, str):
            return lambda v: _is_text(v) and v.startswith(arg)
        if keyword == "suffix" and isinstance(arg, str):
            return lambda v: _is_text(v) and v.endswith(arg)
        if keyword == "equals-ignore-case" and isinstance(arg, str):
            return lambda v: _is_text(v) and v.casefold() == arg.casefold()
        if keyword == "exists":
            if not isinstance(arg, bool):
                raise FilterPolicyError("exists match pattern must be either true or false.")
            return lambda v: (v is not _MISSING) == arg
        if keyword == "anything-but":
            return self._anything_but(arg)
        if keyword == "numeric":
            return _numeric(arg)
        if keyword == "cidr" and isinstance(arg, str):
            try:
                network = ipaddress.ip_network(arg, strict=False)
            except ValueError:
                raise FilterPolicyError(f"Malformed CIDR, one '/' required: {arg}") from None
            return lambda v: _in_network(v, network)
        raise FilterPolicyError(f"Unrecognized match type {keyword}")

    def _anything_but(self, arg: Any) -> Condition:
        if isinstance(arg, dict):
            inner = self._condition(arg)
        else:
            values = arg if isinstance(arg, list) else [arg]
            tests = [self._condition(value) for value in values]

            def inner(v: Any) -> bool:
                return any(test(v) for test in tests)

        return lambda v: v is not _MISSING and not inner(v)


def _numeric(arg: Any) -> Condition:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise FilterPolicyError("Value of numeric must be an array.")
    bounds: list[tuple[str, Decimal]] = []
    for i in range(0, len(arg), 2):
        operator, value = arg[i], arg[i + 1]
        if operator not in _OPERATORS:
            raise FilterPolicyError(f"Unrecognized numeric range operator: {operator}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FilterPolicyError(f"Value of {operator} must be numeric")
        bounds.append((operator, Decimal(str(value))))

    def test(v: Any) -> bool:
        number = _number(v)
        if number is None:
            return False
        for operator, bound in bounds:
            if not {
                "<": number < bound,
                "<=": number <= bound,
                "=": number == bound,
                ">": number > bound,
                ">=": number >= bound,
            }[operator]:
                return False
        return True

    return test


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is _MISSING or value is None:
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, _NumberText):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _in_network(value: Any, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in network
    except ValueError:
        return False


class _NumberText(str):
    """A ``Number`` attribute's text: matches numeric conditions, not string ones."""


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, _NumberText)


def _attribute_values(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """MessageAttributes as the values policies test: strings, numbers, arrays (Binary
    attributes never match)."""
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        data_type = str(value.get("DataType", ""))
        text = value.get("StringValue")
        if text is None or data_type.startswith("Binary"):
            continue
        if data_type.startswith("Number"):
            out[name] = _NumberText(text)
        elif data_type.startswith("String.Array"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            out[name] = parsed if isinstance(parsed, list) else text
        else:
            out[name] = text
    return out


def _field(document: Mapping[str, Any], key: str, conditions: list[Condition]) -> bool:
    value = document.get(key, _MISSING) if isinstance(document, Mapping) else _MISSING
    candidates = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        candidates = [_MISSING]
    return any(condition(item) for item in candidates for condition in conditions)


def _nested(
    document: Mapping[str, Any], key: str, test: Callable[[Mapping[str, Any]], bool]
) -> bool:
    value = document.get(key) if isinstance(document, Mapping) else None
    if isinstance(value, list):
        return any(isinstance(item, Mapping) and test(item) for item in value)
    return isinstance(value, Mapping) and test(value)


def compile_policy(text: str, scope: str, prefix: str) -> FilterPolicy | None:
    """A compiled policy, None for an empty one, or ``InvalidParameter`` worded
    ``<prefix>FilterPolicy: <reason>``."""
    if not text or not text.strip() or text.strip() == "{}":
        return None
    try:
        return FilterPolicy(text, scope)
    except FilterPolicyError as bad:
        raise invalid(f"{prefix}FilterPolicy: {bad}") from None
