"""现场服务看板 API (``/api/v1/onsite/dashboard/``): every customer manager's figures for today and this
month, the same numbers as the page (Cap.SUPERVISE; company scope may pick a branch)."""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from branchcare.api.params import clean_query_params
from branchcare.api.permissions import HasCapability
from branchcare.api.schema import error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.org.apis import BranchBriefSerializer
from branchcare.org.capabilities import Cap

from .selectors_dashboard import PERIODS, dashboard_branch_for, onsite_dashboard


class FiguresSerializer(serializers.Serializer):
    visits_planned = serializers.IntegerField(help_text="计划拜访（不含已调换）")
    visits_done = serializers.IntegerField(help_text="已完成的计划拜访")
    visits_unplanned = serializers.IntegerField(help_text="计划外拜访")
    patrols_planned = serializers.IntegerField(help_text="计划巡视")
    patrols_done = serializers.IntegerField(help_text="已完成的计划巡视")
    patrols_unplanned = serializers.IntegerField(help_text="计划外巡视")
    orders_open = serializers.IntegerField(help_text="在办咨询单（当前）")
    orders_overdue = serializers.IntegerField(help_text="逾期咨询单（当前）")
    orders_due = serializers.IntegerField(help_text="期内到期且已交付或已超时的咨询单")
    orders_ontime = serializers.IntegerField(help_text="其中按时交付的")
    orders_late = serializers.IntegerField(help_text="其中超时的")
    orders_reviewed = serializers.IntegerField(help_text="期内出具意见的咨询单")
    orders_rework = serializers.IntegerField(help_text="其中被退回过的")
    ontime_rate = serializers.FloatField(allow_null=True, help_text="准时率 %（无到期咨询单时为 null）")
    rework_rate = serializers.FloatField(allow_null=True, help_text="退回率 %（无出具意见时为 null）")
    median_turnaround_hours = serializers.FloatField(
        allow_null=True, help_text="提交至出具意见的服务时段小时数中位数"
    )


class ManagerRowSerializer(serializers.Serializer):
    manager_id = serializers.IntegerField()
    manager_name = serializers.CharField()
    today = FiguresSerializer()
    month = FiguresSerializer()


class DashboardSerializer(serializers.Serializer):
    branch = BranchBriefSerializer()
    as_of = serializers.DateTimeField(help_text="统计时刻")
    managers = ManagerRowSerializer(many=True)


class OnsiteDashboardView(APIView):
    permission_classes = [IsAuthenticated, HasCapability]
    required_capabilities = {"get": Cap.SUPERVISE}

    @extend_schema(
        operation_id="onsite_dashboard_retrieve",
        summary="现场服务看板：各客户经理今日与本月指标",
        tags=["onsite"],
        parameters=[OpenApiParameter("branch", int, description="营业部 id；默认为本人所在营业部")],
        responses={200: DashboardSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = clean_query_params(request.query_params, int_params=["branch"])
        branch = dashboard_branch_for(viewer=request.user, branch_id=params.get("branch"))
        now = timezone.now()
        dash = onsite_dashboard(branch=branch, now=now)
        rows = []
        for i, manager in enumerate(dash.managers):
            rows.append(
                {
                    "manager_id": manager.pk,
                    "manager_name": str(manager),
                    **{key: dash.figures[key][i].as_dict() for key in PERIODS},
                }
            )
        return Response(DashboardSerializer({"branch": branch, "as_of": now, "managers": rows}).data)


urlpatterns = [path("onsite/dashboard/", OnsiteDashboardView.as_view(), name="api-onsite-dashboard")]
