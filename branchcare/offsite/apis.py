"""Off-site service API: inquiries/complaints (+ transitions and survey) under /api/v1/offsite/, the screen
pop and call records under /api/v1/calls/, return visits and their rules, and call campaigns.

Scoped like the pages: reads go through the scoped selectors (out of scope is a 404), writes through the
services (a step the caller may not take is a 403, one the state does not allow a 400 in Chinese).
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

from branchcare.api.pagination import StandardPagination
from branchcare.api.schema import error_responses, id_parameter, list_error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap
from branchcare.org.models import User

from . import services_calls as calls
from . import services_campaigns as campaigns
from . import services_inquiries as inq
from . import services_visits as visits
from .models import CallRecord, Campaign, CampaignTarget, Inquiry, ReturnVisit, ReturnVisitRule

STEP_NAMES = ["assign", "start", "resolve", "reopen", "close", "cancel"]
# The URL kwarg is ``pk``; the schema calls it ``id`` (SCHEMA_COERCE_PATH_PK), so document ``id``.
PK = id_parameter("编号")


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        if exc.code == "forbidden":
            raise exceptions.PermissionDenied(exc.message) from exc
        raise


class HasAnyCap(BasePermission):
    """The view's ``caps``: the caller needs at least one of them."""

    message = _("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        caps = getattr(view, "caps", ())
        return bool(user and user.is_authenticated and any(user.has_cap(c) for c in caps))


class Base(GenericAPIView):
    permission_classes = [IsAuthenticated, HasAnyCap]
    parser_classes = [JSONParser]
    caps: tuple[str, ...] = ()


# --- serializers -------------------------------------------------------------------------------------------


class OffsiteStaffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class InquirySerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True, allow_null=True, default=None)
    assignee = OffsiteStaffSerializer(read_only=True, allow_null=True)
    category_name = serializers.CharField(
        source="category.name", read_only=True, allow_null=True, default=None
    )
    sla = serializers.SerializerMethodField(help_text="on_time / warning / overdue / none")
    state = serializers.CharField(read_only=True, help_text=" / ".join(Inquiry.State.values))
    kind = serializers.CharField(read_only=True, help_text=" / ".join(Inquiry.Kind.values))

    class Meta:
        model = Inquiry
        fields = [
            "id", "branch", "kind", "channel", "client", "client_name", "caller_name", "category",
            "category_name", "priority", "subject", "description", "assignee", "state", "created_at",
            "first_response_due", "first_responded_at", "resolution_due", "regulatory_due", "escalated",
            "resolution", "resolved_at", "client_confirmed", "closed_at", "survey_score", "survey_comment",
            "retention_until", "call", "return_visit", "sla",
        ]  # fmt: skip

    def get_sla(self, obj: Inquiry) -> str:
        return inq.inquiry_sla(obj).value


class InquiryDetailSerializer(InquirySerializer):
    actions = serializers.SerializerMethodField(help_text="当前调用者可执行的操作")

    class Meta(InquirySerializer.Meta):
        fields = [*InquirySerializer.Meta.fields, "actions"]

    def get_actions(self, obj: Inquiry) -> list[str]:
        return inq.inquiry_actions(obj, self.context["request"].user)


class InquiryCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(default=Inquiry.Kind.INQUIRY, help_text=" / ".join(Inquiry.Kind.values))
    channel = serializers.CharField(
        default=Inquiry.Channel.PHONE, help_text=" / ".join(Inquiry.Channel.values)
    )
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**53
    )
    priority = serializers.CharField(
        default=Inquiry.Priority.NORMAL, help_text=" / ".join(Inquiry.Priority.values)
    )
    client = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**53
    )
    client_lookup = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=30,
        help_text="客户号或手机号（按本营业部匹配）",
    )
    caller_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    caller_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    assignee = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**53
    )


class InquiryTransitionSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="resolve 时为处理结果；reopen/cancel 必填"
    )
    assignee = serializers.IntegerField(
        required=False, min_value=1, max_value=2**53, help_text="assign：经办人"
    )
    client_confirmed = serializers.BooleanField(required=False, default=False, help_text="close：客户已确认")


class SurveySerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class IncomingCallSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=30, help_text="来电号码")
    agent = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=150,
        help_text="接听坐席的用户名（默认为调用者）",
    )


class RecentInquirySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    state = serializers.CharField()
    created_at = serializers.CharField()


