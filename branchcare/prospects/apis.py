"""Prospect development API under /api/v1/prospects/: partners, prospects (with stage steps, follow-ups,
claim, assign and the link to the opened account) and the reports data.

Scoped like the pages: reads go through :mod:`.selectors` (another owner's or branch's prospect is a
404), writes through :mod:`.services` (a step the caller may not take is a 403, a rule a 400 with a
Chinese message naming the field).
"""

from __future__ import annotations

from typing import Any

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
from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.core.masking import mask_id_number, mask_phone
from branchcare.org.capabilities import Cap
from branchcare.org.models import User

from . import selectors as sel
from . import selectors_reports as rep
from . import services as svc
from .models import Partner, Prospect, ProspectFollowUp
from .workflows import MANUAL_STEPS, PROSPECT, is_owner_role

TAGS_P = ["潜在客户"]
TAGS_PARTNER = ["合作伙伴"]
# The URL kwarg is ``pk``; the schema calls it ``id`` (SCHEMA_COERCE_PATH_PK), so document ``id``.
PK = id_parameter("编号")


class CanUseProspects(BasePermission):
    """Brokers, managers and the director; writes that need more name ``write_capability``."""

    message = _("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not sel.can_use_prospects(user):
            return False
        cap = getattr(view, "write_capability", {}).get(request.method.lower())
        return user.has_cap(cap) if cap else True


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        if exc.code == "forbidden":
            raise exceptions.PermissionDenied(exc.message) from exc
        raise


# --- serializers -------------------------------------------------------------------------------------------


class ProspectStaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class PartnerSerializer(serializers.ModelSerializer):
    # Plain strings (values listed) so that the enum does not collide with other apps' "kind".
    kind = serializers.CharField(required=False, help_text=" / ".join(Partner.Kind.values))

    class Meta:
        model = Partner
        fields = [
            "id", "branch", "name", "kind", "contact_name", "contact_phone", "offered_rate", "agreement_start",
            "agreement_end", "referral_code", "active", "notes", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "branch", "created_at"]


class ProspectSerializer(serializers.ModelSerializer):
    """Phone and ID number are masked unless the caller may see personal data."""

    owner = ProspectStaffRefSerializer(read_only=True, allow_null=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True, allow_null=True, default=None)
    client_no = serializers.CharField(
        source="client.client_no", read_only=True, allow_null=True, default=None
    )
    phone = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    stage = serializers.CharField(read_only=True, help_text=" / ".join(Prospect.Stage.values))

    class Meta:
        model = Prospect
        fields = [
            "id", "branch", "name", "phone", "id_number", "source", "partner", "partner_name", "referrer",
            "segment", "owner", "stage", "last_touched_at", "next_follow_up_due", "offered_rate", "client",
            "client_no", "converted_at", "credited_partner", "credited_owner", "premium_offered", "notes",
            "created_at",
        ]  # fmt: skip

    def _can_see(self) -> bool:
        request = self.context.get("request")
        return bool(request and request.user.has_cap(Cap.PERSONAL_DATA_VIEW))

    def get_phone(self, obj: Prospect) -> str:
        return obj.phone if self._can_see() else mask_phone(obj.phone)

    def get_id_number(self, obj: Prospect) -> str:
        return obj.id_number if self._can_see() else mask_id_number(obj.id_number)


class ProspectDetailSerializer(ProspectSerializer):
    actions = serializers.SerializerMethodField(help_text="当前调用者可执行的阶段操作")

    class Meta(ProspectSerializer.Meta):
        fields = [*ProspectSerializer.Meta.fields, "actions"]

    def get_actions(self, obj: Prospect) -> list[str]:
        user = self.context["request"].user
        return [t.name for t in PROSPECT.available(obj, user) if t.name in MANUAL_STEPS]


class ProspectWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False)
    phone = serializers.CharField(max_length=30, required=False)
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    source = serializers.ChoiceField(choices=Prospect.Source.choices, required=False)  # type: ignore[assignment]
    referral_code = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="合作伙伴推荐码"
    )
    referrer_client_no = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="推荐客户的客户号"
    )
    segment = serializers.ChoiceField(choices=Prospect.Segment.choices, required=False)
    offered_rate = serializers.DecimalField(max_digits=6, decimal_places=4, required=False, allow_null=True)
    next_follow_up_due = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.IntegerField(
        required=False, allow_null=True, help_text="营业部经理登记时指定负责人；空为公海"
    )


class ProspectFollowUpSerializer(serializers.ModelSerializer):
    by = ProspectStaffRefSerializer(read_only=True)
    channel = serializers.CharField(read_only=True, help_text=" / ".join(ProspectFollowUp.Channel.values))

    class Meta:
        model = ProspectFollowUp
        fields = ["id", "channel", "notes", "at", "by", "next_due"]
        read_only_fields = ["id", "at", "by"]


