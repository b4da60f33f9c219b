"""Query-parameter hygiene shared by the API list endpoints."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_ASCII_INT = re.compile(r"[0-9]{1,17}")


def clean_query_params(params: Mapping[str, str], *, int_params: Iterable[str] = ()) -> dict[str, str]:
    """A plain dict copy of ``params`` that is safe to hand to the selectors.

    NUL characters are removed (PostgreSQL refuses them in string literals, which would be a 500
    instead of an empty result), and the parameters named in ``int_params`` are kept only when they
    are plain ASCII digits (``"²".isdigit()`` is true but ``int("²")`` fails).
    """
    cleaned = {key: str(params.get(key) or "").replace("\x00", "") for key in params}
    for key in int_params:
        if key in cleaned and not _ASCII_INT.fullmatch(cleaned[key].strip()):
            del cleaned[key]
    return cleaned
