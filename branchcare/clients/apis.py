"""Client API: list/search, detail, create, update and holdings.

Reads go through ``clients.selectors`` (scoped to the caller, so another manager's or branch's client
is a 404), writes only through ``clients.services`` (atomic and audited). Phone and ID numbers are
masked for callers without ``Cap.PERSONAL_DATA_VIEW``, who may not write them either (403).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from branchcare.api.pagination import CappedCountPagination
from branchcare.api.params import clean_query_params
from branchcare.api.permissions import HasCapability
from branchcare.api.schema import ID_SEGMENT, error_responses, id_parameter, list_error_responses
from branchcare.api.serializers import CONTEXT_PERSONAL_DATA, PersonalDataMaskingMixin
from branchcare.api.typing import AuthedRequest
from branchcare.org.apis import BranchBriefSerializer, StaffBriefSerializer
from branchcare.org.capabilities import Cap, Scope
from branchcare.org.models import Branch, Seat, User
from branchcare.org.scope import branches_for
from branchcare.org.selectors import branches_visible_to

from .models import Client, Security
from .selectors import SORTS, ClientFilters, client_get_for, client_list, holdings_for
from .services import client_create, client_update

PERSONAL_FIELDS = ("phone", "id_number")


# --- serializers -------------------------------------------------------------------------------------


class ClientSerializer(PersonalDataMaskingMixin, serializers.ModelSerializer):
    """A client as the API shows it. Everything here is read-only; writes use ``ClientWriteSerializer``."""

    branch = BranchBriefSerializer(read_only=True)
    manager = StaffBriefSerializer(read_only=True, allow_null=True)
    risk_assessment_expired = serializers.BooleanField(read_only=True, help_text="风险测评缺失或已过期")
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    # Declared so that the schema admits "" (not assessed), which a read-only model field would not.
    risk_level = serializers.ChoiceField(choices=Client.RiskLevel.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "client_no",
            "name",
            "name_pinyin",
            "name_initials",
            "phone",
            "phone_tail",
            "id_number",
            "gender",
            "birthday",
            "opened_on",
            "status",
            "risk_level",
            "risk_assessed_on",
            "risk_assessment_expired",
            "total_assets",
            "tier",
            "is_premium",
            "commission_rate",
            "branch",
            "manager",
            "seat",
            "tags",
            "notes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _required(message: Any) -> dict[str, Any]:
    return {"required": message, "blank": message, "null": message}


_DATE_ERRORS: dict[str, Any] = {"invalid": gettext_lazy("日期格式应为 YYYY-MM-DD。")}


class ClientWriteSerializer(serializers.Serializer):
    """The fields a caller may set on a client (``services.EDITABLE_FIELDS``) plus ``version``.

    Only declared fields are read: anything else in the payload (``id``, ``branch``, ``tier``,
    ``name_pinyin``, ``phone_tail``, timestamps …) is ignored. ``manager`` and ``seat`` must be
    among the staff and seats of branches the caller can see; the service then checks that they
    belong to the client's branch.
    """

    client_no = serializers.CharField(
        max_length=20,
        error_messages={
            **_required(gettext_lazy("客户号不能为空。")),
            "max_length": gettext_lazy("客户号不能超过 20 个字符。"),
        },
    )
    name = serializers.CharField(
        max_length=50,
        error_messages={
            **_required(gettext_lazy("姓名不能为空。")),
            "max_length": gettext_lazy("姓名不能超过 50 个字符。"),
        },
    )
    phone = serializers.RegexField(
        r"^[0-9+\- ]+$",
        max_length=20,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid": gettext_lazy("手机号只能包含数字、空格、+ 和 -。"),
            "max_length": gettext_lazy("手机号不能超过 20 个字符。"),
        },
    )
    id_number = serializers.RegexField(
        r"^[0-9A-Za-z]+$",
        max_length=32,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid": gettext_lazy("证件号码只能包含字母和数字。"),
            "max_length": gettext_lazy("证件号码不能超过 32 个字符。"),
        },
    )
    gender = serializers.ChoiceField(
        choices=Client.Gender.choices,
        required=False,
        allow_blank=True,
        error_messages={"invalid_choice": gettext_lazy("性别无效。")},
    )
    birthday = serializers.DateField(required=False, allow_null=True, error_messages=_DATE_ERRORS)
    opened_on = serializers.DateField(required=False, allow_null=True, error_messages=_DATE_ERRORS)
    status = serializers.ChoiceField(
        choices=Client.Status.choices,
        required=False,
        error_messages={"invalid_choice": gettext_lazy("状态无效。")},
    )
    risk_level = serializers.ChoiceField(
        choices=Client.RiskLevel.choices,
        required=False,
        allow_blank=True,
        error_messages={"invalid_choice": gettext_lazy("风险等级无效。")},
    )
    risk_assessed_on = serializers.DateField(required=False, allow_null=True, error_messages=_DATE_ERRORS)
    total_assets = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
        error_messages={
            "invalid": gettext_lazy("总资产必须是数字。"),
            "min_value": gettext_lazy("总资产不能为负数。"),
            "max_digits": gettext_lazy("总资产数值过大。"),
            "max_whole_digits": gettext_lazy("总资产数值过大。"),
            "max_decimal_places": gettext_lazy("总资产最多保留 2 位小数。"),
        },
    )
    is_premium = serializers.BooleanField(required=False)
    commission_rate = serializers.DecimalField(
        max_digits=6,
        decimal_places=4,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="以千分之几计，如 0.25 表示万分之二点五",
        error_messages={
            "invalid": gettext_lazy("佣金率必须是数字。"),
            "min_value": gettext_lazy("佣金率不能为负数。"),
            "max_digits": gettext_lazy("佣金率数值过大。"),
            "max_whole_digits": gettext_lazy("佣金率数值过大。"),
            "max_decimal_places": gettext_lazy("佣金率最多保留 4 位小数。"),
        },
    )
    manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        required=False,
        allow_null=True,
        help_text="客户经理的员工 id，须为客户所在营业部的在职员工",
        error_messages={
            "does_not_exist": gettext_lazy("客户经理不存在。"),
            "incorrect_type": gettext_lazy("客户经理应为员工 id。"),
        },
    )
    seat = serializers.PrimaryKeyRelatedField(
        queryset=Seat.objects.none(),
        required=False,
        allow_null=True,
        error_messages={
            "does_not_exist": gettext_lazy("座位不存在。"),
            "incorrect_type": gettext_lazy("座位应为座位 id。"),
        },
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=20,
        required=False,
        error_messages={"max_length": gettext_lazy("标签最多 20 个。")},
    )
    notes = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        error_messages={"max_length": gettext_lazy("备注不能超过 2000 个字符。")},
    )
    version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        write_only=True,
        help_text="乐观锁：传入读取时的 version；若他人已先保存则返回 409，不覆盖其修改",
        error_messages={
            "invalid": gettext_lazy("版本号无效。"),
            "min_value": gettext_lazy("版本号无效。"),
            "max_value": gettext_lazy("版本号无效。"),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            branches = branches_visible_to(request.user)
            manager = cast(serializers.PrimaryKeyRelatedField, self.fields["manager"])
            manager.queryset = User.objects.filter(branch__in=branches)
            seat = cast(serializers.PrimaryKeyRelatedField, self.fields["seat"])
            seat.queryset = Seat.objects.filter(room__branch__in=branches).select_related("room")


class ClientCreateSerializer(ClientWriteSerializer):
    """A new client: the writable fields, and ``branch`` for company-scope callers (no ``version``)."""

    branch = serializers.IntegerField(
        required=False,
        min_value=1,
        write_only=True,
        help_text="营业部 id。仅全公司数据范围的用户可指定；其他用户总是在本人所在营业部新建，此字段被忽略",
        error_messages={
            "invalid": gettext_lazy("营业部应为营业部 id。"),
            "min_value": gettext_lazy("营业部应为营业部 id。"),
        },
    )
    version = None  # type: ignore[assignment]  # a new client has no version to compare


class SecurityBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Security
        fields = ["id", "code", "name", "exchange", "kind"]
        read_only_fields = fields


class HoldingSerializer(serializers.Serializer):
    """One position (``selectors.HoldingRow``) valued at the security's latest known close."""

    security = SecurityBriefSerializer(source="holding.security", read_only=True)
    quantity = serializers.IntegerField(source="holding.quantity", read_only=True)
    cost_price = serializers.DecimalField(
        source="holding.cost_price", max_digits=14, decimal_places=4, read_only=True
    )
    as_of = serializers.DateField(source="holding.as_of", read_only=True, help_text="持仓日期")
    last_close = serializers.DecimalField(
        source="price",
        max_digits=14,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="最新收盘价",
    )
    last_close_date = serializers.DateField(source="price_date", read_only=True, allow_null=True)
    cost_value = serializers.DecimalField(
        max_digits=None, decimal_places=2, read_only=True, help_text="持仓成本"
    )
    market_value = serializers.DecimalField(
        max_digits=None, decimal_places=2, read_only=True, allow_null=True, help_text="市值（无行情时为空）"
    )
    pnl = serializers.DecimalField(
        max_digits=None, decimal_places=2, read_only=True, allow_null=True, help_text="浮动盈亏"
    )
    pnl_pct = serializers.DecimalField(
        max_digits=None, decimal_places=2, read_only=True, allow_null=True, help_text="浮动盈亏比例（%）"
    )


