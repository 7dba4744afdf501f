"""Kinesis Data Streams semantics: streams, shards, records, iterators (aws-compat section 5)."""

from .context import KinesisContext
from .service import KinesisService
from .throttle import ShardLimits

__all__ = ["KinesisContext", "KinesisService", "ShardLimits"]
