"""The one error the pattern language raises."""


class PatternError(ValueError):
    """An invalid filter pattern.

    ``message`` is worded like AWS's ``InvalidParameterException`` text so the API can pass it
    through unchanged; ``position`` is the 0-based offset in the pattern text where the problem
    is, so tools can point at it.
    """

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message
