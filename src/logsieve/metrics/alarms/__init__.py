"""CloudWatch metric alarms: their API operations, their evaluation as AWS evaluates them, the
ticker that evaluates them on a clock, and the actions they run on transitions."""

from .runtime import Alarms, build_alarms
from .service import AlarmService

__all__ = ["AlarmService", "Alarms", "build_alarms"]
