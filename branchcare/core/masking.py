"""Masking of personal data (phone numbers, ID numbers) for viewers without the right to see it."""

from __future__ import annotations

import logging
import re


def mask_phone(phone: str | None) -> str:
    """``13812345678`` -> ``138****5678``; short numbers keep only their last 2 digits."""
    if not phone:
        return ""
    p = str(phone)
    if len(p) >= 7:
        return p[:3] + "*" * (len(p) - 7) + p[-4:]
    return "*" * max(0, len(p) - 2) + p[-2:]


def mask_id_number(id_number: str | None) -> str:
    """``310101199001011234`` -> ``3101**********1234`` (first 4 and last 4 kept)."""
    if not id_number:
        return ""
    s = str(id_number)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


# Mainland mobile numbers and 15/18-character resident ID numbers appearing in free text.
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{4})(\d{10}|\d{7})(\d{3}[0-9Xx]|\d{4})(?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    """Mask every phone and ID number found in free text (used on log lines and audit values)."""
    text = _ID_RE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    return _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class MaskingLogFilter(logging.Filter):
    """Logging filter that rewrites each record's message with personal data masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not break logging
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
