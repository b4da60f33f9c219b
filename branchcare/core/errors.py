"""The one exception type domain code raises: a translated, human message, optionally naming a field."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the operation. ``message`` is shown to the user as is."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return self.message
