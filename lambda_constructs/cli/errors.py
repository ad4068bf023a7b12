"""The command-line tool's own error type, in a module every command can import (no cycle through main)."""

from __future__ import annotations

EXIT_USAGE = 2


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""
