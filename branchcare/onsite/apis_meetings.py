"""客户交流会 API (``/api/v1/meetings/…``), scoped like the pages: the director and customer managers
see and plan their branch's meetings; analysts and consultants see the meetings they speak at."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from branchcare.api.pagination import StandardPagination
from branchcare.api.params import clean_query_params
from branchcare.api.schema import error_responses, id_parameter, list_error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.org.models import User

from . import services_meetings as services
from .models import ExchangeMeeting, MeetingInvitation
from .selectors_meetings import (
    can_manage_meetings,
    can_view_meetings,
    meeting_branches,
    meeting_get_for,
    meeting_invitations,
    meeting_list,
)

# --- permissions ---------------------------------------------------------------------------------------


class CanUseMeetings(BasePermission):
    """Reading: planners (Cap.SUPERVISE / Cap.ONSITE_SERVE) and speakers (analysts, consultants).
    Writing: planners only."""

    message = _("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return can_view_meetings(user)
        return can_manage_meetings(user)


# --- serializers -----------------------------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ClientRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_no = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.ChoiceField(choices=Client.Tier.choices)


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": str(user)}


class MeetingSerializer(serializers.ModelSerializer):
    branch = serializers.IntegerField(source="branch_id", read_only=True)
    invited_count = serializers.IntegerField(read_only=True, help_text="受邀客户数")
    yes_count = serializers.IntegerField(read_only=True, help_text="回复参加的客户数")
    attended_count = serializers.IntegerField(read_only=True, help_text="出席的客户数")
    speakers = serializers.SerializerMethodField(help_text="主讲分析师")
    guest_speakers = serializers.SerializerMethodField(help_text="分享经验的客户")
    ics_url = serializers.SerializerMethodField(help_text="日历文件（.ics）下载地址")

    class Meta:
        model = ExchangeMeeting
        fields = [
            "id",
            "branch",
            "starts_at",
            "duration_minutes",
            "location",
            "topic",
            "state",
            "invited_count",
            "yes_count",
            "attended_count",
            "minutes",
            "speakers",
            "guest_speakers",
            "ics_url",
        ]
        read_only_fields = fields

    @extend_schema_field(PersonRefSerializer(many=True))
    def get_speakers(self, meeting: ExchangeMeeting) -> list[dict[str, Any]]:
        return [_person(u) for u in meeting.speakers.all()]

    @extend_schema_field(ClientRefSerializer(many=True))
    def get_guest_speakers(self, meeting: ExchangeMeeting) -> list[dict[str, Any]]:
        return [
            {"id": c.pk, "client_no": c.client_no, "name": c.name, "tier": c.tier}
            for c in meeting.guest_speakers.all()
        ]

    def get_ics_url(self, meeting: ExchangeMeeting) -> str:
        from django.urls import reverse

        return reverse("onsite:meeting_ics", args=[meeting.pk])


class MeetingCreateSerializer(serializers.Serializer):
    branch = serializers.IntegerField(
        required=False, min_value=1, max_value=2**53, help_text="营业部 id；默认为本人所在营业部"
    )
    topic = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField(required=False, help_text="默认为服务标准规定的下一次交流会时间")
    duration_minutes = serializers.IntegerField(required=False, default=90, min_value=15, max_value=480)
    location = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    speakers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53), required=False, default=list
    )
    guest_speakers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53),
        required=False,
        default=list,
        help_text="分享经验的客户 id",
    )
    invite = serializers.BooleanField(required=False, default=True, help_text="按服务标准生成邀请名单")


class InvitationSerializer(serializers.ModelSerializer):
    client = ClientRefSerializer(read_only=True)

    class Meta:
        model = MeetingInvitation
        fields = ["id", "client", "rsvp", "attended"]
        read_only_fields = fields
        extra_kwargs = {"attended": {"allow_null": True, "help_text": "出席；会前为 null"}}


class InvitationAddSerializer(serializers.Serializer):
    client = serializers.IntegerField(help_text="客户 id（须为本营业部的正常客户）")


# --- views ---------------------------------------------------------------------------------------------

STATE_PARAM = OpenApiParameter(
    "state", str, enum=ExchangeMeeting.State.values, description="按状态筛选：planned / held / cancelled"
)


class MeetingListView(GenericAPIView):
    """The meetings the caller may see (newest first), and planning a new one."""

    permission_classes = [IsAuthenticated, CanUseMeetings]
    pagination_class = StandardPagination
    serializer_class = MeetingSerializer
    parser_classes = [JSONParser]
    queryset = ExchangeMeeting.objects.none()  # for schema introspection; reads use the selectors

    @extend_schema(
        operation_id="meetings_list",
        summary="客户交流会列表",
        tags=["onsite"],
        parameters=[STATE_PARAM],
        responses={200: MeetingSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = clean_query_params(request.query_params)
        qs = meeting_list(viewer=request.user, state=params.get("state", "")).prefetch_related(
            "speakers", "guest_speakers"
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(MeetingSerializer(page, many=True).data)

    @extend_schema(
        operation_id="meetings_create",
        summary="安排交流会",
        tags=["onsite"],
        request=MeetingCreateSerializer,
        responses={201: MeetingSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest) -> Response:
        body = MeetingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        branches = meeting_branches(request.user)
        branch_id = data.get("branch") or request.user.branch_id
        branch = branches.filter(pk=branch_id).first() if branch_id else None
        if branch is None:
            from django.http import Http404

            raise Http404
        speakers = list(User.objects.filter(pk__in=data["speakers"]))
        if len(speakers) != len(set(data["speakers"])):
            raise DomainError(str(_("主讲人不存在。")), field="speakers")
        guests = list(Client.objects.filter(pk__in=data["guest_speakers"], branch=branch))
        if len(guests) != len(set(data["guest_speakers"])):
            raise DomainError(str(_("分享嘉宾须为本营业部的客户。")), field="guest_speakers")
        meeting = services.meeting_schedule(
            actor=request.user,
            branch=branch,
            topic=data["topic"],
            starts_at=data.get("starts_at"),
            location=data["location"],
            duration_minutes=data["duration_minutes"],
            speakers=speakers,
            guest_speakers=guests,
            invite=data["invite"],
        )
        meeting = meeting_list(viewer=request.user).get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)


class MeetingDetailView(GenericAPIView):
    """One meeting with its speakers, guest speakers, minutes and counts."""

    permission_classes = [IsAuthenticated, CanUseMeetings]
    serializer_class = MeetingSerializer
    queryset = ExchangeMeeting.objects.none()

    @extend_schema(
        operation_id="meetings_retrieve",
        summary="客户交流会详情",
        tags=["onsite"],
        parameters=[id_parameter("交流会 id")],
        responses={200: MeetingSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        meeting = meeting_get_for(viewer=request.user, pk=pk)
        meeting = meeting_list(viewer=request.user).get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data)


class MeetingInvitationsView(GenericAPIView):
    """The meeting's invitation list with RSVPs and attendance; adding a client to it."""

    permission_classes = [IsAuthenticated, CanUseMeetings]
    pagination_class = StandardPagination
    serializer_class = InvitationSerializer
    parser_classes = [JSONParser]
    queryset = MeetingInvitation.objects.none()

    @extend_schema(
        operation_id="meetings_invitations_list",
        summary="交流会邀请名单",
        tags=["onsite"],
        parameters=[id_parameter("交流会 id")],
        responses={200: InvitationSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        meeting = meeting_get_for(viewer=request.user, pk=pk)
        page = self.paginate_queryset(meeting_invitations(meeting))
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(
        operation_id="meetings_invitations_create",
        summary="邀请客户",
        tags=["onsite"],
        parameters=[id_parameter("交流会 id")],
        request=InvitationAddSerializer,
        responses={201: InvitationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, pk: str) -> Response:
        meeting = meeting_get_for(viewer=request.user, pk=pk, manage=True)
        body = InvitationAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        client = Client.objects.filter(pk=body.validated_data["client"], branch=meeting.branch).first()
        if client is None:
            raise DomainError(str(_("本营业部没有该客户。")), field="client")
        invitation = services.invitation_add(actor=request.user, meeting=meeting, client=client)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("meetings/", MeetingListView.as_view(), name="api-meeting-list"),
    path("meetings/<str:pk>/", MeetingDetailView.as_view(), name="api-meeting-detail"),
    path("meetings/<str:pk>/invitations/", MeetingInvitationsView.as_view(), name="api-meeting-invitations"),
]
