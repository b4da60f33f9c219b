"""Display filters following the Chinese conventions of ../shared/UI.md."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from branchcare.core.masking import mask_id_number, mask_phone

register = template.Library()


def _dec(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def money(value, places: int = 2) -> str:
    """1234567.8 -> 1,234,567.80 (元)."""
    d = _dec(value)
    return "—" if d is None else f"{d:,.{int(places)}f}"


@register.filter
def wan(value) -> str:
    """Large sums in 万元 / 亿元 for dashboards and summaries."""
    d = _dec(value)
    if d is None:
        return "—"
    if abs(d) >= Decimal("100000000"):
        return f"{d / Decimal('100000000'):,.2f} 亿元"
    return f"{d / Decimal('10000'):,.2f} 万元"


@register.filter
def qty(value) -> str:
    d = _dec(value)
    return "—" if d is None else f"{int(d):,}"


@register.filter
def pct(value) -> str:
    d = _dec(value)
    return "—" if d is None else f"{d:+.2f}%"


@register.filter
def updown(value) -> str:
    """CSS class: red for up/profit, green for down/loss (Chinese market convention)."""
    d = _dec(value)
    if d is None or d == 0:
        return ""
    return "up" if d > 0 else "down"


@register.filter
def phone(value, can_see: bool) -> str:
    return (value or "") if can_see else mask_phone(value)


@register.filter
def id_number(value, can_see: bool) -> str:
    return (value or "") if can_see else mask_id_number(value)
