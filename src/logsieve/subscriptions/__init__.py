"""Subscription delivery: the dispatcher, batching, retries and dead letters."""

from .dispatcher import Dispatcher
from .event_cache import EventCache
from .metric_counting import MetricCounting
from .pump import PumpContext
from .standing import Standing

__all__ = ["Dispatcher", "EventCache", "MetricCounting", "PumpContext", "Standing"]
