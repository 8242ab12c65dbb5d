"""Exceptions shared by the API and the CLI."""


class UsageError(Exception):
    """A mistake in the command line (bad path, bad option value): exit code 2, one line."""
