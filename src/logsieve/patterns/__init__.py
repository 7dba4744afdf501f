"""The CloudWatch Logs filter-pattern language: parse, compile, match, extract.

Pure: no I/O and no imports from the rest of logsieve.
"""

from .errors import PatternError
from .event import Event
from .pattern import FilterPattern, compile

__all__ = ["Event", "FilterPattern", "PatternError", "compile"]
