"""Read-only API of the service standards (``/api/v1/service-standards/``) and the trading calendar
(``/api/v1/trading-calendar/``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from branchcare.api.params import clean_query_params
from branchcare.api.schema import error_responses, list_error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.core.sla import CalendarRangeError

from .apis import BranchBriefSerializer
from .calendar import calendar_days, trading_calendar
from .capabilities import Cap
from .models import Branch, ServiceStandard, User
from .scope import branches_for

MAX_SPAN_DAYS = 366
DEFAULT_SPAN_DAYS = 30

# --- serializers -------------------------------------------------------------------------------------


class ServiceStandardSerializer(serializers.ModelSerializer):
    service_hours = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        read_only=True,
        help_text='服务时段，例如 [["09:30", "11:30"], ["13:00", "15:00"]]',
    )
    meeting_tiers = serializers.ListField(
        child=serializers.ChoiceField(choices=["large", "medium", "small"]),
        read_only=True,
        help_text="交流会邀请的客户层级",
    )
    meeting_time = serializers.SerializerMethodField(help_text="交流会时间，24 小时制 HH:MM")

    class Meta:
        model = ServiceStandard
        fields = [
            "id",
            "effective_from",
            "visits_per_day",
            "patrols_per_day",
            "contact_interval_large_days",
            "contact_interval_medium_days",
            "contact_interval_small_days",
            "consultation_deadline_hours",
            "service_hours",
            "meeting_weekday",
            "meeting_time",
            "meeting_tiers",
            "holding_drop_alert_pct",
            "note",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"allow_null": True, "help_text": "版本 id；营业部尚未设置时为 null（系统默认值）"},
            "effective_from": {"allow_null": True},
            "created_at": {"allow_null": True},
        }

    @extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "15:30"})
    def get_meeting_time(self, standard: ServiceStandard) -> str:
        return standard.meeting_time.strftime("%H:%M")


class BranchStandardsSerializer(serializers.Serializer):
    branch = BranchBriefSerializer(read_only=True)
    current = ServiceStandardSerializer(read_only=True, help_text="今天执行的版本")
    is_default = serializers.BooleanField(read_only=True, help_text="尚未设置，按系统默认值执行")
    versions = ServiceStandardSerializer(many=True, read_only=True, help_text="全部版本，生效日期由新到旧")


class TradingDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    is_trading_day = serializers.BooleanField()
    name = serializers.CharField(help_text="录入的例外名称，例如 2027年元旦；无则为空")


class TradingCalendarSerializer(serializers.Serializer):
    known_from = serializers.DateField(help_text="日历可计算的第一天")
    known_until = serializers.DateField(help_text="日历可计算的最后一天")
    days = TradingDaySerializer(many=True)


class TradingCalendarQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


# --- permissions ---------------------------------------------------------------------------------------


class CanReadServiceStandards(BasePermission):
    """Directors and administrators (who configure them) and supervisors (who assess against them)."""

    message = gettext_lazy("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (user.has_cap(Cap.ORG_CONFIGURE) or user.has_cap(Cap.SUPERVISE))
        )


def standards_branches(user: User) -> QuerySet[Branch]:
    """The branches whose standards ``user`` may read, each with its versions prefetched (newest first)."""
    allowed = Q(pk__in=branches_for(user, Cap.ORG_CONFIGURE).values("pk")) | Q(
        pk__in=branches_for(user, Cap.SUPERVISE).values("pk")
    )
    return (
        Branch.objects.filter(allowed)
        .prefetch_related(
            Prefetch(
                "service_standards",
                queryset=ServiceStandard.objects.order_by("-effective_from"),
                to_attr="versions",
            )
        )
        .order_by("code")
    )


# --- views ---------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="服务标准（当前版本与历史）",
        tags=["org"],
        responses={200: BranchStandardsSerializer(many=True), **list_error_responses(401, 403)},
    ),
)
class ServiceStandardViewSet(viewsets.GenericViewSet):
    """Per branch the caller configures or supervises: the version of the service standard in force
    today (system defaults when none is set) and every version."""

    permission_classes = [IsAuthenticated, CanReadServiceStandards]
    serializer_class = BranchStandardsSerializer
    queryset = Branch.objects.none()  # for schema introspection; reads use standards_branches()

    def list(self, request: AuthedRequest) -> Response:
        today = timezone.localdate()
        page = self.paginate_queryset(standards_branches(request.user))
        rows = []
        for branch in page or []:
            versions = branch.versions  # type: ignore[attr-defined]
            current = next((v for v in versions if v.effective_from <= today), None)
            rows.append(
                {
                    "branch": branch,
                    "current": current or ServiceStandard(branch=branch),
                    "is_default": current is None,
                    "versions": versions,
                }
            )
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


class TradingCalendarView(APIView):
    """Each date from ``start`` to ``end`` (default: today and the next 30 days) with whether the
    exchange trades. Dates past the known range answer 400 with the reason, never a guess."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="trading_calendar_retrieve",
        summary="交易日历",
        tags=["org"],
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="开始日期（含），默认今天"),
            OpenApiParameter(
                "end", OpenApiTypes.DATE, description="结束日期（含），默认开始日期后 30 天；最多一年"
            ),
        ],
        responses={200: TradingCalendarSerializer, **error_responses(400, 401)},
    )
    def get(self, request: AuthedRequest) -> Response:
        query = TradingCalendarQuerySerializer(data=clean_query_params(request.query_params))
        query.is_valid(raise_exception=True)
        start: dt.date = query.validated_data.get("start") or timezone.localdate()
        end: dt.date | None = query.validated_data.get("end")
        if end is None:
            end = start + min(dt.timedelta(days=DEFAULT_SPAN_DAYS), dt.date.max - start)
        if end < start:
            return Response({"end": [_("结束日期不能早于开始日期。")]}, status=400)
        if (end - start).days >= MAX_SPAN_DAYS:
            return Response({"end": [_("一次最多查询 %(n)d 天。") % {"n": MAX_SPAN_DAYS}]}, status=400)
        cal = trading_calendar()
        if cal.known_from and start < cal.known_from:
            return Response(
                {"start": [_("交易日历从 %(d)s 开始，不能查询更早的日期。") % {"d": cal.known_from}]},
                status=400,
            )
        try:
            days = calendar_days(start, end)
        except CalendarRangeError as exc:
            return Response({"detail": str(exc)}, status=400)
        body = {
            "known_from": cal.known_from,
            "known_until": cal.known_until,
            "days": [{"date": d.date, "is_trading_day": d.is_trading_day, "name": d.name} for d in days],
        }
        return Response(TradingCalendarSerializer(body).data)
