"""Errors that end a command with a clear message and an exit code.

Messages name the file, line and problem, never a cell's value: the value may
be personal data.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_INPUT = 2
EXIT_BUSY = 3
EXIT_UNFINISHED = 5


class InsynError(Exception):
    """An error the user can act on; the CLI prints it without a traceback."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InputError(InsynError):
    """A file that cannot be loaded: named with its line and the problem."""

    def __init__(self, file: str, problem: str, line: int | None = None):
        self.file = file
        self.line = line
        self.problem = problem
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {problem}")


class ConfigError(InsynError):
    """A configuration or policy file with a missing or invalid key."""

    def __init__(self, file: str, key: str, problem: str):
        self.file = file
        self.key = key
        super().__init__(f"{file}: {key}: {problem}")


class WarehouseBusy(InsynError):
    exit_code = EXIT_BUSY


class PurgeUnfinished(InsynError):
    """A purge's deletions are committed but what must follow them failed: the next purge finishes it."""

    exit_code = EXIT_UNFINISHED
