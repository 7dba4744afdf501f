"""Region long names as alarm messages spell them: botocore's endpoint descriptions, with the
``EU (Ireland)`` quirk (endpoints.json says ``Europe (Ireland)``; alarm messages do not)."""

from __future__ import annotations

import functools

import botocore.loaders


@functools.cache
def _descriptions() -> dict[str, str]:
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return {
        code: info.get("description", code)
        for partition in endpoints["partitions"]
        for code, info in partition["regions"].items()
    }


def region_name(code: str) -> str:
    """``us-east-1`` -> ``US East (N. Virginia)``; an unknown code as itself."""
    name = _descriptions().get(code, code)
    return "EU (" + name[len("Europe (") :] if name.startswith("Europe (") else name
