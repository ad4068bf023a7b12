"""The command-line tool's own error type, in a module every command can import (no cycle through main)."""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2


class UserError(Exception):
    """Bad usage the user can fix (an argument, an input file's content): one line, exit code 2."""


class CommandFailed(Exception):
    """A failure at run time (AWS, credentials, I/O): one line, exit code 1."""


class Findings(Exception):
    """The command ran and found what fails the check (drift, a change that loses data): main prints
    ``output`` on stdout and exits 1."""

    def __init__(self, output: str) -> None:
        super().__init__("findings")
        self.output = output
