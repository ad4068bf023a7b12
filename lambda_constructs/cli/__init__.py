"""The ``lambda-constructs`` command-line tool (report, right-size, measure)."""

from lambda_constructs.cli.main import main

__all__ = ["main"]