# --- access rules the endpoints add on top of the services --------------------------------------------------


def _refuse_personal_data_write(user: User, payload: Any) -> None:
    """Callers who only ever see masked phone / ID numbers may not write them: a masked value sent
    back unchanged would otherwise overwrite the real one. Checked on the raw payload, before
    validation, so such a caller learns nothing from validation messages. 403, nothing written."""
    writes_personal = isinstance(payload, Mapping) and any(name in payload for name in PERSONAL_FIELDS)
    if writes_personal and not user.has_cap(Cap.PERSONAL_DATA_VIEW):
        raise exceptions.PermissionDenied(_("您没有查看或修改手机号、证件号码的权限。"))


def _refuse_manager_change(user: User, client: Client, data: dict[str, Any]) -> None:
    """Giving a client to another manager is a reassignment: it needs ``Cap.CLIENTS_REASSIGN``."""
    changes_manager = "manager" in data and getattr(data["manager"], "pk", None) != client.manager_id
    if changes_manager and not user.has_cap(Cap.CLIENTS_REASSIGN):
        raise exceptions.PermissionDenied(_("更换客户经理需要客户划转权限。"))


def _branch_for_create(user: User, requested: int | None) -> Branch:
    """The branch a new client goes to: the caller's own, unless a company-scope caller names one
    of the branches they may create clients in. Anyone else's ``branch`` is ignored."""
    if requested is not None and user.scope_for(Cap.CLIENTS_CREATE) == Scope.COMPANY:
        branch = branches_for(user, Cap.CLIENTS_CREATE).filter(pk=requested).first()
        if branch is None:
            raise exceptions.ValidationError({"branch": [_("营业部不存在或不在您的管理范围内。")]})
        return branch
    if user.branch is None:
        raise exceptions.ValidationError({"branch": [_("您未归属任何营业部，请指定营业部。")]})
    return user.branch


