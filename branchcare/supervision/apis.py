"""监督考核 API under /api/v1/supervision/: scorecards (from the rollups), the live dashboard data and the
compliance checks — the same selectors and scope as the pages (Cap.SUPERVISE / Cap.COMPLIANCE_REVIEW;
a branch outside the viewer's scope is 404)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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
from branchcare.org.scope import branches_for

from . import compliance as comp
from . import live
from .periods import KINDS, parse_date_strict, period_for, pick
from .selectors import assessed_roles, branch_for, is_company_view, scorecard_table, supervised_branches

# --- serializers ----------------------------------------------------------------------------------------------


class SupervisionScorecardItemSerializer(serializers.Serializer):
    measure = serializers.CharField(help_text="指标代码")
    label = serializers.CharField(help_text="指标名称")  # type: ignore[assignment]
    unit = serializers.CharField(help_text="单位（% / 次 / 小时 / 分 …）")
    direction = serializers.ChoiceField(choices=["higher", "lower"], help_text="higher = 越高越好")
    weight = serializers.IntegerField()
    target = serializers.FloatField(help_text="目标值（100 分）")
    threshold = serializers.FloatField(help_text="底线值（0 分）")


class SupervisionFigureSerializer(serializers.Serializer):
    measure = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="期间值（无数据时为 null）")
    numerator = serializers.FloatField()
    denominator = serializers.FloatField()
    score = serializers.FloatField(allow_null=True, help_text="该指标得分 0–100")


class SupervisionScoreLineSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["person", "team", "branch"])
    label = serializers.CharField()  # type: ignore[assignment]
    employee_id = serializers.IntegerField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    total = serializers.FloatField(allow_null=True, help_text="综合得分（有数据指标的加权平均）")
    figures = SupervisionFigureSerializer(many=True)


class SupervisionScorecardSerializer(serializers.Serializer):
    branch = BranchBriefSerializer()
    role = serializers.CharField()
    period = serializers.CharField(help_text="week / month / quarter")
    first = serializers.DateField()
    last = serializers.DateField()
    version_effective_from = serializers.DateField(
        allow_null=True, help_text="所用方案的生效日期；null = 系统默认"
    )
    items = SupervisionScorecardItemSerializer(many=True)
    lines = SupervisionScoreLineSerializer(many=True)


class SupervisionCounterSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    column = serializers.ChoiceField(choices=["due", "done", "overdue"])
    count = serializers.IntegerField()


class SupervisionPersonSerializer(serializers.Serializer):
    employee_id = serializers.IntegerField()
    name = serializers.CharField()
    due = serializers.IntegerField()
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()
    uncovered_clients = serializers.IntegerField(help_text="超过层级联系间隔未联系的客户（按最近一次汇总）")
    expired_assessments = serializers.IntegerField(help_text="风险测评过期或缺失的客户")
    counters = SupervisionCounterSerializer(many=True)


class SupervisionBranchDashSerializer(serializers.Serializer):
    branch = BranchBriefSerializer()
    due = serializers.IntegerField()
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()
    uncovered_clients = serializers.IntegerField()
    expired_assessments = serializers.IntegerField()
    people = SupervisionPersonSerializer(many=True)


class SupervisionBreachSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()


class SupervisionDashboardSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    branches = SupervisionBranchDashSerializer(many=True)
    sla_breaches = SupervisionBreachSerializer(many=True)


class SupervisionCheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    rule = serializers.CharField()
    must_be_zero = serializers.BooleanField(help_text="为 true 时数量必须为 0")
    count = serializers.IntegerField()


class SupervisionCheckRecordSerializer(serializers.Serializer):
    at = serializers.CharField(allow_null=True)
    title = serializers.CharField()  # type: ignore[assignment]
    detail = serializers.CharField()
    person = serializers.CharField()
    url = serializers.CharField()


class SupervisionCheckDetailSerializer(SupervisionCheckSerializer):
    records = SupervisionCheckRecordSerializer(many=True, help_text="最多 500 条")


# --- views ---------------------------------------------------------------------------------------------------


class ScorecardView(APIView):
    permission_classes = [IsAuthenticated, HasCapability]
    required_capabilities = {"get": Cap.SUPERVISE}

    @extend_schema(
        operation_id="supervision_scorecard_retrieve",
        summary="考核评分：某营业部某角色在一个考核期的得分（来自每日汇总）",
        tags=["supervision"],
        parameters=[
            OpenApiParameter("branch", int, description="营业部 id；默认本人所在营业部"),
            OpenApiParameter("role", str, description="角色代码（manager / consultant …）"),
            OpenApiParameter("period", str, enum=list(KINDS), description="考核期间类型，默认 month"),
            OpenApiParameter(
                "date", str, description="期间内任一日期 YYYY-MM-DD（1900–2999 年），默认今天；格式有误时 400"
            ),
        ],
        responses={200: SupervisionScorecardSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = clean_query_params(request.query_params, int_params=["branch"])
        branch = branch_for(viewer=request.user, branch_id=params.get("branch"))
        roles = dict(assessed_roles())
        role = pick(params.get("role"), roles, next(iter(roles)))
        kind = pick(params.get("period"), KINDS, "month")
        day = timezone.localdate()
        if params.get("date"):
            parsed = parse_date_strict(params["date"])
            if parsed is None:
                raise serializers.ValidationError(
                    {"date": [_("日期格式应为 YYYY-MM-DD，且在 1900 年至 2999 年之间。")]}
                )
            day = parsed
        period = period_for(kind, day)
        table = scorecard_table(branch=branch, role=role, period=period)
        lines = []
        for line in table.lines:
            figures = []
            for item in table.version.items:
                fig = line.figures.get(item.measure.code)
                figures.append(
                    {
                        "measure": item.measure.code,
                        "value": fig.value if fig and fig.has_data else None,
                        "numerator": fig.numerator if fig else 0,
                        "denominator": fig.denominator if fig else 0,
                        "score": line.item_scores.get(item.measure.code),
                    }
                )
            lines.append(
                {
                    "level": line.level,
                    "label": line.label,
                    "employee_id": line.employee.pk if line.employee else None,
                    "team_id": line.team.pk if line.team else None,
                    "total": line.total,
                    "figures": figures,
                }
            )
        data = {
            "branch": branch,
            "role": role,
            "period": kind,
            "first": period.first,
            "last": period.last,
            "version_effective_from": table.version.effective_from,
            "items": [
                {
                    "measure": i.measure.code,
                    "label": str(i.measure.label),
                    "unit": i.measure.unit,
                    "direction": i.measure.direction,
                    "weight": i.weight,
                    "target": i.target,
                    "threshold": i.threshold,
                }
                for i in table.version.items
            ],
            "lines": lines,
        }
        return Response(SupervisionScorecardSerializer(data).data)


class DashboardView(APIView):
    permission_classes = [IsAuthenticated, HasCapability]
    required_capabilities = {"get": Cap.SUPERVISE}

    @extend_schema(
        operation_id="supervision_dashboard_retrieve",
        summary="督导看板：今日每人应办 / 已办 / 逾期，SLA 违约，未按期联系客户，测评过期",
        tags=["supervision"],
        parameters=[
            OpenApiParameter(
                "branch", int, description="营业部 id；公司级权限不传时返回全部营业部，否则为本人所在营业部"
            )
        ],
        responses={200: SupervisionDashboardSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = clean_query_params(request.query_params, int_params=["branch"])
        if is_company_view(request.user) and not params.get("branch"):
            branches = list(supervised_branches(request.user))
        else:
            branches = [branch_for(viewer=request.user, branch_id=params.get("branch"))]
        now = timezone.now()
        dash = live.dashboard(branches=branches, now=now)
        counters = [c for s in live.sources().values() for c in s.counters]

        def person(r: Any) -> dict[str, Any]:
            return {
                "employee_id": r.employee.pk,
                "name": str(r.employee),
                "due": r.live.due,
                "done": r.live.done,
                "overdue": r.live.overdue,
                "uncovered_clients": r.uncovered,
                "expired_assessments": r.expired,
                "counters": [
                    {
                        "key": c.key,
                        "label": str(c.label),
                        "column": c.column,
                        "count": r.live.counts.get(c.key, 0),
                    }
                    for c in counters
                ],
            }

        data = {
            "as_of": now,
            "branches": [
                {
                    "branch": bd.branch,
                    "due": bd.due,
                    "done": bd.done,
                    "overdue": bd.overdue,
                    "uncovered_clients": bd.uncovered,
                    "expired_assessments": bd.expired,
                    "people": [person(r) for r in bd.rows],
                }
                for bd in dash
            ],
            "sla_breaches": [
                {"key": c.key, "label": f"{s.label} · {c.label}", "count": n}
                for s, c, n in live.sla_from(dash)
            ],
        }
        return Response(SupervisionDashboardSerializer(data).data)


def _check_ids(request: AuthedRequest) -> list[int]:
    return list(branches_for(request.user, Cap.COMPLIANCE_REVIEW).values_list("pk", flat=True))


def _check_data(check: comp.Check, count: int) -> dict[str, Any]:
    return {
        "code": check.code,
        "label": str(check.label),
        "rule": str(check.rule),
        "must_be_zero": check.must_be_zero,
        "count": count,
    }


class ComplianceChecksView(APIView):
    permission_classes = [IsAuthenticated, HasCapability]
    required_capabilities = {"get": Cap.COMPLIANCE_REVIEW}

    @extend_schema(
        operation_id="supervision_compliance_checks_list",
        summary="合规检查：各检查项及其数量（本人负责的营业部）",
        tags=["supervision"],
        responses={200: SupervisionCheckSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        ids, now = _check_ids(request), timezone.now()
        return Response(
            SupervisionCheckSerializer(
                [_check_data(c, c.query(ids, now).count()) for c in comp.checks()], many=True
            ).data
        )


class ComplianceCheckDetailView(APIView):
    permission_classes = [IsAuthenticated, HasCapability]
    required_capabilities = {"get": Cap.COMPLIANCE_REVIEW}

    @extend_schema(
        operation_id="supervision_compliance_check_retrieve",
        summary="合规检查：一个检查项的记录清单（最多 500 条）",
        tags=["supervision"],
        parameters=[
            OpenApiParameter(
                "code", str, OpenApiParameter.PATH, description="检查项代码（见合规检查列表的 code）"
            )
        ],
        responses={200: SupervisionCheckDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, code: str) -> Response:
        check = comp.check_get(code)
        qs = check.query(_check_ids(request), timezone.now())
        records = []
        for obj in qs[:500]:
            r = check.describe(obj)
            records.append(
                {"at": r.at.isoformat() if r.at else None, "title": r.title, "detail": r.detail,
                 "person": r.person, "url": r.url}
            )  # fmt: skip
        return Response(
            SupervisionCheckDetailSerializer({**_check_data(check, qs.count()), "records": records}).data
        )


urlpatterns = [
    path("supervision/scorecards/", ScorecardView.as_view(), name="api-supervision-scorecard"),
    path("supervision/dashboard/", DashboardView.as_view(), name="api-supervision-dashboard"),
    path("supervision/compliance/checks/", ComplianceChecksView.as_view(), name="api-supervision-checks"),
    path(
        # Any segment reaches the view, so that an unknown code answers a JSON 404 (not the HTML page).
        "supervision/compliance/checks/<str:code>/",
        ComplianceCheckDetailView.as_view(),
        name="api-supervision-check",
    ),
]
