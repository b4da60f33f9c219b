"""``POST /api/v1/auth/token/``: exchange a username and password for an API token."""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from branchcare.org.twofactor import two_factor_required

from .schema import error_responses
from .services import api_token_issue


class TokenCredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(
        max_length=150,
        error_messages={"required": gettext_lazy("请输入用户名。"), "blank": gettext_lazy("请输入用户名。")},
    )
    password = serializers.CharField(
        max_length=128,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
        error_messages={"required": gettext_lazy("请输入密码。"), "blank": gettext_lazy("请输入密码。")},
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="在请求头中以 `Authorization: Token <token>` 发送。")


class ObtainTokenView(APIView):
    """Issue (or return the existing) API token of the user with these credentials.

    ``authenticate`` receives the request, so django-axes counts failures and locks the
    username + address out after ``AXES_FAILURE_LIMIT`` of them; a locked-out caller gets 429
    with ``Retry-After`` (as JSON, not the HTML lockout page). Every issued token is audited.
    """

    authentication_classes: list = []  # credentials come in the body; no session, so no CSRF either
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        summary="获取 API 令牌",
        tags=["auth"],
        auth=[],
        request=TokenCredentialsSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = TokenCredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            if getattr(request, "axes_locked_out", False):
                cool_off = get_cool_off(request)
                raise exceptions.Throttled(
                    wait=cool_off.total_seconds() if cool_off else None,
                    detail=_("登录失败次数过多，账号已被暂时锁定。"),
                )
            raise exceptions.ValidationError({"non_field_errors": [_("用户名或密码错误。")]})
        if two_factor_required(user):
            # A password alone must not open an account that needs a second factor.
            raise exceptions.PermissionDenied(
                _("此账号须两步验证，不能用密码换取 API 令牌，请使用服务账号。")
            )
        return Response({"token": api_token_issue(user=user).key})