# --- views ---------------------------------------------------------------------------------------------

CLIENT_FILTERS = [
    OpenApiParameter(
        "q",
        str,
        description="客户号前缀、手机尾号（4 位）、姓名拼音首字母或全拼前缀（zs / zhangs 找到张三）、姓名前缀",
    ),
    OpenApiParameter("tier", str, enum=Client.Tier.values, description="客户层级"),
    OpenApiParameter("risk_level", str, enum=Client.RiskLevel.values, description="风险等级"),
    OpenApiParameter("manager", int, description="客户经理的员工 id"),
    OpenApiParameter("premium", bool, description="是否高端客户"),
    OpenApiParameter("status", str, enum=Client.Status.values, description="状态"),
    OpenApiParameter("assessment_expired", bool, description="风险测评是否缺失或已过期"),
    OpenApiParameter("branch", int, description="营业部 id（仅在可见范围内筛选）"),
    OpenApiParameter("sort", str, enum=list(SORTS), description="排序，默认 client_no；前缀 - 为降序"),
]
TAGS = ["clients"]
CLIENT_ID = [id_parameter("客户 id")]


@extend_schema_view(
    list=extend_schema(
        summary="客户列表与查找",
        tags=TAGS,
        parameters=CLIENT_FILTERS,
        description="在您的数据范围内查找客户。未持有“查看个人敏感信息”权限时手机号与证件号码已脱敏。",
        responses={200: ClientSerializer(many=True), **list_error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        parameters=CLIENT_ID,
        summary="客户详情",
        tags=TAGS,
        responses={200: ClientSerializer, **error_responses(401, 403, 404)},
    ),
    create=extend_schema(
        summary="新建客户",
        tags=TAGS,
        request=ClientCreateSerializer,
        responses={201: ClientSerializer, **error_responses(400, 401, 403)},
    ),
    update=extend_schema(
        parameters=CLIENT_ID,
        summary="修改客户（整体）",
        description="须提供 client_no 与 name；未提供的可选字段保持原值。传入 version 可避免覆盖他人的修改。",
        tags=TAGS,
        request=ClientWriteSerializer,
        responses={200: ClientSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    partial_update=extend_schema(
        parameters=CLIENT_ID,
        summary="修改客户（部分字段）",
        description="只修改提供的字段。传入 version 可避免覆盖他人的修改。",
        tags=TAGS,
        request=ClientWriteSerializer,
        responses={200: ClientSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
    holdings=extend_schema(
        parameters=CLIENT_ID,
        summary="客户持仓",
        tags=TAGS,
        responses={200: HoldingSerializer(many=True), **error_responses(401, 403, 404)},
    ),
)
class ClientViewSet(viewsets.GenericViewSet):
    """``/api/v1/clients/``: each action states its capability (403 without it); the selectors scope
    every read and the object of every write (404 outside scope); writes go through the services."""

    permission_classes = [IsAuthenticated, HasCapability]
    required_capabilities = {
        "list": Cap.CLIENTS_VIEW,
        "retrieve": Cap.CLIENTS_VIEW,
        "holdings": Cap.CLIENTS_VIEW,
        "create": Cap.CLIENTS_CREATE,
        "update": Cap.CLIENTS_EDIT,
        "partial_update": Cap.CLIENTS_EDIT,
    }
    serializer_class = ClientSerializer
    queryset = Client.objects.none()  # for schema introspection only; reads go through the selectors
    pagination_class = CappedCountPagination
    parser_classes = [JSONParser]
    lookup_value_regex = ID_SEGMENT

    def get_serializer_context(self) -> dict:
        return {
            **super().get_serializer_context(),
            CONTEXT_PERSONAL_DATA: cast(User, self.request.user).has_cap(Cap.PERSONAL_DATA_VIEW),
        }

    def list(self, request: AuthedRequest) -> Response:
        filters = ClientFilters.from_params(
            clean_query_params(request.query_params, int_params=("manager", "branch"))
        )
        page = self.paginate_queryset(client_list(viewer=request.user, filters=filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: AuthedRequest, pk: str) -> Response:
        return Response(self.get_serializer(client_get_for(viewer=request.user, pk=pk)).data)

    @action(detail=True, methods=["get"], pagination_class=None)
    def holdings(self, request: AuthedRequest, pk: str) -> Response:
        rows = holdings_for(client=client_get_for(viewer=request.user, pk=pk))
        return Response(HoldingSerializer(rows, many=True).data)

    def create(self, request: AuthedRequest) -> Response:
        _refuse_personal_data_write(request.user, request.data)
        serializer = ClientCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        branch = _branch_for_create(request.user, data.pop("branch", None))
        client = client_create(actor=request.user, branch=branch, data=data)
        return Response(self.get_serializer(client).data, status=status.HTTP_201_CREATED)

    def update(self, request: AuthedRequest, pk: str, partial: bool = False) -> Response:
        client = client_get_for(viewer=request.user, pk=pk, capability=Cap.CLIENTS_EDIT)
        _refuse_personal_data_write(request.user, request.data)
        serializer = ClientWriteSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected_version = data.pop("version", None)
        _refuse_manager_change(request.user, client, data)
        client = client_update(
            actor=request.user, client=client, data=data, expected_version=expected_version
        )
        return Response(self.get_serializer(client).data)

    def partial_update(self, request: AuthedRequest, pk: str) -> Response:
        return self.update(request, pk, partial=True)
