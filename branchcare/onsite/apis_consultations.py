"""Consultation order API under /api/v1/: list, detail, create, transition actions and advice.

Scoped like the pages: reads go through ``order_get_for`` / ``order_list`` (another manager's or
branch's order is a 404), writes through ``services_consultations`` (a step the caller may not take
is a 403, a step the state does not allow a 400 with a Chinese message).
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from branchcare.api.pagination import CappedCountPagination
from branchcare.api.schema import error_responses, id_parameter, list_error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.clients.selectors import client_get_for
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap

from . import services_consultations as svc
from .models import Advice, AdviceCitation, AdviceLine, ConsultationOrder, OrderHolding

TAGS = ["咨询单"]
ORDER_ID = id_parameter("咨询单编号")
STEP_NAMES = [
    "submit", "start_analysis", "submit_advice", "return_for_rework", "accept", "deliver", "close", "rate",
    "cancel",
]  # fmt: skip


class CanUseConsultations(BasePermission):
    """Reads: any role that works with orders; writes: the capability the view names for the method."""

    message = _("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        cap = getattr(view, "write_capability", {}).get(request.method.lower())
        if cap:
            return user.has_cap(cap)
        return svc.can_view_orders(user)


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        if exc.code == "forbidden":
            raise exceptions.PermissionDenied(exc.message) from exc
        raise


# --- serializers -------------------------------------------------------------------------------------------


class StaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class OrderHoldingSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="security.code", read_only=True)
    name = serializers.CharField(source="security.name", read_only=True)
    risk_rating = serializers.CharField(source="security.risk_rating", read_only=True)

    class Meta:
        model = OrderHolding
        fields = ["security", "code", "name", "risk_rating", "quantity", "cost_price"]


class AdviceLineSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="security.code", read_only=True)

    class Meta:
        model = AdviceLine
        fields = ["security", "code", "action", "rationale"]


class AdviceCitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdviceCitation
        fields = ["rank", "research_item_id", "title", "publisher", "published_on", "source_name"]
        read_only_fields = fields


class AdviceSerializer(serializers.ModelSerializer):
    lines = AdviceLineSerializer(many=True, read_only=True)
    consultant = StaffRefSerializer(read_only=True)
    citations = AdviceCitationSerializer(
        many=True, read_only=True, help_text="引用的研究资料（系统自动记录）"
    )

    class Meta:
        model = Advice
        fields = [
            "id", "version", "consultant", "practice_no", "overall", "risk_warning", "suitability",
            "client_request_ack", "replaces", "created_at", "submitted_at", "returned_reason", "delivered_at",
            "lines", "citations",
        ]  # fmt: skip


class OrderSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    manager = StaffRefSerializer(read_only=True)
    consultant = StaffRefSerializer(read_only=True, allow_null=True)
    late_holder = StaffRefSerializer(read_only=True, allow_null=True)
    sla = serializers.SerializerMethodField(help_text="on_time / warning / overdue / none")
    # A plain string (values listed here) so that its enum does not collide with other apps' "state".
    state = serializers.CharField(read_only=True, help_text=" / ".join(ConsultationOrder.State.values))

    class Meta:
        model = ConsultationOrder
        fields = [
            "id", "branch", "client", "client_name", "manager", "consultant", "question", "state",
            "created_at", "submitted_at", "warn_at", "due_at", "advice_ready_at", "delivered_at", "sla",
            "late_holder", "rework_count", "delivery_method", "client_response", "manager_rating",
            "consultant_rating", "manager_confirmed", "consultant_confirmed",
        ]  # fmt: skip

    def get_sla(self, obj: ConsultationOrder) -> str:
        return svc.order_sla_status(obj).value


class OrderDetailSerializer(OrderSerializer):
    holdings = OrderHoldingSerializer(many=True, read_only=True)
    advices = AdviceSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField(help_text="当前调用者可执行的操作")

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "holdings", "advices", "actions"]

    def get_actions(self, obj: ConsultationOrder) -> list[str]:
        return svc.order_actions(obj, self.context["request"].user)


class OrderCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**53, help_text="客户编号（须为本人名下客户）")
    question = serializers.CharField(max_length=4000)


class TransitionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, help_text="说明；退回与取消时必填")
    consultant = serializers.IntegerField(
        required=False, min_value=1, max_value=2**53, help_text="submit：指定投资顾问（不填按工作量分配）"
    )
    delivery_method = serializers.ChoiceField(
        choices=list(svc.DELIVERY_METHODS.items()), required=False, help_text="deliver（客户经理）：交付方式"
    )
    client_response = serializers.CharField(required=False, allow_blank=True, help_text="deliver：客户反馈")
    manager_rating = serializers.IntegerField(required=False, min_value=1, max_value=5, help_text="close")
    consultant_rating = serializers.IntegerField(required=False, min_value=1, max_value=5, help_text="rate")


class LineInputSerializer(serializers.Serializer):
    security = serializers.IntegerField(min_value=1, max_value=2**53)
    action = serializers.ChoiceField(choices=AdviceLine.Action.choices)
    rationale = serializers.CharField()


class AdviceWriteSerializer(serializers.Serializer):
    overall = serializers.CharField()
    risk_warning = serializers.CharField(required=False, default=svc.RISK_WARNING_DEFAULT)
    lines = LineInputSerializer(many=True)
    client_request_ack = serializers.BooleanField(required=False, default=False)
    submit = serializers.BooleanField(required=False, default=False, help_text="保存后直接提交复核")
    reason = serializers.CharField(required=False, allow_blank=True, help_text="更正已交付意见时的原因")
    citations = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53),
        required=False,
        default=list,
        max_length=10,
        help_text="引用的研究资料 id（须为有效来源的已发布研究；标题、发布机构、发布日期由系统记录）",
    )


# --- views -------------------------------------------------------------------------------------------------


def _detail(order: ConsultationOrder) -> ConsultationOrder:
    return (
        ConsultationOrder.objects.select_related("client", "manager", "consultant", "late_holder")
        .prefetch_related(
            "holdings__security", "advices__lines__security", "advices__consultant", "advices__citations"
        )
        .get(pk=order.pk)
    )


class OrderListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseConsultations]
    write_capability = {"post": Cap.ONSITE_SERVE}
    serializer_class = OrderSerializer
    queryset = ConsultationOrder.objects.none()
    pagination_class = CappedCountPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="咨询单列表",
        description="客户经理看本人的，投资顾问看本营业部已提交的（mine=1 为指派给我的队列），营业部经理看本营业部的。",
        tags=TAGS,
        parameters=[
            OpenApiParameter("state", str, enum=list(ConsultationOrder.State.values)),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("mine", bool),
            OpenApiParameter("open", bool),
        ],
        responses={200: OrderSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        filters = svc.OrderFilters.from_params(request.query_params)
        page = self.paginate_queryset(svc.order_list(viewer=request.user, filters=filters))
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        summary="新建咨询单（草稿）",
        tags=TAGS,
        request=OrderCreateSerializer,
        responses={201: OrderDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest) -> Response:
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = client_get_for(
            viewer=request.user, pk=data.validated_data["client"], capability=Cap.ONSITE_SERVE
        )
        order = _run(
            svc.order_create, actor=request.user, client=client, question=data.validated_data["question"]
        )
        body = OrderDetailSerializer(_detail(order), context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class OrderDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseConsultations]
    serializer_class = OrderDetailSerializer
    queryset = ConsultationOrder.objects.none()

    @extend_schema(
        summary="咨询单详情", tags=TAGS, parameters=[ORDER_ID],
        responses={200: OrderDetailSerializer, **error_responses(401, 403, 404)},
    )  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        order = svc.order_get_for(viewer=request.user, pk=pk)
        return Response(OrderDetailSerializer(_detail(order), context={"request": request}).data)


class OrderTransitionView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseConsultations]
    serializer_class = TransitionSerializer
    queryset = ConsultationOrder.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="执行咨询单流转操作",
        description="name 为 "
        + " / ".join(STEP_NAMES)
        + "；deliver 由客户经理与投资顾问分别确认，第二人确认时交付。",
        tags=TAGS,
        parameters=[ORDER_ID, OpenApiParameter("name", str, OpenApiParameter.PATH, enum=STEP_NAMES)],
        request=TransitionSerializer,
        responses={200: OrderDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, pk: str, name: str) -> Response:
        order = svc.order_get_for(viewer=request.user, pk=pk)
        if name not in STEP_NAMES:
            raise exceptions.NotFound(_("未知的操作。"))
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(svc.order_transition, actor=request.user, order=order, name=name, data=data.validated_data)
        return Response(OrderDetailSerializer(_detail(order), context={"request": request}).data)


class OrderAdviceView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseConsultations]
    write_capability = {"post": Cap.ADVICE_WRITE}
    serializer_class = AdviceWriteSerializer
    queryset = ConsultationOrder.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="保存投顾意见（新版本）",
        description="被指派的投资顾问保存一版意见（含适当性检查）；已交付的咨询单须填写 reason，生成更正版本。",
        tags=TAGS,
        parameters=[ORDER_ID],
        request=AdviceWriteSerializer,
        responses={201: AdviceSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, pk: str) -> Response:
        order = svc.order_get_for(viewer=request.user, pk=pk)
        data = AdviceWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        lines = [svc.LineInput(x["security"], x["action"], x["rationale"]) for x in v["lines"]]
        common = {
            "actor": request.user, "order": order, "overall": v["overall"], "risk_warning": v["risk_warning"],
            "lines": lines, "client_request_ack": v["client_request_ack"], "citations": v["citations"],
        }  # fmt: skip
        if order.state in (ConsultationOrder.State.DELIVERED, ConsultationOrder.State.CLOSED):
            advice = _run(svc.advice_correct, reason=v.get("reason", ""), **common)
        else:
            advice = _run(svc.advice_save, submit=v["submit"], **common)
        advice = (
            Advice.objects.select_related("consultant")
            .prefetch_related("lines__security", "citations")
            .get(pk=advice.pk)
        )
        return Response(AdviceSerializer(advice).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("consultations/", OrderListView.as_view(), name="api-consultation-list"),
    path("consultations/<str:pk>/", OrderDetailView.as_view(), name="api-consultation-detail"),
    path(
        "consultations/<str:pk>/transitions/<str:name>/",
        OrderTransitionView.as_view(),
        name="api-consultation-transition",
    ),
    path("consultations/<str:pk>/advice/", OrderAdviceView.as_view(), name="api-consultation-advice"),
]
