"""API of visit plans, visits, patrols, rooms and follow-ups (under ``/api/v1/``).

Scoped like the pages: a customer manager sees their own plans, visits and patrols, a director the
branch's (``selectors_visits``); another manager's or branch's object is a 404, a caller without
``Cap.ONSITE_SERVE`` / ``Cap.SUPERVISE`` gets 403. Visits and patrols are written only through
``services_visits`` (atomic, audited); a ``DomainError`` answers 400 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from branchcare.api.params import clean_query_params
from branchcare.api.schema import ID_SEGMENT, error_responses, id_parameter, list_error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.org.apis import StaffBriefSerializer
from branchcare.org.capabilities import Cap
from branchcare.org.models import Room, User

from . import selectors_visits as sel
from .models import FollowUp, Patrol, PatrolPlanItem, Visit, VisitPlan, VisitPlanItem
from .services_visits import followup_complete, patrol_record, visit_record

TAGS = ["onsite"]


class BoundedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id outside the database's integer range is "not found", not a server error."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not 0 < data < 2**53:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class CanServeOnsite(BasePermission):
    """Customer managers (own scope) and directors (branch scope)."""

    message = gettext_lazy("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        return sel.can_use(request.user)


class CanSeeFollowUps(BasePermission):
    message = gettext_lazy("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and any(user.has_cap(c) for c in (Cap.ONSITE_SERVE, Cap.ADVICE_WRITE, Cap.SUPERVISE))
        )


# --- serializers -----------------------------------------------------------------------------------------


def _choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField documented as a string listing its values: "status", "kind" and "state" name
    different choice sets in different apps, and drf-spectacular's enum components (named by field)
    would collide. The values are still validated."""
    description = "；".join(f"{value} {label}" for value, label in choices)
    cls = extend_schema_field({"type": "string", "description": description})(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return cls(choices=choices, **kwargs)


class ClientBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    client_no = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class RoomSerializer(serializers.ModelSerializer):
    kind = _choice(Room.Kind.choices, read_only=True)

    class Meta:
        model = Room
        fields = ["id", "branch", "name", "kind", "capacity"]
        read_only_fields = fields


class PlanItemSerializer(serializers.ModelSerializer):
    client = ClientBriefSerializer(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="入选原因")
    status = _choice(VisitPlanItem.Status.choices, read_only=True)

    class Meta:
        model = VisitPlanItem
        fields = ["id", "rank", "client", "reasons", "status", "swap_reason", "replaced_by"]
        read_only_fields = fields


class PatrolPlanItemSerializer(serializers.ModelSerializer):
    room = RoomSerializer(read_only=True)
    status = _choice(PatrolPlanItem.Status.choices, read_only=True)

    class Meta:
        model = PatrolPlanItem
        fields = ["id", "round_no", "room", "status"]
        read_only_fields = fields


class VisitPlanSerializer(serializers.ModelSerializer):
    manager = StaffBriefSerializer(read_only=True)
    items = PlanItemSerializer(many=True, read_only=True)
    patrol_items = PatrolPlanItemSerializer(many=True, read_only=True)

    class Meta:
        model = VisitPlan
        fields = [
            "id", "branch", "manager", "date", "visits_quota", "patrols_quota", "generated_at", "items",
            "patrol_items",
        ]  # fmt: skip
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    owner = StaffBriefSerializer(read_only=True)
    kind = _choice(FollowUp.Kind.choices, read_only=True)
    state = _choice(FollowUp.State.choices, read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id", "branch", "kind", "description", "owner", "due_on", "state", "patrol", "visit", "client",
            "created_at", "done_at", "resolution",
        ]  # fmt: skip
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    place = _choice(Visit.Place.choices, read_only=True)
    client = ClientBriefSerializer(read_only=True)
    manager = StaffBriefSerializer(read_only=True)
    planned = serializers.BooleanField(read_only=True, help_text="是否计划内拜访")
    consultation_orders = serializers.ManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(read_only=True),
        source="orders",
        read_only=True,
        help_text="本次拜访发起的咨询单 id",
    )

    class Meta:
        model = Visit
        fields = [
            "id", "branch", "manager", "client", "at", "place", "room", "topic", "concerns",
            "holdings_confirmed", "satisfaction", "follow_up", "plan_item", "planned",
            "consultation_orders", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class FollowUpWriteSerializer(serializers.Serializer):
    kind = _choice(FollowUp.Kind.choices, required=False)
    description = serializers.CharField(max_length=2000)
    due_on = serializers.DateField(required=False, help_text="默认下一个交易日")
    owner = BoundedPrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, help_text="负责人员工 id，默认记录人"
    )


class VisitWriteSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**53, help_text="客户 id（须在您的服务范围内）")
    at = serializers.DateTimeField(help_text="拜访时间，不能晚于当前时间")
    place = _choice(Visit.Place.choices, required=False)
    room = serializers.IntegerField(
        min_value=1, max_value=2**53, required=False, allow_null=True, help_text="地点为大户室时的房间 id"
    )
    topic = serializers.CharField(max_length=200)
    concerns = serializers.CharField(required=False, allow_blank=True)
    holdings_confirmed = serializers.BooleanField(required=False)
    satisfaction = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    follow_up = serializers.CharField(required=False, allow_blank=True)
    followups = FollowUpWriteSerializer(many=True, required=False)
    consultation_question = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="填写则同时发起咨询单（草稿，取客户当前持仓快照），与拜访一并保存",
    )


class PatrolSerializer(serializers.ModelSerializer):
    manager = StaffBriefSerializer(read_only=True)
    room = RoomSerializer(read_only=True)
    clients_present = ClientBriefSerializer(many=True, read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True)

    class Meta:
        model = Patrol
        fields = [
            "id", "branch", "manager", "room", "at", "observations", "clients_present", "plan_item",
            "follow_ups", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProblemWriteSerializer(FollowUpWriteSerializer):
    client = serializers.IntegerField(
        min_value=1, max_value=2**53, required=False, help_text="涉及的客户 id（本营业部）"
    )


class PatrolWriteSerializer(serializers.Serializer):
    room = serializers.IntegerField(min_value=1, max_value=2**53, help_text="房间 id（本营业部）")
    at = serializers.DateTimeField()
    observations = serializers.CharField(required=False, allow_blank=True)
    clients_present = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53), required=False
    )
    problems = ProblemWriteSerializer(many=True, required=False)


class CompleteSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=4000)


# --- helpers -----------------------------------------------------------------------------------------------


def _int_param(params: dict[str, str], name: str) -> int | None:
    """An integer query parameter (``clean_query_params`` kept it only if it is plain digits)."""
    value = params.get(name)
    return int(value) if value else None


def _date_param(params: Any, name: str) -> dt.date | None:
    value = params.get(name)
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise serializers.ValidationError({name: ["日期格式应为 YYYY-MM-DD。"]}) from None


def _branch_client(user: User, pk: int | None, field: str):
    """A client of the caller's branch (for patrols: clients present, problems)."""
    client = Client.objects.filter(pk=pk, branch=user.branch).first() if pk else None
    if pk and client is None:
        raise serializers.ValidationError({field: ["客户不存在或不属于本营业部。"]})
    return client


PLAN_ID = [id_parameter("拜访计划 id")]
VISIT_ID = [id_parameter("拜访 id")]
PATROL_ID = [id_parameter("巡视 id")]
FOLLOWUP_ID = [id_parameter("跟进事项 id")]


# --- views ---------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="拜访计划",
        tags=TAGS,
        parameters=[
            OpenApiParameter("date", str, description="日期 YYYY-MM-DD"),
            OpenApiParameter("manager", int, description="客户经理 id"),
        ],
        responses={200: VisitPlanSerializer(many=True), **list_error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="拜访计划详情",
        tags=TAGS,
        parameters=PLAN_ID,
        responses={200: VisitPlanSerializer, **error_responses(401, 403, 404)},
    ),
)
class VisitPlanViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, CanServeOnsite]
    serializer_class = VisitPlanSerializer
    queryset = VisitPlan.objects.none()
    lookup_value_regex = ID_SEGMENT

    def get_queryset(self):
        qs = sel.plans_visible(viewer=self.request.user).select_related("manager")
        qs = qs.prefetch_related(
            Prefetch("items", queryset=VisitPlanItem.objects.select_related("client").order_by("rank")),
            Prefetch(
                "patrol_items", queryset=PatrolPlanItem.objects.select_related("room").order_by("round_no")
            ),
        )
        if self.action == "list":
            params = clean_query_params(self.request.query_params, int_params=("manager",))
            day = _date_param(params, "date")
            if day:
                qs = qs.filter(date=day)
            manager_id = _int_param(params, "manager")
            if manager_id:
                qs = qs.filter(manager_id=manager_id)
        return qs.order_by("-date", "manager__username", "pk")

    def get_object(self):
        return sel._get(self.get_queryset(), self.kwargs["pk"])


