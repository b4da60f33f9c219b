"""OpenAPI helpers: the error bodies every endpoint may answer with, described once."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """``{"detail": "…"}`` — the body of 401, 403, 404, 409 and 429 answers."""

    detail = serializers.CharField(help_text="中文错误信息")


_DESCRIPTIONS = {
    400: "输入有误：`{字段名: [错误信息]}`，与字段无关的错误在 `non_field_errors` 或 `detail` 中。",
    401: "未提供或提供了无效的身份认证信息（`Authorization: Token …`）。",
    403: "缺少执行该操作所需的权限。",
    404: "对象不存在，或不在您的数据范围内（两者不作区分）。",
    409: "对象已被他人修改（`version` 不一致），请重新读取后再提交。",
    429: "登录失败次数过多，账号暂时锁定。",
}


# Detail routes accept any path segment (``lookup_value_regex = ID_SEGMENT``) so that a malformed id
# reaches the view and answers a JSON 404 instead of falling through to the HTML 404 page; the schema
# still documents the id as an integer.
ID_SEGMENT = r"[^/]+"


def id_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=description)


PAGE_NOT_FOUND = "页码超出范围。"


def error_responses(*codes: int, descriptions: dict[int, str] | None = None) -> dict[int, OpenApiResponse]:
    """``{status: OpenApiResponse}`` for the given error statuses, to merge into ``extend_schema(responses=…)``.
    ``descriptions`` overrides the standard wording (e.g. 404 on a list means a page out of range)."""
    wording = {**_DESCRIPTIONS, **(descriptions or {})}
    out: dict[int, OpenApiResponse] = {}
    for code in codes:
        body = OpenApiTypes.OBJECT if code == 400 else ErrorSerializer
        out[code] = OpenApiResponse(response=body, description=wording[code])
    return out


def list_error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Error answers of a paginated list: ``codes`` plus 404 for a page out of range."""
    return error_responses(*codes, 404, descriptions={404: PAGE_NOT_FOUND})
