"""Premium service API under /api/v1/premium/: enrolments (+ downgrade / exit), the rate table, desk
requests (+ messages, transitions, research questions), the researchers' question queue, and the
broker's briefings.

Scoped like the pages: reads go through :mod:`.selectors` (another broker's or branch's object is a
404); writes through :mod:`.services` (a step the caller may not take is a 403, one the state does not
allow a 400 with a Chinese message naming the field).
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.urls import path
from django.utils import timezone
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
from branchcare.clients.selectors import client_base_qs
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.org.models import User

from . import selectors as sel
from . import services as svc
from . import services_briefing as svc_briefing
from .models import (
    Briefing,
    BriefingItem,
    Enrolment,
    PremiumRate,
    PremiumRequest,
    RequestMessage,
    ResearchQuestion,
    ServiceTier,
)

TAGS = ["高端服务"]
ID = id_parameter("编号")
STEP_NAMES = ["start", "resolve", "reopen", "close"]


class CanUseDesk(BasePermission):
    """Reads: brokers and the director; writes: the capability the view names for the method."""

    message = _("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        cap = getattr(view, "write_capability", {}).get(request.method.lower())
        if cap:
            return user.has_cap(cap)
        check = getattr(view, "read_check", None) or sel.can_use_desk
        return check(user)


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        if exc.code == "forbidden":
            raise exceptions.PermissionDenied(exc.message) from exc
        raise


def _staff(pk, *, field: str):
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise exceptions.ValidationError({field: [_("人员不存在。")]})
    return user


# --- serializers -------------------------------------------------------------------------------------------


class PremiumStaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class PremiumRateSerializer(serializers.ModelSerializer):
    tier = serializers.CharField(help_text=" / ".join(ServiceTier.values))

    class Meta:
        model = PremiumRate
        fields = ["id", "branch", "tier", "commission_rate", "effective_from", "note", "created_at"]
        read_only_fields = ["id", "branch", "created_at"]


class PremiumEnrolmentSerializer(serializers.ModelSerializer):
    client_no = serializers.CharField(source="client.client_no", read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    broker = PremiumStaffRefSerializer(read_only=True)
    backup_broker = PremiumStaffRefSerializer(read_only=True, allow_null=True)
    tier = serializers.CharField(read_only=True, help_text=" / ".join(ServiceTier.values))
    state = serializers.CharField(read_only=True, help_text=" / ".join(Enrolment.State.values))

    class Meta:
        model = Enrolment
        fields = [
            "id", "branch", "client", "client_no", "client_name", "broker", "backup_broker", "tier", "rate",
            "commission_rate", "previous_rate", "effective_on", "agreement_no", "signed_on", "state", "ended_on",
            "reason", "previous", "created_at",
        ]  # fmt: skip


class PremiumEnrolInputSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**53, help_text="客户编号（本营业部）")
    broker = serializers.IntegerField(min_value=1, max_value=2**53, help_text="专属经纪人（员工编号）")
    backup_broker = serializers.IntegerField(min_value=1, max_value=2**53, required=False, allow_null=True)
    tier = serializers.CharField(max_length=10, help_text=" / ".join(ServiceTier.values))
    agreement_no = serializers.CharField(max_length=40)
    signed_on = serializers.DateField()
    effective_on = serializers.DateField()


class PremiumDowngradeInputSerializer(serializers.Serializer):
    tier = serializers.CharField(max_length=10, help_text=" / ".join(ServiceTier.values))
    effective_on = serializers.DateField()
    reason = serializers.CharField(max_length=500)
    agreement_no = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class PremiumExitInputSerializer(serializers.Serializer):
    ended_on = serializers.DateField()
    reason = serializers.CharField(max_length=500)


class PremiumMessageSerializer(serializers.ModelSerializer):
    author = PremiumStaffRefSerializer(read_only=True, allow_null=True)
    kind = serializers.CharField(read_only=True, help_text=" / ".join(RequestMessage.Kind.values))

    class Meta:
        model = RequestMessage
        fields = ["id", "at", "author", "kind", "to_client", "text"]


class PremiumQuestionSerializer(serializers.ModelSerializer):
    asked_by = PremiumStaffRefSerializer(read_only=True)
    researcher = PremiumStaffRefSerializer(read_only=True, allow_null=True)
    answered_by = PremiumStaffRefSerializer(read_only=True, allow_null=True)
    request_subject = serializers.CharField(source="request.subject", read_only=True)

    class Meta:
        model = ResearchQuestion
        fields = [
            "id", "request", "request_subject", "asked_by", "asked_at", "researcher", "question", "answer",
            "answered_by", "answered_at", "relayed_at",
        ]  # fmt: skip


class PremiumRequestSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    broker = PremiumStaffRefSerializer(read_only=True)
    backup_broker = PremiumStaffRefSerializer(read_only=True, allow_null=True)
    state = serializers.CharField(read_only=True, help_text=" / ".join(PremiumRequest.State.values))
    channel = serializers.CharField(read_only=True, help_text=" / ".join(PremiumRequest.Channel.values))

    class Meta:
        model = PremiumRequest
        fields = [
            "id", "branch", "client", "client_name", "channel", "subject", "body", "broker", "backup_broker",
            "state", "received_at", "first_response_due", "responded_at", "resolution_due", "resolved_at",
            "closed_at", "escalation_level", "resolution", "satisfaction",
        ]  # fmt: skip


class PremiumRequestDetailSerializer(PremiumRequestSerializer):
    messages = PremiumMessageSerializer(many=True, read_only=True)
    questions = PremiumQuestionSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField(help_text="当前调用者可执行的流转操作")

    class Meta(PremiumRequestSerializer.Meta):
        fields = [*PremiumRequestSerializer.Meta.fields, "messages", "questions", "actions"]

    def get_actions(self, obj: PremiumRequest) -> list[str]:
        return svc.request_actions(obj, self.context["request"].user)


class PremiumRequestCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1, max_value=2**53, help_text="高端客户编号")
    channel = serializers.CharField(max_length=12, help_text=" / ".join(PremiumRequest.Channel.values))
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=4000)
    received_at = serializers.DateTimeField(required=False, help_text="受理时间，默认现在")


class PremiumMessageInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    to_client = serializers.BooleanField(default=True, help_text="true：答复客户；false：内部备注")


class PremiumTransitionInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="start：首次答复；resolve：办结说明（必填）；reopen：原因（必填）",
    )
    satisfaction = serializers.IntegerField(
        required=False, min_value=1, max_value=5, help_text="close：客户满意度 1–5"
    )


class PremiumQuestionInputSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=4000)
    researcher = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**53, help_text="不填则进入研究员公共队列"
    )


class PremiumAnswerInputSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=8000)


class PremiumRelayInputSerializer(serializers.Serializer):
    text = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="转达客户的内容，默认研究员原文"
    )


class PremiumBriefingItemSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    item_title = serializers.CharField(source="item.title", read_only=True)
    published_on = serializers.DateField(source="item.published_on", read_only=True)

    class Meta:
        model = BriefingItem
        fields = [
            "id",
            "client",
            "client_name",
            "item",
            "item_title",
            "published_on",
            "explained_at",
            "delivery_id",
            "note",
        ]


class PremiumBriefingSerializer(serializers.ModelSerializer):
    items = PremiumBriefingItemSerializer(many=True, read_only=True)

    class Meta:
        model = Briefing
        fields = ["id", "broker", "date", "generated_at", "items"]


class PremiumExplainInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


# --- enrolments and rates ----------------------------------------------------------------------------------


class EnrolmentListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    write_capability = {"post": Cap.SUPERVISE}
    serializer_class = PremiumEnrolmentSerializer
    queryset = Enrolment.objects.none()
    pagination_class = CappedCountPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="高端服务签约列表", tags=TAGS,
        description="经纪人看本人（含备岗）的签约，营业部经理看本营业部的。",
        parameters=[OpenApiParameter("state", str, enum=list(Enrolment.State.values))],
        responses={200: PremiumEnrolmentSerializer(many=True), **list_error_responses(401, 403)},
    )  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        qs = sel.enrolment_list(viewer=request.user, state=request.query_params.get("state", ""))
        return self.get_paginated_response(
            PremiumEnrolmentSerializer(self.paginate_queryset(qs), many=True).data
        )

    @extend_schema(
        summary="办理高端服务签约（营业部经理）", tags=TAGS, request=PremiumEnrolInputSerializer,
        responses={201: PremiumEnrolmentSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        data = PremiumEnrolInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        client = client_base_qs(viewer=request.user).filter(pk=v["client"]).first()
        if client is None:
            raise Http404
        e = _run(
            svc.enrol, actor=request.user, client=client, broker=_staff(v["broker"], field="broker"),
            backup_broker=_staff(v.get("backup_broker"), field="backup_broker"), tier=v["tier"],
            agreement_no=v["agreement_no"], signed_on=v["signed_on"], effective_on=v["effective_on"],
        )  # fmt: skip
        return Response(
            PremiumEnrolmentSerializer(sel.enrolment_get_for(viewer=request.user, pk=e.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class EnrolmentDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    serializer_class = PremiumEnrolmentSerializer
    queryset = Enrolment.objects.none()

    @extend_schema(
        summary="签约详情",
        tags=TAGS,
        parameters=[ID],
        responses={200: PremiumEnrolmentSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        return Response(PremiumEnrolmentSerializer(sel.enrolment_get_for(viewer=request.user, pk=pk)).data)


class EnrolmentDowngradeView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    write_capability = {"post": Cap.SUPERVISE}
    serializer_class = PremiumDowngradeInputSerializer
    queryset = Enrolment.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="降级（营业部经理）", description="本签约终止为“已降级”，按较低等级的现行费率生成新签约。", tags=TAGS,
        parameters=[ID], request=PremiumDowngradeInputSerializer, responses={201: PremiumEnrolmentSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        e = sel.enrolment_get_for(viewer=request.user, pk=pk)
        data = PremiumDowngradeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = _run(svc.enrolment_downgrade, actor=request.user, enrolment=e, **data.validated_data)
        return Response(
            PremiumEnrolmentSerializer(sel.enrolment_get_for(viewer=request.user, pk=new.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class EnrolmentExitView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    write_capability = {"post": Cap.SUPERVISE}
    serializer_class = PremiumExitInputSerializer
    queryset = Enrolment.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="退出高端服务（营业部经理）", description="恢复客户签约前的佣金率。", tags=TAGS, parameters=[ID],
        request=PremiumExitInputSerializer, responses={200: PremiumEnrolmentSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        e = sel.enrolment_get_for(viewer=request.user, pk=pk)
        data = PremiumExitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(svc.enrolment_exit, actor=request.user, enrolment=e, **data.validated_data)
        return Response(PremiumEnrolmentSerializer(sel.enrolment_get_for(viewer=request.user, pk=e.pk)).data)


class RateListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    write_capability = {"post": Cap.SUPERVISE}
    serializer_class = PremiumRateSerializer
    queryset = PremiumRate.objects.none()
    pagination_class = CappedCountPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="高端佣金费率表（全部版本）",
        tags=TAGS,
        responses={200: PremiumRateSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        qs = sel.rate_list(viewer=request.user)
        return self.get_paginated_response(PremiumRateSerializer(self.paginate_queryset(qs), many=True).data)

    @extend_schema(
        summary="新增费率版本（营业部经理）", description="生效日期不能早于今天；已签约客户保持签约时的费率。", tags=TAGS,
        request=PremiumRateSerializer, responses={201: PremiumRateSerializer, **error_responses(400, 401, 403)},
    )  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        data = PremiumRateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if request.user.branch is None:
            raise exceptions.PermissionDenied()
        row = _run(
            svc.rate_add, actor=request.user, branch=request.user.branch, tier=v["tier"],
            commission_rate=v["commission_rate"], effective_from=v["effective_from"], note=v.get("note", ""),
        )  # fmt: skip
        return Response(PremiumRateSerializer(row).data, status=status.HTTP_201_CREATED)


# --- requests ----------------------------------------------------------------------------------------------


def _request_detail(request: AuthedRequest, pk) -> dict:
    req = sel.request_get_for(viewer=request.user, pk=pk)
    req = (
        PremiumRequest.objects.select_related("client", "broker", "backup_broker")
        .prefetch_related(
            "messages__author", "questions__asked_by", "questions__researcher", "questions__answered_by"
        )
        .get(pk=req.pk)
    )
    return PremiumRequestDetailSerializer(req, context={"request": request}).data


class RequestListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    serializer_class = PremiumRequestSerializer
    queryset = PremiumRequest.objects.none()
    pagination_class = CappedCountPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="高端客户请求队列", tags=TAGS,
        description="经纪人看本人（升级后含备岗）的请求，营业部经理看本营业部的；在办按办结期限排序。",
        parameters=[
            OpenApiParameter("state", str, enum=list(PremiumRequest.State.values)),
            OpenApiParameter("open", bool), OpenApiParameter("escalated", bool), OpenApiParameter("mine", bool),
        ],
        responses={200: PremiumRequestSerializer(many=True), **list_error_responses(401, 403)},
    )  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        qs = sel.request_list(
            viewer=request.user, filters=sel.RequestFilters.from_params(request.query_params)
        )
        return self.get_paginated_response(
            PremiumRequestSerializer(self.paginate_queryset(qs), many=True).data
        )

    @extend_schema(
        summary="登记高端客户请求", tags=TAGS, request=PremiumRequestCreateSerializer,
        responses={201: PremiumRequestDetailSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        data = PremiumRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        e = (
            sel.enrolment_base_qs(viewer=request.user)
            .filter(client_id=v["client"], state=Enrolment.State.ACTIVE)
            .select_related("client")
            .first()
        )
        if e is None:
            raise Http404
        req = _run(
            svc.request_create, actor=request.user, client=e.client, channel=v["channel"], subject=v["subject"],
            body=v["body"], received_at=v.get("received_at"),
        )  # fmt: skip
        return Response(_request_detail(request, req.pk), status=status.HTTP_201_CREATED)


class RequestDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    serializer_class = PremiumRequestDetailSerializer
    queryset = PremiumRequest.objects.none()

    @extend_schema(
        summary="请求详情（含沟通记录与研究问题）",
        tags=TAGS,
        parameters=[ID],
        responses={200: PremiumRequestDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        return Response(_request_detail(request, pk))


class RequestMessageView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    serializer_class = PremiumMessageInputSerializer
    queryset = PremiumRequest.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="记录沟通（答复客户或内部备注）", tags=TAGS, parameters=[ID], request=PremiumMessageInputSerializer,
        responses={201: PremiumMessageSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        req = sel.request_get_for(viewer=request.user, pk=pk)
        data = PremiumMessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        msg = _run(svc.request_message_add, actor=request.user, req=req, **data.validated_data)
        return Response(PremiumMessageSerializer(msg).data, status=status.HTTP_201_CREATED)


class RequestTransitionView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    serializer_class = PremiumTransitionInputSerializer
    queryset = PremiumRequest.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="执行请求流转操作", description="name 为 " + " / ".join(STEP_NAMES) + "；提问研究员请用 questions。",
        tags=TAGS, parameters=[ID, OpenApiParameter("name", str, OpenApiParameter.PATH, enum=STEP_NAMES)],
        request=PremiumTransitionInputSerializer, responses={200: PremiumRequestDetailSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str, name: str) -> Response:
        req = sel.request_get_for(viewer=request.user, pk=pk)
        if name not in STEP_NAMES:
            raise exceptions.NotFound(_("未知的操作。"))
        data = PremiumTransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(svc.request_transition, actor=request.user, req=req, name=name, data=data.validated_data)
        return Response(_request_detail(request, req.pk))


class RequestQuestionView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    serializer_class = PremiumQuestionInputSerializer
    queryset = PremiumRequest.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="向研究员提问", tags=TAGS, parameters=[ID], request=PremiumQuestionInputSerializer,
        responses={201: PremiumQuestionSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        req = sel.request_get_for(viewer=request.user, pk=pk)
        data = PremiumQuestionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        q = _run(
            svc.question_ask, actor=request.user, req=req, question=v["question"],
            researcher=_staff(v.get("researcher"), field="researcher"),
        )  # fmt: skip
        return Response(PremiumQuestionSerializer(q).data, status=status.HTTP_201_CREATED)


# --- research questions ------------------------------------------------------------------------------------


class QuestionListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    read_check = staticmethod(sel.can_use_questions)
    serializer_class = PremiumQuestionSerializer
    queryset = ResearchQuestion.objects.none()
    pagination_class = CappedCountPagination

    @extend_schema(
        summary="研究问题队列", tags=TAGS, description="研究员看本营业部的问题；经纪人看自己请求上的问题。",
        parameters=[OpenApiParameter("pending", bool, description="只看待答复的")],
        responses={200: PremiumQuestionSerializer(many=True), **list_error_responses(401, 403)},
    )  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        pending = (request.query_params.get("pending") or "").lower() in {"1", "true", "yes"}
        qs = sel.question_list(viewer=request.user, pending=pending)
        return self.get_paginated_response(
            PremiumQuestionSerializer(self.paginate_queryset(qs), many=True).data
        )


class QuestionAnswerView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    write_capability = {"post": Cap.RESEARCH_WRITE}
    serializer_class = PremiumAnswerInputSerializer
    queryset = ResearchQuestion.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="研究员答复", tags=TAGS, parameters=[ID], request=PremiumAnswerInputSerializer,
        responses={200: PremiumQuestionSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        q = sel.question_get_for(viewer=request.user, pk=pk)
        data = PremiumAnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        q = _run(svc.question_answer, actor=request.user, question=q, answer=data.validated_data["answer"])
        return Response(PremiumQuestionSerializer(q).data)


class QuestionRelayView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    serializer_class = PremiumRelayInputSerializer
    queryset = ResearchQuestion.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="经纪人将答复转达客户", tags=TAGS, parameters=[ID], request=PremiumRelayInputSerializer,
        responses={200: PremiumQuestionSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        q = sel.question_get_for(viewer=request.user, pk=pk)
        sel.request_get_for(viewer=request.user, pk=q.request_id)
        data = PremiumRelayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        q = _run(svc.question_relay, actor=request.user, question=q, text=data.validated_data["text"])
        return Response(PremiumQuestionSerializer(q).data)


# --- briefings ---------------------------------------------------------------------------------------------


def _briefing_data(b: Briefing | None) -> dict | None:
    if b is None:
        return None
    b = Briefing.objects.prefetch_related("items__client", "items__item").get(pk=b.pk)
    return PremiumBriefingSerializer(b).data


class BriefingView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    read_check = staticmethod(lambda u: u.has_cap(Cap.PREMIUM_SERVE))
    write_capability = {"post": Cap.PREMIUM_SERVE}
    serializer_class = PremiumBriefingSerializer
    queryset = Briefing.objects.none()

    @extend_schema(
        summary="我的每日简报", tags=TAGS, parameters=[OpenApiParameter("date", dt.date, description="默认今天")],
        responses={200: PremiumBriefingSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        try:
            day = dt.date.fromisoformat(request.query_params.get("date") or timezone.localdate().isoformat())
        except ValueError:
            raise exceptions.ValidationError({"date": [_("日期格式应为 YYYY-MM-DD。")]}) from None
        b = Briefing.objects.filter(broker=request.user, date=day).first()
        if b is None:
            raise exceptions.NotFound(_("这一天还没有简报。"))
        return Response(_briefing_data(b))

    @extend_schema(
        summary="生成（或更新）今日简报",
        tags=TAGS,
        request=None,
        responses={200: PremiumBriefingSerializer, **error_responses(401, 403)},
    )
    def post(self, request: AuthedRequest) -> Response:
        b = _run(svc_briefing.briefing_generate, broker=request.user, actor=request.user)
        return Response(_briefing_data(b))


class BriefingExplainView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseDesk]
    write_capability = {"post": Cap.PREMIUM_SERVE}
    serializer_class = PremiumExplainInputSerializer
    queryset = BriefingItem.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="标记已向客户讲解（记为研究交付）", tags=TAGS, parameters=[ID], request=PremiumExplainInputSerializer,
        responses={200: PremiumBriefingItemSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        try:
            entry = BriefingItem.objects.filter(pk=int(pk), briefing__broker=request.user).first()
        except (TypeError, ValueError):
            entry = None
        if entry is None:
            raise Http404
        data = PremiumExplainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = _run(
            svc_briefing.briefing_explain, actor=request.user, entry=entry, note=data.validated_data["note"]
        )
        return Response(PremiumBriefingItemSerializer(entry).data)


urlpatterns = [
    path("premium/enrolments/", EnrolmentListView.as_view(), name="api-premium-enrolment-list"),
    path("premium/enrolments/<str:pk>/", EnrolmentDetailView.as_view(), name="api-premium-enrolment-detail"),
    path(
        "premium/enrolments/<str:pk>/downgrade/",
        EnrolmentDowngradeView.as_view(),
        name="api-premium-enrolment-downgrade",
    ),
    path("premium/enrolments/<str:pk>/exit/", EnrolmentExitView.as_view(), name="api-premium-enrolment-exit"),
    path("premium/rates/", RateListView.as_view(), name="api-premium-rate-list"),
    path("premium/requests/", RequestListView.as_view(), name="api-premium-request-list"),
    path("premium/requests/<str:pk>/", RequestDetailView.as_view(), name="api-premium-request-detail"),
    path(
        "premium/requests/<str:pk>/messages/",
        RequestMessageView.as_view(),
        name="api-premium-request-message",
    ),
    path(
        "premium/requests/<str:pk>/transitions/<str:name>/",
        RequestTransitionView.as_view(),
        name="api-premium-request-transition",
    ),
    path(
        "premium/requests/<str:pk>/questions/",
        RequestQuestionView.as_view(),
        name="api-premium-request-question",
    ),
    path("premium/research-questions/", QuestionListView.as_view(), name="api-premium-question-list"),
    path(
        "premium/research-questions/<str:pk>/answer/",
        QuestionAnswerView.as_view(),
        name="api-premium-question-answer",
    ),
    path(
        "premium/research-questions/<str:pk>/relay/",
        QuestionRelayView.as_view(),
        name="api-premium-question-relay",
    ),
    path("premium/briefings/", BriefingView.as_view(), name="api-premium-briefing"),
    path(
        "premium/briefing-items/<str:pk>/explain/",
        BriefingExplainView.as_view(),
        name="api-premium-briefing-explain",
    ),
]