@extend_schema_view(
    list=extend_schema(
        summary="拜访记录",
        tags=TAGS,
        parameters=[
            OpenApiParameter("manager", int, description="客户经理 id"),
            OpenApiParameter("client", int, description="客户 id"),
            OpenApiParameter("start", str, description="开始日期（含）YYYY-MM-DD"),
            OpenApiParameter("end", str, description="结束日期（含）YYYY-MM-DD"),
            OpenApiParameter("planned", bool, description="计划内 / 计划外"),
        ],
        responses={200: VisitSerializer(many=True), **list_error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="拜访详情",
        tags=TAGS,
        parameters=VISIT_ID,
        responses={200: VisitSerializer, **error_responses(401, 403, 404)},
    ),
    create=extend_schema(
        summary="记录拜访",
        tags=TAGS,
        request=VisitWriteSerializer,
        responses={201: VisitSerializer, **error_responses(400, 401, 403)},
    ),
)
class VisitViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, CanServeOnsite]
    serializer_class = VisitSerializer
    queryset = Visit.objects.none()
    parser_classes = [JSONParser]
    lookup_value_regex = ID_SEGMENT

    def list(self, request: AuthedRequest) -> Response:
        params = clean_query_params(request.query_params, int_params=("manager", "client"))
        start, end = _date_param(params, "start"), _date_param(params, "end")
        planned = {"true": True, "1": True, "false": False, "0": False}.get(
            str(params.get("planned", "")).lower()
        )
        qs = sel.visit_list(
            viewer=request.user,
            manager_id=_int_param(params, "manager"),
            client_id=_int_param(params, "client"),
            start=sel_day(start),
            end=sel_day(end + dt.timedelta(days=1)) if end else None,
            planned=planned,
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(VisitSerializer(page, many=True).data)

    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        return Response(VisitSerializer(sel.visit_get(viewer=request.user, pk=pk)).data)

    def create(self, request: AuthedRequest) -> Response:
        body = VisitWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        client = sel.serveable_clients(viewer=request.user).filter(pk=data.pop("client")).first()
        if client is None:
            raise serializers.ValidationError({"client": ["客户不存在或不在您的服务范围内。"]})
        room_id = data.pop("room", None)
        data["room"] = sel.rooms_visible(viewer=request.user).filter(pk=room_id).first() if room_id else None
        if room_id and data["room"] is None:
            raise serializers.ValidationError({"room": ["房间不存在或不在您的范围内。"]})
        visit = visit_record(actor=request.user, client=client, data=data)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


def sel_day(day: dt.date | None) -> dt.datetime | None:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min)) if day else None


