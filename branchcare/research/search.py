"""Full-text search over research titles and bodies that works for Chinese on SQLite and PostgreSQL.

Chinese has no spaces between words, so a word tokenizer finds nothing. Each item stores in
``search_text`` its lower-cased Latin words / numbers plus, for every run of CJK characters, the
single characters and the overlapping two-character pairs (bigrams): "半导体设备" →
``半 导 体 设 备 半导 导体 体设 设备``. A query is tokenised the same way (a CJK run of two or more
characters gives only its bigrams), and an item matches when it contains every query token — so
any Chinese substring such as "半导体" is found.

- PostgreSQL: ``to_tsvector('simple', search_text) @@ to_tsquery('simple', 'tok & tok')`` served by a
  GIN expression index (migration 0002); Latin words match by prefix (``'tok':*``).
- SQLite (and anything else): ``search_text LIKE '% tok %'`` per token (Latin words by prefix).
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[0-9a-z]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
MAX_QUERY_TOKENS = 12


def _cjk_tokens(run: str, *, unigrams: bool) -> list[str]:
    out = list(run) if unigrams or len(run) == 1 else []
    out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out


def index_tokens(*texts: str) -> str:
    """The ``search_text`` value for the given texts: unique tokens, space separated and padded."""
    seen: dict[str, None] = {}
    for text in texts:
        for run in _TOKEN_RE.findall((text or "").lower()):
            if _IS_CJK.match(run):
                for tok in _cjk_tokens(run, unigrams=True):
                    seen.setdefault(tok, None)
            else:
                seen.setdefault(run, None)
    return f" {' '.join(seen)} " if seen else ""


def query_tokens(q: str) -> list[tuple[str, bool]]:
    """``[(token, is_prefix)]`` for a user query (Latin words match by prefix)."""
    out: list[tuple[str, bool]] = []
    for run in _TOKEN_RE.findall((q or "").lower()):
        if _IS_CJK.match(run):
            out += [(t, False) for t in _cjk_tokens(run, unigrams=False)]
        else:
            out.append((run, True))
    unique = list(dict.fromkeys(out))
    return unique[:MAX_QUERY_TOKENS]


def apply_search(qs: QuerySet, q: str) -> QuerySet:
    """``qs`` (of ResearchItem) narrowed to items containing every token of ``q``."""
    tokens = query_tokens(q)
    if not tokens:
        return qs
    if connection.vendor == "postgresql":
        tsquery = " & ".join(f"'{tok}'" + (":*" if prefix else "") for tok, prefix in tokens)
        table = qs.model._meta.db_table
        return qs.extra(  # noqa: S610 - tokens are [0-9a-z] or CJK only; passed as a parameter
            where=[
                f"to_tsvector('simple'::regconfig, COALESCE(\"{table}\".\"search_text\", '')) "
                "@@ to_tsquery('simple'::regconfig, %s)"
            ],
            params=[tsquery],
        )
    for tok, prefix in tokens:
        qs = qs.filter(search_text__contains=f" {tok}" if prefix else f" {tok} ")
    return qs
