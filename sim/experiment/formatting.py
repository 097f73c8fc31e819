"""How an experiment's figures are written: in the terminal tables and in the reports."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def number(value: Any, *, grouped: bool = True) -> str:
    """A figure for a table: integers whole, others with four significant digits.

    ``grouped``: thousands separated by commas (reports); the terminal tables leave them out.
    """
    if not (isinstance(value, int | float | np.number) and math.isfinite(float(value))):
        return "n/a"
    value = float(value)
    comma = "," if grouped else ""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):{comma}}"
    if abs(value) >= 100:
        return f"{value:{comma}.1f}"
    return f"{value:.4g}"


def interval(low: Any, high: Any, *, grouped: bool = True) -> str:
    """``[low, high]``, or a note when the interval is undefined."""
    if not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return "n/a (needs 2 replications)"
    return f"[{number(low, grouped=grouped)}, {number(high, grouped=grouped)}]"
