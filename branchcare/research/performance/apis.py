"""推荐绩效 API under /api/v1/research/performance/: the league table, the recommendations with their
outcome, one recommendation with its price path, and the price import.

Reads need a research-reading capability and are scoped like the pages (a recommendation outside the
caller's scope is a 404); the price import needs ``Cap.DATA_IMPORT``.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from branchcare.api.pagination import StandardPagination
from branchcare.api.schema import error_responses, id_parameter, list_error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.core import imports
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap

from . import import_specs
from . import selectors as sel
from .models import RecommendationOutcome
from .services import benchmark_security
from .views import _import_branch

TAGS = ["推荐绩效"]
PERIOD = OpenApiParameter(
    "period", str, enum=list(sel.PERIODS), description="发布时间：近3个月/近6个月/近1年/全部"
)
SINCE = OpenApiParameter("since", str, description="发布日期起（YYYY-MM-DD）")
UNTIL = OpenApiParameter("until", str, description="发布日期止（YYYY-MM-DD）")


class CanReadPerformance(BasePermission):
    message = _("您没有查看推荐绩效的权限。")

    def has_permission(self, request, view) -> bool:
        return sel.can_read(request.user)


class CanImportPrices(BasePermission):
    message = _("您没有导入行情的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_cap(Cap.DATA_IMPORT))


# --- serializers -------------------------------------------------------------------------------------------


class PerfLeagueRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="key", allow_null=True, help_text="分析师（用户）或研究来源的编号")
    name = serializers.CharField()
    count = serializers.IntegerField(help_text="推荐数")
    evaluated = serializers.IntegerField(help_text="已有 5 日以上收益的推荐数")
    decided = serializers.IntegerField(help_text="已有结果（达目标、触止损或观察期满）的推荐数")
    hits = serializers.IntegerField(help_text="先达到目标价的推荐数")
    stops = serializers.IntegerField(help_text="先触及止损价的推荐数")
    hit_rate = serializers.DecimalField(
        max_digits=7, decimal_places=2, allow_null=True, help_text="命中率（%）= hits ÷ decided"
    )
    avg_excess_5 = serializers.DecimalField(
        max_digits=12, decimal_places=6, allow_null=True, help_text="5 日平均超额收益（小数）"
    )
    avg_excess_20 = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)
    avg_excess_60 = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)


class PerfLeagueSerializer(serializers.Serializer):
    benchmark = serializers.CharField(help_text="基准指数")
    data_through = serializers.DateField(allow_null=True, help_text="参与计算的行情截至日期")
    computed_at = serializers.DateTimeField(allow_null=True)
    totals = PerfLeagueRowSerializer()
    authors = PerfLeagueRowSerializer(many=True)
    sources = PerfLeagueRowSerializer(many=True)


class PerfOutcomeSerializer(serializers.ModelSerializer):
    security_code = serializers.CharField(source="security.code")
    security_name = serializers.CharField(source="security.name")
    title = serializers.CharField(source="item.title")
    author_name = serializers.SerializerMethodField()
    source_name = serializers.CharField(source="source.name")
    target_price = serializers.DecimalField(
        source="item.target_price", max_digits=14, decimal_places=4, allow_null=True
    )
    stop_loss = serializers.DecimalField(
        source="item.stop_loss", max_digits=14, decimal_places=4, allow_null=True
    )
    id = serializers.IntegerField(source="item_id", help_text="研究成果（个股推荐）编号")
    status = serializers.CharField(help_text=" / ".join(RecommendationOutcome.Status.values))
    result = serializers.CharField(help_text=" / ".join(RecommendationOutcome.Result.values))

    class Meta:
        model = RecommendationOutcome
        fields = [
            "id", "title", "security_code", "security_name", "direction", "published_on", "author", "author_name",
            "source", "source_name", "target_price", "stop_loss", "entry_date", "entry_price", "benchmark_entry",
            "return_5", "benchmark_return_5", "excess_return_5", "return_20", "benchmark_return_20",
            "excess_return_20", "return_60", "benchmark_return_60", "excess_return_60", "target_hit_on",
            "stop_hit_on", "window_end", "result", "status", "data_through", "computed_at",
        ]  # fmt: skip

    def get_author_name(self, obj: RecommendationOutcome) -> str:
        return str(obj.author) if obj.author else ""


class PerfPathPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    security = serializers.FloatField(help_text="相对发布时价格的累计涨跌幅（%）")
    benchmark = serializers.FloatField(help_text="沪深300 同期累计涨跌幅（%）")


class PerfOutcomeDetailSerializer(PerfOutcomeSerializer):
    path = serializers.SerializerMethodField()

    class Meta(PerfOutcomeSerializer.Meta):
        fields = [*PerfOutcomeSerializer.Meta.fields, "path"]

    @extend_schema_field(PerfPathPointSerializer(many=True))
    def get_path(self, obj: RecommendationOutcome) -> list[dict[str, Any]]:
        return [{"date": d, "security": s, "benchmark": b} for d, s, b in sel.outcome_price_path(obj)]


class PriceImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=".xlsx 或 .csv（UTF-8/GBK），列：证券代码、日期、收盘价")
    dry_run = serializers.BooleanField(required=False, default=True, help_text="仅预检（默认），false 为导入")


class PriceImportRowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class PriceImportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="pending / running / previewed / done / failed")
    dry_run = serializers.BooleanField()
    message = serializers.CharField()
    total_rows = serializers.IntegerField()
    created_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    unchanged_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    row_errors = serializers.SerializerMethodField(help_text="错误行（最多 200 条）")

    @extend_schema_field(PriceImportRowErrorSerializer(many=True))
    def get_row_errors(self, job: Any) -> list[dict[str, Any]]:
        return [
            {"line": e[0], "column": e[1], "value": e[2], "message": e[3]} for e in (job.errors or [])[:200]
        ]


# --- views -------------------------------------------------------------------------------------------------


def _filters(request: AuthedRequest) -> sel.LeagueFilters:
    return sel.LeagueFilters.from_params(request.query_params, today=timezone.localdate())


class LeagueView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanReadPerformance]
    serializer_class = PerfLeagueSerializer
    queryset = RecommendationOutcome.objects.none()

    @extend_schema(
        summary="推荐绩效排行（按分析师、按研究来源）",
        description="推荐数、命中率、5/20/60 个交易日平均超额收益；只读取已计算的绩效表。",
        tags=TAGS,
        parameters=[
            PERIOD,
            SINCE,
            UNTIL,
            OpenApiParameter("sort", str, enum=[*sel.SORTS, *(f"-{k}" for k in sel.SORTS)]),
        ],
        responses={200: PerfLeagueSerializer, **error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        filters = _filters(request)
        filters = sel.LeagueFilters(since=filters.since, until=filters.until)
        sort = request.query_params.get("sort") or "excess_20"
        totals = sel.league_totals(viewer=request.user, filters=filters)
        bench = benchmark_security()
        body = {
            "benchmark": f"{bench.code} {bench.name}" if bench else "",
            "data_through": totals.data_through,  # type: ignore[attr-defined]
            "computed_at": totals.computed_at,  # type: ignore[attr-defined]
            "totals": totals,
            "authors": sel.league(viewer=request.user, by="author", filters=filters, sort=sort),
            "sources": sel.league(viewer=request.user, by="source", filters=filters, sort=sort),
        }
        return Response(PerfLeagueSerializer(body).data)


class RecommendationListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanReadPerformance]
    serializer_class = PerfOutcomeSerializer
    queryset = RecommendationOutcome.objects.none()
    pagination_class = StandardPagination

    @extend_schema(
        summary="个股推荐绩效列表",
        tags=TAGS,
        parameters=[PERIOD, SINCE, UNTIL, OpenApiParameter("author", int), OpenApiParameter("source", int)],
        responses={200: PerfOutcomeSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        page = self.paginate_queryset(sel.outcome_list(viewer=request.user, filters=_filters(request)))
        return self.get_paginated_response(PerfOutcomeSerializer(page, many=True).data)


class RecommendationDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanReadPerformance]
    serializer_class = PerfOutcomeDetailSerializer
    queryset = RecommendationOutcome.objects.none()

    @extend_schema(
        summary="个股推荐绩效详情（含发布后走势）",
        tags=TAGS,
        parameters=[id_parameter("研究成果（个股推荐）编号")],
        responses={200: PerfOutcomeDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        outcome = sel.outcome_get_for(viewer=request.user, item_id=pk)
        return Response(PerfOutcomeDetailSerializer(outcome).data)


class PriceImportView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanImportPrices]
    serializer_class = PriceImportRequestSerializer
    queryset = RecommendationOutcome.objects.none()
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="导入行情（每日收盘价）",
        description="上传文件，dry_run=true 仅预检并返回全部错误行；dry_run=false 导入，全部或全不。"
        "导入成功后自动增量计算推荐绩效。",
        tags=TAGS,
        request={"multipart/form-data": PriceImportRequestSerializer},
        responses={201: PriceImportJobSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthedRequest) -> Response:
        data = PriceImportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        branch = _import_branch(request.user)
        if branch is None:
            raise DomainError(str(_("您没有可导入数据的营业部。")), field="file")
        job = imports.import_job_start(
            actor=request.user,
            branch=branch,
            kind=import_specs.KIND,
            upload=upload,
            file_name=upload.name,
            dry_run=data.validated_data["dry_run"],
        )
        return Response(PriceImportJobSerializer(job).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("research/performance/league/", LeagueView.as_view(), name="api-performance-league"),
    path(
        "research/performance/recommendations/",
        RecommendationListView.as_view(),
        name="api-performance-recommendation-list",
    ),
    path(
        "research/performance/recommendations/<str:pk>/",
        RecommendationDetailView.as_view(),
        name="api-performance-recommendation-detail",
    ),
    path(
        "research/performance/prices/import/", PriceImportView.as_view(), name="api-performance-price-import"
    ),
]
