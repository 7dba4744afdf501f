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


def with_caret(text: str, error: PatternError) -> str:
    """AWS's message, then the pattern and a caret under the offending character (what
    ``logsieve test-pattern`` prints and the console's playground shows)."""
    line = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    caret = " " * min(error.position, len(line)) + "^"
    return f"Invalid filter pattern: {error.message}\n  {line}\n  {caret}"
