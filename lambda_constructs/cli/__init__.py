"""The ``lambda-constructs`` command-line tool (report, right-size, measure, new)."""

from lambda_constructs.cli.main import main

__all__ = ["main"]
