"""Page-number pagination for every API list: ``{"count", "next", "previous", "results"}``."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination

from branchcare.clients.selectors import count_capped

COUNT_CAP = 10_000


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CappedCountPaginator(Paginator):
    """A Django paginator whose ``count`` is exact up to ``COUNT_CAP`` rows and ``COUNT_CAP`` beyond.

    Counting a whole large result set costs more than the page itself; ``count_capped`` stops at
    ``COUNT_CAP + 1`` rows. Pages past the cap are therefore out of range (404).
    """

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return count_capped(self.object_list, COUNT_CAP)[0]
        return len(self.object_list)


class CappedCountPagination(StandardPagination):
    """``StandardPagination`` for large lists (clients): ``count`` stops at 10 000, see ``CappedCountPaginator``."""

    django_paginator_class = CappedCountPaginator

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            f"结果总数：不超过 {COUNT_CAP} 条时为精确值；超过时固定为 {COUNT_CAP}，"
            f"且只能翻到前 {COUNT_CAP} 条，请用筛选条件缩小范围。"
        )
        return response
