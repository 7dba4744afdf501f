"""Probe: ListFunctions markers decode strictly, as the other services' tokens do (issue 11
item 5). Any base64 text used to be taken as "the name to resume after", so a marker with a
garbage prefix or suffix, or one that names no function at all, listed a page silently."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _marker(text: bytes) -> str:
    return base64.urlsafe_b64encode(text).decode("ascii")


@pytest.mark.parametrize(
    "marker",
    [
        _marker(b"\x00\x00\x00fn"),  # a garbage prefix in front of a name
        _marker(b"fn\x00\x00\x00"),  # and behind one
        _marker(b'{"after":"fn"}'),  # another service's token
        _marker(b"has space"),  # not a function name at all
        _marker("é".encode()),
    ],
)
def test_a_marker_ListFunctions_never_wrote_is_refused(lam: Any, marker: str) -> None:
    with pytest.raises(ClientError) as caught:
        lam.list_functions(Marker=marker)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValueException",
        f"Invalid Marker: {marker}",
    )