@extend_schema_view(
    list=extend_schema(
        summary="巡视记录",
        tags=TAGS,
        parameters=[
            OpenApiParameter("manager", int, description="客户经理 id"),
            OpenApiParameter("room", int, description="房间 id"),
            OpenApiParameter("start", str, description="开始日期（含）YYYY-MM-DD"),
            OpenApiParameter("end", str, description="结束日期（含）YYYY-MM-DD"),
        ],
        responses={200: PatrolSerializer(many=True), **list_error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="巡视详情",
        tags=TAGS,
        parameters=PATROL_ID,
        responses={200: PatrolSerializer, **error_responses(401, 403, 404)},
    ),
    create=extend_schema(
        summary="记录巡视",
        tags=TAGS,
        request=PatrolWriteSerializer,
        responses={201: PatrolSerializer, **error_responses(400, 401, 403)},
    ),
)
class PatrolViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, CanServeOnsite]
    serializer_class = PatrolSerializer
    queryset = Patrol.objects.none()
    parser_classes = [JSONParser]
    lookup_value_regex = ID_SEGMENT

    def _qs(self, qs):
        return qs.prefetch_related("clients_present", "follow_ups__owner")

    def list(self, request: AuthedRequest) -> Response:
        params = clean_query_params(request.query_params, int_params=("manager", "room"))
        start, end = _date_param(params, "start"), _date_param(params, "end")
        qs = sel.patrol_list(
            viewer=request.user,
            manager_id=_int_param(params, "manager"),
            room_id=_int_param(params, "room"),
            start=sel_day(start),
            end=sel_day(end + dt.timedelta(days=1)) if end else None,
        )
        page = self.paginate_queryset(self._qs(qs))
        return self.get_paginated_response(PatrolSerializer(page, many=True).data)

    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        return Response(PatrolSerializer(sel.patrol_get(viewer=request.user, pk=pk)).data)

    def create(self, request: AuthedRequest) -> Response:
        body = PatrolWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        room = sel.rooms_visible(viewer=request.user).filter(pk=data["room"]).first()
        if room is None:
            raise serializers.ValidationError({"room": ["房间不存在或不在您的范围内。"]})
        present = [
            _branch_client(request.user, pk, "clients_present") for pk in data.get("clients_present", [])
        ]
        problems = []
        for p in data.get("problems", []):
            row = dict(p)
            row["client"] = _branch_client(request.user, row.get("client"), "problems")
            problems.append(row)
        patrol = patrol_record(
            actor=request.user,
            room=room,
            data={"at": data["at"], "observations": data.get("observations", "")},
            clients_present=present,
            problems=problems,
        )
        return Response(
            PatrolSerializer(self._qs(Patrol.objects.filter(pk=patrol.pk)).get()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(
        summary="房间",
        tags=TAGS,
        responses={200: RoomSerializer(many=True), **list_error_responses(401, 403)},
    ),
)
class RoomViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, CanServeOnsite]
    serializer_class = RoomSerializer
    queryset = Room.objects.none()

    def list(self, request: AuthedRequest) -> Response:
        page = self.paginate_queryset(sel.rooms_visible(viewer=request.user))
        return self.get_paginated_response(RoomSerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="跟进事项",
        tags=TAGS,
        parameters=[OpenApiParameter("state", str, description="状态：open 待处理 / done 已完成")],
        responses={200: FollowUpSerializer(many=True), **list_error_responses(401, 403)},
    ),
    complete=extend_schema(
        summary="完成跟进事项",
        tags=TAGS,
        parameters=FOLLOWUP_ID,
        request=CompleteSerializer,
        responses={200: FollowUpSerializer, **error_responses(400, 401, 403, 404)},
    ),
)
class FollowUpViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, CanSeeFollowUps]
    serializer_class = FollowUpSerializer
    queryset = FollowUp.objects.none()
    parser_classes = [JSONParser]
    lookup_value_regex = ID_SEGMENT

    def list(self, request: AuthedRequest) -> Response:
        state = request.query_params.get("state")
        qs = sel.followup_list(viewer=request.user, state=state if state in FollowUp.State.values else None)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(FollowUpSerializer(page, many=True).data)

    @action(detail=True, methods=["post"])
    def complete(self, request: AuthedRequest, pk: str) -> Response:
        followup = sel.followup_get(viewer=request.user, pk=pk)
        body = CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            followup = followup_complete(
                actor=request.user, followup=followup, resolution=body.validated_data["resolution"]
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(exc.message) from exc
            raise
        return Response(FollowUpSerializer(followup).data)


router = SimpleRouter()
router.register("visit-plans", VisitPlanViewSet, basename="api-visit-plan")
router.register("visits", VisitViewSet, basename="api-visit")
router.register("patrols", PatrolViewSet, basename="api-patrol")
router.register("rooms", RoomViewSet, basename="api-room")
router.register("follow-ups", FollowUpViewSet, basename="api-follow-up")
urlpatterns = router.urls
