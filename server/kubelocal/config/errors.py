"""Errors of the config package.

Checking a config never raises: what is wrong with a file is a `problems.Problem`. Exceptions are
kept for a broken installation::

    ConfigError
    └── SchemaNotFoundError   the JSON schema is neither packaged nor in the source tree
"""

from __future__ import annotations


class ConfigError(Exception):
    """Base of the config package's exceptions."""


class SchemaNotFoundError(ConfigError):
    """The schema file is missing: the installation is incomplete."""
