"""Template filters of the performance pages: returns are stored as fractions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def fpct(value) -> str:
    """A fraction as a signed percentage: ``0.0523`` -> ``+5.23%``; None -> ``—``."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value)) * 100
    except InvalidOperation:
        return "—"
    return f"{d:+.2f}%"


@register.filter
def rate(value) -> str:
    """A percentage without sign: ``66.666`` -> ``66.67%``; None -> ``—``."""
    if value is None:
        return "—"
    return f"{Decimal(str(value)):.2f}%"
