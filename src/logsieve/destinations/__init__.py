"""Where subscription deliveries go: Lambda-style handlers, Kinesis streams, Firehose files."""

from .base import DeliveryError, Destination
from .firehose import FirehoseSink
from .resolver import Destinations

__all__ = ["DeliveryError", "Destination", "Destinations", "FirehoseSink"]
