"""Error types the CLI turns into one clear line.

Every expected failure (bad input, unknown plugin, unreadable checkpoint) is a
:class:`LargeTkError`.  The message names the problem; ``hint`` names the fix.
``UserInputError`` maps to exit code 2, everything else to exit code 1.
"""

from __future__ import annotations


class LargeTkError(Exception):
    """Base class for every error large-tk reports to a user."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and its fix on a single line, as the CLI prints it."""
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def __str__(self) -> str:
        return self.one_line()


class UserInputError(LargeTkError, ValueError):
    """The user's input (a file, an argument, a label table) is wrong."""

    exit_code = 2


class ShapeError(UserInputError):
    """A tensor does not have the shape the operation needs."""


class CheckpointError(UserInputError):
    """A checkpoint file is unreadable, truncated, unsafe or of an unknown format."""


class UnsafePickleError(CheckpointError):
    """A pickle asked for a global that the restricted reader does not allow."""


class UnknownPluginError(UserInputError, KeyError):
    """A generator, inverter or direction finder name is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.one_line()


class ArtifactMismatchError(UserInputError):
    """A saved artifact was made for a different generator or latent space."""


class DeviceError(UserInputError):
    """The requested device does not exist on this machine."""
