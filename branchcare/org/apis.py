"""Org API: who am I (``/api/v1/me/``), the branches I may see, and the staff directory."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from branchcare.api.params import clean_query_params
from branchcare.api.permissions import HasCapability
from branchcare.api.schema import ID_SEGMENT, error_responses, id_parameter, list_error_responses
from branchcare.api.serializers import CONTEXT_PERSONAL_DATA, PersonalDataMaskingMixin
from branchcare.api.typing import AuthedRequest

from .capabilities import ALL_CAPABILITIES, Cap
from .models import Branch, Role, Team, User
from .selectors import branches_visible_to, staff_get_for, staff_list

# --- serializers -------------------------------------------------------------------------------------


class BranchBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "code", "name"]
        read_only_fields = fields


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "code", "name", "address"]
        read_only_fields = fields


class TeamBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]
        read_only_fields = fields


class RoleBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["code", "name", "scope"]
        read_only_fields = fields


class StaffBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


class StaffSerializer(PersonalDataMaskingMixin, serializers.ModelSerializer):
    branch = BranchBriefSerializer(read_only=True, allow_null=True)
    team = TeamBriefSerializer(read_only=True, allow_null=True)
    roles = RoleBriefSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "branch", "team", "roles", "practice_no", "phone", "is_active"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    branch = BranchBriefSerializer(read_only=True, allow_null=True)
    team = TeamBriefSerializer(read_only=True, allow_null=True)
    roles = RoleBriefSerializer(many=True, read_only=True)
    capabilities = serializers.SerializerMethodField(help_text="当前用户持有的全部权限代码")
    can_view_personal_data = serializers.SerializerMethodField(help_text="能否查看未脱敏的手机号与证件号码")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "branch",
            "team",
            "roles",
            "capabilities",
            "can_view_personal_data",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ALL_CAPABILITIES)))
    def get_capabilities(self, user: User) -> list[str]:
        return [cap for cap in ALL_CAPABILITIES if user.has_cap(cap)]

    def get_can_view_personal_data(self, user: User) -> bool:
        return user.has_cap(Cap.PERSONAL_DATA_VIEW)


# --- views ---------------------------------------------------------------------------------------------


class MeView(APIView):
    """The signed-in user: branch, team, roles with their scopes and the capabilities they add up to."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_retrieve",
        summary="当前用户",
        tags=["org"],
        responses={200: MeSerializer, **error_responses(401)},
    )
    def get(self, request: AuthedRequest) -> Response:
        user = User.objects.select_related("branch", "team").prefetch_related("roles").get(pk=request.user.pk)
        return Response(MeSerializer(user).data)


@extend_schema_view(
    list=extend_schema(
        summary="可见营业部",
        tags=["org"],
        responses={200: BranchSerializer(many=True), **list_error_responses(401)},
    ),
)
class BranchViewSet(viewsets.GenericViewSet):
    """Branches the caller may see: those where they may view clients, and their own."""

    permission_classes = [IsAuthenticated]
    serializer_class = BranchSerializer
    queryset = Branch.objects.none()  # for schema introspection; reads use branches_visible_to()

    def list(self, request: AuthedRequest) -> Response:
        page = self.paginate_queryset(branches_visible_to(request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


STAFF_QUERY = OpenApiParameter("q", str, description="按登录账号或姓名模糊查找")


@extend_schema_view(
    list=extend_schema(
        summary="员工列表",
        tags=["org"],
        parameters=[STAFF_QUERY],
        responses={200: StaffSerializer(many=True), **list_error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        parameters=[id_parameter("员工 id")],
        summary="员工详情",
        tags=["org"],
        responses={200: StaffSerializer, **error_responses(401, 403, 404)},
    ),
)
class StaffViewSet(viewsets.GenericViewSet):
    """The staff directory, read-only, scoped by ``Cap.STAFF_VIEW``. Phone numbers are masked for
    callers without ``Cap.PERSONAL_DATA_VIEW``."""

    permission_classes = [IsAuthenticated, HasCapability]
    required_capabilities = {"list": Cap.STAFF_VIEW, "retrieve": Cap.STAFF_VIEW}
    serializer_class = StaffSerializer
    queryset = User.objects.none()  # for schema introspection; reads go through org.selectors
    lookup_value_regex = ID_SEGMENT

    def get_serializer_context(self) -> dict:
        return {
            **super().get_serializer_context(),
            CONTEXT_PERSONAL_DATA: cast(User, self.request.user).has_cap(Cap.PERSONAL_DATA_VIEW),
        }

    def list(self, request: AuthedRequest) -> Response:
        params = clean_query_params(request.query_params)
        page = self.paginate_queryset(staff_list(viewer=request.user, q=params.get("q", "").strip()[:50]))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        return Response(self.get_serializer(staff_get_for(viewer=request.user, pk=pk)).data)