class ClientCardSerializer(serializers.Serializer):
    known = serializers.BooleanField(help_text="是否匹配到本营业部客户")
    phone = serializers.CharField(help_text="按调用者权限脱敏")
    client_id = serializers.IntegerField(allow_null=True)
    client_no = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.CharField()
    risk_level = serializers.CharField()
    is_premium = serializers.BooleanField()
    manager = serializers.CharField()
    id_number = serializers.CharField(help_text="按调用者权限脱敏")
    recent = RecentInquirySerializer(many=True)
    open_visits = serializers.IntegerField()


class CallSerializer(serializers.ModelSerializer):
    agent = OffsiteStaffSerializer(read_only=True)
    phone = serializers.SerializerMethodField()

    direction = serializers.CharField(read_only=True, help_text="in / out")

    class Meta:
        model = CallRecord
        fields = ["id", "branch", "agent", "direction", "phone", "client", "started_at", "ended_at", "note"]

    def get_phone(self, obj: CallRecord) -> str:
        from branchcare.core.masking import mask_phone

        user = self.context["request"].user
        return obj.phone if user.has_cap(Cap.PERSONAL_DATA_VIEW) else mask_phone(obj.phone)


class IncomingResponseSerializer(serializers.Serializer):
    call = CallSerializer()
    card = ClientCardSerializer()


class CallEndSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class RuleSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text=" / ".join(ReturnVisitRule.Kind.values))
    # A list of question texts (the pages key answers by question text): not any JSON value.
    questions = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50, help_text="问卷题目"
    )

    class Meta:
        model = ReturnVisitRule
        fields = ["id", "branch", "kind", "name", "active", "due_days", "sample_pct", "script", "questions"]
        read_only_fields = ["id", "branch", "kind"]


class ReturnVisitSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    rule_kind = serializers.CharField(source="rule.kind", read_only=True)
    assignee = OffsiteStaffSerializer(read_only=True, allow_null=True)
    state = serializers.CharField(read_only=True, help_text=" / ".join(ReturnVisit.State.values))
    outcome = serializers.CharField(read_only=True, help_text="reached / not_reached / 空")

    class Meta:
        model = ReturnVisit
        fields = [
            "id", "branch", "rule", "rule_kind", "client", "client_name", "source_ref", "assignee", "due_on",
            "state", "outcome", "attempts", "answers", "notes", "completed_at", "created_at",
        ]  # fmt: skip


class AttemptSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text="reached（已联系上）/ not_reached（未联系上）")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    problem_kind = serializers.CharField(
        required=False, default=Inquiry.Kind.INQUIRY, help_text="inquiry / complaint"
    )
    problem_subject = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="发现问题时填写，将转为咨询投诉"
    )
    problem_description = serializers.CharField(required=False, allow_blank=True, default="")


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(min_value=1, max_value=2**53)


class CampaignSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True, help_text="active / closed")
    total = serializers.IntegerField(read_only=True)
    finished = serializers.IntegerField(read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "branch", "name", "purpose", "criteria", "state", "created_at", "total", "finished"]


class CampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    purpose = serializers.CharField(required=False, allow_blank=True, default="")
    assessment_older_than_years = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=20
    )
    dormant = serializers.BooleanField(required=False, default=False)
    security_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=12)
    tier = serializers.CharField(required=False, allow_blank=True, default="")
    agents = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**53), min_length=1)


class TargetSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    agent = OffsiteStaffSerializer(read_only=True)
    outcome = serializers.CharField(read_only=True, help_text=" / ".join(CampaignTarget.Outcome.values))

    class Meta:
        model = CampaignTarget
        fields = ["id", "client", "client_name", "agent", "outcome", "attempts", "note", "contacted_at"]


class CampaignDetailSerializer(CampaignSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "progress"]

    def get_progress(self, obj: Campaign) -> dict:
        return campaigns.campaign_progress(obj)


class TargetOutcomeSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        help_text=" / ".join(v for v in CampaignTarget.Outcome.values if v != "pending")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


# --- inquiries ---------------------------------------------------------------------------------------------

INQ_VIEW = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW, Cap.ONSITE_SERVE)
INQ_TAGS = ["咨询投诉"]


def _inquiry(request, obj: Inquiry) -> dict:
    fresh = inq.inquiry_get_for(viewer=request.user, pk=obj.pk)
    return InquiryDetailSerializer(fresh, context={"request": request}).data


