"""Pinyin of Chinese names for search: full pinyin and initials (张三 -> zhangsan, zs)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def name_pinyin(name: str) -> tuple[str, str]:
    """``(full, initials)`` in lower case, non-Chinese characters kept as they are (lower-cased)."""
    name = (name or "").strip()
    if not name:
        return "", ""
    full = "".join(lazy_pinyin(name, errors=list)).lower()  # type: ignore[arg-type]
    initials = "".join(
        p[:1]
        for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors=list)  # type: ignore[arg-type]
    ).lower()
    return full[:200], initials[:50]