class ProspectFollowUpWriteSerializer(serializers.Serializer):
    channel = serializers.CharField(default="phone", help_text=" / ".join(ProspectFollowUp.Channel.values))
    notes = serializers.CharField(max_length=4000)
    next_due = serializers.DateField(required=False, allow_null=True)
    step = serializers.ChoiceField(choices=[("contact", "contact"), ("visit", "visit")], required=False)


class ProspectNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="lose 时必填")


class ProspectAssignSerializer(serializers.Serializer):
    owner = serializers.IntegerField(allow_null=True, help_text="负责人编号；null 为退回公海")


class ProspectLinkSerializer(serializers.Serializer):
    client_no = serializers.CharField(max_length=20)


class ProspectFunnelRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    counts = serializers.ListField(
        child=serializers.IntegerField(), help_text="按 stages 顺序到达各阶段的人数"
    )
    lost = serializers.IntegerField()


class ProspectConversionSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    converted = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="%")
    median_days = serializers.FloatField(allow_null=True)


class ProspectPartnerRowSerializer(serializers.Serializer):
    partner = serializers.IntegerField(source="partner.pk")
    name = serializers.CharField(source="partner.name")
    referrals = serializers.IntegerField()
    opened = serializers.IntegerField()
    funded = serializers.IntegerField()
    assets_wan = serializers.DecimalField(max_digits=16, decimal_places=2)
    commission = serializers.DecimalField(
        max_digits=6, decimal_places=4, allow_null=True, help_text="约定佣金率 ‰"
    )


class ProspectOwnerRowSerializer(serializers.Serializer):
    owner = serializers.IntegerField()
    name = serializers.CharField(source="user")
    total = serializers.IntegerField()
    contacted = serializers.IntegerField()
    opened = serializers.IntegerField()
    funded = serializers.IntegerField()
    assets_wan = serializers.DecimalField(max_digits=16, decimal_places=2)
    overdue = serializers.IntegerField()


class ProspectReportSerializer(serializers.Serializer):
    period = serializers.CharField(source="period.key")
    stages = serializers.ListField(child=serializers.CharField(), source="stage_keys")
    overall = serializers.ListField(child=serializers.IntegerField())
    by_source = ProspectFunnelRowSerializer(many=True)
    by_segment = ProspectFunnelRowSerializer(many=True)
    conversion = ProspectConversionSerializer()
    partners = ProspectPartnerRowSerializer(many=True)
    owners = ProspectOwnerRowSerializer(many=True)


# --- partners ----------------------------------------------------------------------------------------------


class PartnerListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    write_capability = {"post": Cap.SUPERVISE}
    serializer_class = PartnerSerializer
    queryset = Partner.objects.none()
    pagination_class = CappedCountPagination
    parser_classes = [JSONParser]

    @extend_schema(summary="合作伙伴列表", tags=TAGS_PARTNER,
                   responses={200: PartnerSerializer(many=True), **list_error_responses(401, 403)})  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        page = self.paginate_queryset(sel.partner_base_qs(viewer=request.user).order_by("name", "pk"))
        return self.get_paginated_response(PartnerSerializer(page, many=True).data)

    @extend_schema(summary="登记合作伙伴（营业部经理）", tags=TAGS_PARTNER, request=PartnerSerializer,
                   responses={201: PartnerSerializer, **error_responses(400, 401, 403)})  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        data = PartnerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = _run(
            svc.partner_create, actor=request.user, branch=request.user.branch, data=data.validated_data
        )
        return Response(PartnerSerializer(partner).data, status=status.HTTP_201_CREATED)


class PartnerDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    write_capability = {"patch": Cap.SUPERVISE}
    serializer_class = PartnerSerializer
    queryset = Partner.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(summary="合作伙伴详情", tags=TAGS_PARTNER, parameters=[PK],
                   responses={200: PartnerSerializer, **error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        return Response(PartnerSerializer(sel.partner_get_for(viewer=request.user, pk=pk)).data)

    @extend_schema(summary="修改合作伙伴（营业部经理）", tags=TAGS_PARTNER, parameters=[PK], request=PartnerSerializer,
                   responses={200: PartnerSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def patch(self, request: AuthedRequest, pk: str) -> Response:
        partner = sel.partner_get_for(viewer=request.user, pk=pk)
        data = PartnerSerializer(partner, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        partner = _run(svc.partner_update, actor=request.user, partner=partner, data=data.validated_data)
        return Response(PartnerSerializer(partner).data)


# --- prospects ---------------------------------------------------------------------------------------------


def _service_data(v: dict[str, Any], branch) -> dict[str, Any]:
    data: dict[str, Any] = {k: v[k] for k in ("name", "phone", "id_number", "source", "referral_code", "segment", "offered_rate",
                              "next_follow_up_due", "notes") if k in v}  # fmt: skip
    if "referrer_client_no" in v:
        no = (v["referrer_client_no"] or "").strip().upper()
        ref = (
            Client.objects.filter(branch=branch, client_no=no).select_related("branch").first()
            if no
            else None
        )
        if no and ref is None:
            raise DomainError(
                str(_("本营业部没有客户号为 %(no)s 的客户。")) % {"no": no}, field="referrer_client_no"
            )
        data["referrer"] = ref
    return data


def _detail(prospect: Prospect, request) -> dict:
    p = Prospect.objects.select_related("owner", "partner", "client").get(pk=prospect.pk)
    return ProspectDetailSerializer(p, context={"request": request}).data


class ProspectListView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    serializer_class = ProspectSerializer
    queryset = Prospect.objects.none()
    pagination_class = CappedCountPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="潜在客户列表",
        description="view=mine 我的，pool 公海，all 全部可见范围（负责人：本人+公海；营业部经理：本营业部）。",
        tags=TAGS_P,
        parameters=[
            OpenApiParameter("view", str, enum=list(sel.VIEWS)),
            OpenApiParameter("stage", str, enum=list(Prospect.Stage.values)),
            OpenApiParameter("source", str, enum=list(Prospect.Source.values)),
            OpenApiParameter("segment", str, enum=list(Prospect.Segment.values)),
            OpenApiParameter("partner", int),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("q", str, description="姓名或手机尾号"),
        ],
        responses={200: ProspectSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        filters = sel.ProspectFilters.from_params(request.query_params, default_view="all")
        page = self.paginate_queryset(sel.prospect_list(viewer=request.user, filters=filters))
        return self.get_paginated_response(
            ProspectSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(summary="登记潜在客户", description="手机号/证件号码与潜在客户及现有客户查重；重复时 400 并指明已有记录（脱敏）。",
                   tags=TAGS_P, request=ProspectWriteSerializer,
                   responses={201: ProspectDetailSerializer, **error_responses(400, 401, 403)})  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        user = request.user
        if user.branch_id is None:
            raise exceptions.PermissionDenied()
        data = ProspectWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        owner: User | None = user if is_owner_role(user) else None
        if user.has_cap(Cap.SUPERVISE) and "owner" in v:
            owner = User.objects.filter(pk=v["owner"]).first() if v["owner"] else None
            if v["owner"] and owner is None:
                raise DomainError(str(_("负责人不存在。")), field="owner")
        prospect = _run(
            svc.prospect_create,
            actor=user,
            branch=user.branch,
            data=_service_data(v, user.branch),
            owner=owner,
        )
        return Response(_detail(prospect, request), status=status.HTTP_201_CREATED)


class ProspectDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    serializer_class = ProspectDetailSerializer
    queryset = Prospect.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(summary="潜在客户详情", tags=TAGS_P, parameters=[PK],
                   responses={200: ProspectDetailSerializer, **error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        return Response(_detail(sel.prospect_get_for(viewer=request.user, pk=pk), request))

    @extend_schema(summary="修改潜在客户", tags=TAGS_P, parameters=[PK], request=ProspectWriteSerializer,
                   responses={200: ProspectDetailSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def patch(self, request: AuthedRequest, pk: str) -> Response:
        prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
        data = ProspectWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(
            svc.prospect_update,
            actor=request.user,
            prospect=prospect,
            data=_service_data(data.validated_data, prospect.branch),
        )
        return Response(_detail(prospect, request))


class ProspectTransitionView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    serializer_class = ProspectNoteSerializer
    queryset = Prospect.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(summary="推进潜在客户阶段", description="name 为 " + " / ".join(MANUAL_STEPS)
                   + "；“已开户”通过关联开户客户（link）达到，“已入金 / 已活跃”由系统按客户资产更新。",
                   tags=TAGS_P, parameters=[PK, OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(MANUAL_STEPS))],
                   request=ProspectNoteSerializer, responses={200: ProspectDetailSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str, name: str) -> Response:
        prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
        if name not in MANUAL_STEPS:
            raise exceptions.NotFound(_("未知的操作。"))
        data = ProspectNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(
            svc.prospect_transition,
            actor=request.user,
            prospect=prospect,
            name=name,
            note=data.validated_data["note"],
        )
        return Response(_detail(prospect, request))


class ProspectFollowUpView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    serializer_class = ProspectFollowUpSerializer
    queryset = ProspectFollowUp.objects.none()
    parser_classes = [JSONParser]
    # The latest 200 follow-ups as a plain list (not paginated).
    pagination_class = None

    @extend_schema(summary="跟进记录", tags=TAGS_P, parameters=[PK],
                   responses={200: ProspectFollowUpSerializer(many=True), **error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
        rows = prospect.follow_ups.select_related("by")[:200]
        return Response(ProspectFollowUpSerializer(rows, many=True).data)

    @extend_schema(summary="记录跟进", description="线索阶段记录首次跟进时自动变为“已联系”；step 可同时推进阶段。",
                   tags=TAGS_P, parameters=[PK], request=ProspectFollowUpWriteSerializer,
                   responses={201: ProspectFollowUpSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
        data = ProspectFollowUpWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        f = _run(svc.followup_log, actor=request.user, prospect=prospect, notes=v["notes"], channel=v["channel"],
                 next_due=v.get("next_due"), step=v.get("step", ""))  # fmt: skip
        return Response(ProspectFollowUpSerializer(f).data, status=status.HTTP_201_CREATED)


class ProspectClaimView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    serializer_class = ProspectDetailSerializer
    queryset = Prospect.objects.none()

    @extend_schema(summary="从公海认领", tags=TAGS_P, parameters=[PK], request=None,
                   responses={200: ProspectDetailSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
        _run(svc.prospect_claim, actor=request.user, prospect=prospect)
        return Response(_detail(prospect, request))


class ProspectAssignView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    write_capability = {"post": Cap.SUPERVISE}
    serializer_class = ProspectAssignSerializer
    queryset = Prospect.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(summary="分配负责人（营业部经理）", tags=TAGS_P, parameters=[PK], request=ProspectAssignSerializer,
                   responses={200: ProspectDetailSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
        data = ProspectAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner_id = data.validated_data["owner"]
        owner = User.objects.filter(pk=owner_id).first() if owner_id else None
        if owner_id and owner is None:
            raise DomainError(str(_("负责人不存在。")), field="owner")
        _run(svc.prospect_assign, actor=request.user, prospect=prospect, owner=owner)
        return Response(_detail(prospect, request))


class ProspectLinkView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    serializer_class = ProspectLinkSerializer
    queryset = Prospect.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(summary="关联开户客户", description="按客户号关联；阶段变为“已开户”，业绩计入合作伙伴与负责人，客户适用承诺佣金率。",
                   tags=TAGS_P, parameters=[PK], request=ProspectLinkSerializer,
                   responses={200: ProspectDetailSerializer, **error_responses(400, 401, 403, 404)})  # fmt: skip
    def post(self, request: AuthedRequest, pk: str) -> Response:
        prospect = sel.prospect_get_for(viewer=request.user, pk=pk)
        data = ProspectLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _run(
            svc.prospect_link_client,
            actor=request.user,
            prospect=prospect,
            client_no=data.validated_data["client_no"],
        )
        return Response(_detail(prospect, request))


class ReportView(GenericAPIView):
    permission_classes = [IsAuthenticated, CanUseProspects]
    serializer_class = ProspectReportSerializer
    queryset = Prospect.objects.none()

    @extend_schema(summary="开发报表数据", description="漏斗（按来源、客户类型）、转化率与转化时长、合作伙伴排行、负责人业绩。",
                   tags=TAGS_P, parameters=[OpenApiParameter("period", str, enum=list(rep.PERIODS))],
                   responses={200: ProspectReportSerializer, **error_responses(401, 403)})  # fmt: skip
    def get(self, request: AuthedRequest) -> Response:
        period = rep.period_for(request.query_params.get("period"))
        return Response(ProspectReportSerializer(rep.report(viewer=request.user, period=period)).data)


urlpatterns = [
    path("prospects/partners/", PartnerListView.as_view(), name="api-prospect-partner-list"),
    path("prospects/partners/<str:pk>/", PartnerDetailView.as_view(), name="api-prospect-partner-detail"),
    path("prospects/prospects/", ProspectListView.as_view(), name="api-prospect-list"),
    path("prospects/prospects/<str:pk>/", ProspectDetailView.as_view(), name="api-prospect-detail"),
    path("prospects/prospects/<str:pk>/transitions/<str:name>/", ProspectTransitionView.as_view(),
         name="api-prospect-transition"),
    path("prospects/prospects/<str:pk>/follow-ups/", ProspectFollowUpView.as_view(), name="api-prospect-follow-ups"),
    path("prospects/prospects/<str:pk>/claim/", ProspectClaimView.as_view(), name="api-prospect-claim"),
    path("prospects/prospects/<str:pk>/assign/", ProspectAssignView.as_view(), name="api-prospect-assign"),
    path("prospects/prospects/<str:pk>/link/", ProspectLinkView.as_view(), name="api-prospect-link"),
    path("prospects/reports/", ReportView.as_view(), name="api-prospect-reports"),
]  # fmt: skip