class InquiryListView(Base):
    caps = INQ_VIEW
    serializer_class = InquirySerializer
    queryset = Inquiry.objects.none()
    pagination_class = StandardPagination

    @extend_schema(
        summary="咨询投诉列表",
        description="客服专员与营业部经理看本营业部的，合规专员看本营业部的投诉，客户经理看分派给本人的。",
        tags=INQ_TAGS,
        parameters=[
            OpenApiParameter("kind", str, enum=list(Inquiry.Kind.values)),
            OpenApiParameter("state", str, enum=list(Inquiry.State.values)),
            OpenApiParameter("mine", bool), OpenApiParameter("overdue", bool),
            OpenApiParameter("escalated", bool), OpenApiParameter("open", bool),
        ],
        responses={200: InquirySerializer(many=True), **list_error_responses(401, 403)},
    )  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        filters = inq.InquiryFilters.from_params(request.query_params)
        page = self.paginate_queryset(inq.inquiry_list(viewer=request.user, filters=filters))
        return self.get_paginated_response(InquirySerializer(page, many=True).data)

    @extend_schema(
        summary="登记咨询或投诉",
        tags=INQ_TAGS,
        request=InquiryCreateSerializer,
        responses={201: InquiryDetailSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthedRequest) -> Response:
        if not inq.can_register(request.user):
            raise exceptions.PermissionDenied(_("您没有登记咨询投诉的权限。"))
        data = InquiryCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        obj = _run(
            inq.inquiry_create,
            actor=request.user,
            data=inq.InquiryInput(
                kind=v["kind"], channel=v["channel"], subject=v["subject"], description=v["description"],
                category_id=v["category"], priority=v["priority"], client_id=v["client"],
                client_lookup=v["client_lookup"], caller_name=v["caller_name"], caller_phone=v["caller_phone"],
                assignee_id=v["assignee"],
            ),
        )  # fmt: skip
        return Response(_inquiry(request, obj), status=status.HTTP_201_CREATED)


class InquiryDetailView(Base):
    caps = INQ_VIEW
    serializer_class = InquiryDetailSerializer
    queryset = Inquiry.objects.none()

    @extend_schema(summary="咨询投诉详情", tags=INQ_TAGS, parameters=[PK],
                   responses={200: InquiryDetailSerializer, **error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        obj = inq.inquiry_get_for(viewer=request.user, pk=pk)
        return Response(InquiryDetailSerializer(obj, context={"request": request}).data)


class InquiryTransitionView(Base):
    caps = INQ_VIEW
    serializer_class = InquiryTransitionSerializer
    queryset = Inquiry.objects.none()

    @extend_schema(
        summary="执行咨询投诉流转操作",
        description="name 为 " + " / ".join(STEP_NAMES) + "。",
        tags=INQ_TAGS,
        parameters=[PK, OpenApiParameter("name", str, OpenApiParameter.PATH, enum=STEP_NAMES)],
        request=InquiryTransitionSerializer,
        responses={200: InquiryDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, pk: str, name: str) -> Response:
        obj = inq.inquiry_get_for(viewer=request.user, pk=pk)
        if name not in STEP_NAMES:
            raise exceptions.NotFound(_("未知的操作。"))
        data = InquiryTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if name == "assign":
            assignee = User.objects.filter(pk=v.get("assignee") or 0).first()
            if assignee is None:
                raise DomainError(str(_("请选择经办人。")), field="assignee")
            _run(inq.inquiry_assign, actor=request.user, inquiry=obj, assignee=assignee)
        else:
            _run(
                inq.inquiry_transition, actor=request.user, inquiry=obj, name=name, note=v["note"],
                client_confirmed=v["client_confirmed"],
            )  # fmt: skip
        return Response(_inquiry(request, obj))


class InquirySurveyView(Base):
    caps = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
    serializer_class = SurveySerializer
    queryset = Inquiry.objects.none()

    @extend_schema(summary="登记满意度调查", tags=INQ_TAGS, parameters=[PK], request=SurveySerializer,
                   responses={200: InquiryDetailSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        obj = inq.inquiry_get_for(viewer=request.user, pk=pk)
        data = SurveySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(inq.inquiry_survey, actor=request.user, inquiry=obj, **data.validated_data)
        return Response(_inquiry(request, obj))


# --- calls -------------------------------------------------------------------------------------------------

CALL_TAGS = ["来电"]


class IncomingCallView(Base):
    caps = (Cap.OFFSITE_HANDLE,)
    serializer_class = IncomingCallSerializer
    queryset = CallRecord.objects.none()

    @extend_schema(
        summary="来电弹屏",
        description="电话系统（CTI）或坐席软电话上报来电号码：按号码精确匹配调用者营业部的客户，"
        "为坐席打开通话记录，返回客户卡片（按调用者的个人信息查看权限脱敏）或陌生来电。",
        tags=CALL_TAGS,
        request=IncomingCallSerializer,
        responses={201: IncomingResponseSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthedRequest) -> Response:
        data = IncomingCallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call, client = _run(
            calls.call_incoming, actor=request.user, phone=data.validated_data["phone"],
            agent_username=data.validated_data["agent"],
        )  # fmt: skip
        card = calls.client_card(client=client, phone=call.phone, viewer=request.user)
        body = {
            "call": CallSerializer(call, context={"request": request}).data,
            "card": ClientCardSerializer(card).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class CallListView(Base):
    caps = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
    serializer_class = CallSerializer
    queryset = CallRecord.objects.none()
    pagination_class = StandardPagination

    @extend_schema(summary="通话记录", tags=CALL_TAGS, parameters=[OpenApiParameter("mine", bool)],
                   responses={200: CallSerializer(many=True), **list_error_responses(401, 403)})  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        mine = (request.query_params.get("mine") or "").lower() in {"1", "true"}
        page = self.paginate_queryset(calls.call_list(viewer=request.user, mine=mine))
        return self.get_paginated_response(CallSerializer(page, many=True, context={"request": request}).data)


class CallEndView(Base):
    caps = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
    serializer_class = CallEndSerializer
    queryset = CallRecord.objects.none()

    @extend_schema(summary="结束通话", tags=CALL_TAGS, parameters=[PK], request=CallEndSerializer,
                   responses={200: CallSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        call = calls.call_get_for(viewer=request.user, pk=pk)
        data = CallEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call = _run(calls.call_end, actor=request.user, call=call, note=data.validated_data["note"])
        return Response(CallSerializer(call, context={"request": request}).data)


# --- return visits -----------------------------------------------------------------------------------------

VISIT_TAGS = ["回访"]
VISIT_VIEW = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE, Cap.COMPLIANCE_REVIEW)


class ReturnVisitListView(Base):
    caps = VISIT_VIEW
    serializer_class = ReturnVisitSerializer
    queryset = ReturnVisit.objects.none()
    pagination_class = StandardPagination

    @extend_schema(
        summary="回访任务列表", tags=VISIT_TAGS,
        parameters=[
            OpenApiParameter("state", str, enum=list(ReturnVisit.State.values)),
            OpenApiParameter("rule", str, enum=list(ReturnVisitRule.Kind.values)),
            OpenApiParameter("mine", bool), OpenApiParameter("overdue", bool),
        ],
        responses={200: ReturnVisitSerializer(many=True), **list_error_responses(401, 403)},
    )  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        filters = visits.VisitFilters.from_params(request.query_params)
        page = self.paginate_queryset(visits.visit_list(viewer=request.user, filters=filters))
        return self.get_paginated_response(ReturnVisitSerializer(page, many=True).data)


class ReturnVisitDetailView(Base):
    caps = VISIT_VIEW
    serializer_class = ReturnVisitSerializer
    queryset = ReturnVisit.objects.none()

    @extend_schema(summary="回访任务详情", tags=VISIT_TAGS, parameters=[PK],
                   responses={200: ReturnVisitSerializer, **error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        return Response(ReturnVisitSerializer(visits.visit_get_for(viewer=request.user, pk=pk)).data)


class ReturnVisitAttemptView(Base):
    caps = VISIT_VIEW
    serializer_class = AttemptSerializer
    queryset = ReturnVisit.objects.none()

    @extend_schema(
        summary="登记一次回访", description="已联系上即完成；第三次未联系上时结束为“三次未联系上”。发现问题时转为咨询投诉。",
        tags=VISIT_TAGS, parameters=[PK], request=AttemptSerializer,
        responses={200: ReturnVisitSerializer, **error_responses(400, 401, 403, 404)},
    )  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        visit = visits.visit_get_for(viewer=request.user, pk=pk)
        data = AttemptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        problem = (
            visits.Problem(
                kind=v["problem_kind"], subject=v["problem_subject"], description=v["problem_description"]
            )
            if v["problem_subject"].strip()
            else None
        )
        visit = _run(
            visits.visit_attempt, actor=request.user, visit=visit, outcome=v["outcome"], note=v["note"],
            answers=v["answers"], problem=problem,
        )  # fmt: skip
        return Response(ReturnVisitSerializer(visits.visit_get_for(viewer=request.user, pk=visit.pk)).data)


class ReturnVisitAssignView(Base):
    caps = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)
    serializer_class = AssignSerializer
    queryset = ReturnVisit.objects.none()

    @extend_schema(summary="改派回访人", description="不能指派给客户本人的客户经理或经纪人（独立性要求）。",
                   tags=VISIT_TAGS, parameters=[PK], request=AssignSerializer,
                   responses={200: ReturnVisitSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        visit = visits.visit_get_for(viewer=request.user, pk=pk)
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignee = User.objects.filter(pk=data.validated_data["assignee"]).first()
        if assignee is None:
            raise DomainError(str(_("回访人不存在。")), field="assignee")
        _run(visits.visit_assign, actor=request.user, visit=visit, assignee=assignee)
        return Response(ReturnVisitSerializer(visits.visit_get_for(viewer=request.user, pk=visit.pk)).data)


class RuleListView(Base):
    caps = (Cap.ORG_CONFIGURE, Cap.COMPLIANCE_REVIEW, Cap.SUPERVISE, Cap.OFFSITE_HANDLE)
    serializer_class = RuleSerializer
    queryset = ReturnVisitRule.objects.none()
    # A branch has one rule per kind (a handful): a plain list, not paginated.
    pagination_class = None

    @extend_schema(
        summary="回访规则",
        tags=VISIT_TAGS,
        responses={200: RuleSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        if request.user.branch_id is None:
            return Response([])
        return Response(RuleSerializer(visits.rules_for(request.user.branch_id), many=True).data)


class RuleDetailView(Base):
    caps = (Cap.ORG_CONFIGURE, Cap.COMPLIANCE_REVIEW)
    serializer_class = RuleSerializer
    queryset = ReturnVisitRule.objects.none()

    @extend_schema(summary="修改回访规则", tags=VISIT_TAGS, parameters=[PK], request=RuleSerializer,
                   responses={200: RuleSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def patch(self, request: AuthedRequest, pk: str) -> Response:
        rule = ReturnVisitRule.objects.filter(pk=_pk(pk), branch_id=request.user.branch_id or 0).first()
        if rule is None:
            raise exceptions.NotFound(_("未找到。"))
        data = RuleSerializer(rule, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        _run(visits.rule_update, actor=request.user, rule=rule, data=dict(data.validated_data))
        return Response(RuleSerializer(rule).data)


def _pk(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- campaigns ---------------------------------------------------------------------------------------------

CAMPAIGN_TAGS = ["外呼活动"]
CAMPAIGN_CAPS = (Cap.OFFSITE_HANDLE, Cap.SUPERVISE)


class CampaignListView(Base):
    caps = CAMPAIGN_CAPS
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.none()
    pagination_class = StandardPagination

    @extend_schema(summary="外呼活动列表", tags=CAMPAIGN_TAGS,
                   responses={200: CampaignSerializer(many=True), **list_error_responses(401, 403)})  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        page = self.paginate_queryset(campaigns.campaign_list(viewer=request.user))
        return self.get_paginated_response(CampaignSerializer(page, many=True).data)

    @extend_schema(summary="新建外呼活动", description="按条件筛选客户，轮流分配给所选坐席。", tags=CAMPAIGN_TAGS,
                   request=CampaignCreateSerializer, responses={201: CampaignDetailSerializer, **error_responses(400, 401, 403)})  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        data = CampaignCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        agents = list(User.objects.filter(pk__in=v["agents"]))
        if len(agents) != len(set(v["agents"])):
            raise DomainError(str(_("坐席不存在。")), field="agents")
        criteria = campaigns.CampaignCriteria(
            assessment_older_than_years=v["assessment_older_than_years"], dormant=v["dormant"],
            security_code=v["security_code"], tier=v["tier"],
        )  # fmt: skip
        obj = _run(
            campaigns.campaign_create, actor=request.user, name=v["name"], purpose=v["purpose"],
            criteria=criteria, agents=agents,
        )  # fmt: skip
        fresh = campaigns.campaign_get_for(viewer=request.user, pk=obj.pk)
        return Response(CampaignDetailSerializer(fresh).data, status=status.HTTP_201_CREATED)


class CampaignDetailView(Base):
    caps = CAMPAIGN_CAPS
    serializer_class = CampaignDetailSerializer
    queryset = Campaign.objects.none()

    @extend_schema(summary="外呼活动详情与进度", tags=CAMPAIGN_TAGS, parameters=[PK],
                   responses={200: CampaignDetailSerializer, **error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        return Response(CampaignDetailSerializer(campaigns.campaign_get_for(viewer=request.user, pk=pk)).data)


class CampaignTargetsView(Base):
    caps = CAMPAIGN_CAPS
    serializer_class = TargetSerializer
    queryset = CampaignTarget.objects.none()
    pagination_class = StandardPagination

    @extend_schema(summary="外呼对象", tags=CAMPAIGN_TAGS, parameters=[PK, OpenApiParameter("mine", bool)],
                   responses={200: TargetSerializer(many=True), **list_error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        campaign = campaigns.campaign_get_for(viewer=request.user, pk=pk)
        mine = (request.query_params.get("mine") or "").lower() in {"1", "true"}
        page = self.paginate_queryset(
            campaigns.campaign_targets(campaign=campaign, viewer=request.user, mine=mine)
        )
        return self.get_paginated_response(TargetSerializer(page, many=True).data)


class TargetOutcomeView(Base):
    caps = CAMPAIGN_CAPS
    serializer_class = TargetOutcomeSerializer
    queryset = CampaignTarget.objects.none()

    @extend_schema(summary="登记外呼结果", tags=CAMPAIGN_TAGS, parameters=[PK], request=TargetOutcomeSerializer,
                   responses={200: TargetSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        target = CampaignTarget.objects.filter(pk=_pk(pk)).select_related("campaign").first()
        campaigns.campaign_get_for(viewer=request.user, pk=target.campaign_id if target else 0)
        assert target is not None
        data = TargetOutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = _run(campaigns.target_record, actor=request.user, target=target, **data.validated_data)
        fresh = CampaignTarget.objects.select_related("client", "agent").get(pk=target.pk)
        return Response(TargetSerializer(fresh).data)


urlpatterns = [
    path("offsite/inquiries/", InquiryListView.as_view(), name="api-offsite-inquiry-list"),
    path("offsite/inquiries/<str:pk>/", InquiryDetailView.as_view(), name="api-offsite-inquiry-detail"),
    path(
        "offsite/inquiries/<str:pk>/transitions/<str:name>/",
        InquiryTransitionView.as_view(),
        name="api-offsite-inquiry-transition",
    ),
    path(
        "offsite/inquiries/<str:pk>/survey/", InquirySurveyView.as_view(), name="api-offsite-inquiry-survey"
    ),
    path("calls/incoming", IncomingCallView.as_view(), name="api-calls-incoming"),
    path("calls/", CallListView.as_view(), name="api-calls-list"),
    path("calls/<str:pk>/end/", CallEndView.as_view(), name="api-calls-end"),
    path("offsite/return-visits/", ReturnVisitListView.as_view(), name="api-offsite-visit-list"),
    path("offsite/return-visits/<str:pk>/", ReturnVisitDetailView.as_view(), name="api-offsite-visit-detail"),
    path(
        "offsite/return-visits/<str:pk>/attempts/",
        ReturnVisitAttemptView.as_view(),
        name="api-offsite-visit-attempt",
    ),
    path(
        "offsite/return-visits/<str:pk>/assign/",
        ReturnVisitAssignView.as_view(),
        name="api-offsite-visit-assign",
    ),
    path("offsite/return-visit-rules/", RuleListView.as_view(), name="api-offsite-rule-list"),
    path("offsite/return-visit-rules/<str:pk>/", RuleDetailView.as_view(), name="api-offsite-rule-detail"),
    path("offsite/campaigns/", CampaignListView.as_view(), name="api-offsite-campaign-list"),
    path("offsite/campaigns/<str:pk>/", CampaignDetailView.as_view(), name="api-offsite-campaign-detail"),
    path(
        "offsite/campaigns/<str:pk>/targets/",
        CampaignTargetsView.as_view(),
        name="api-offsite-campaign-targets",
    ),
    path(
        "offsite/campaign-targets/<str:pk>/outcome/",
        TargetOutcomeView.as_view(),
        name="api-offsite-target-outcome",
    ),
]
