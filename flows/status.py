"""`guidefund status`: the consolidated submission state from the warehouse (issue 4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register(add: Callable[..., Any]) -> None:
    """Add this module's subcommands to the `guidefund` parser (none yet)."""
