"""Research platform API under /api/v1/research/: sources, items (+ submit / review / publish /
withdraw, full-text ``search``), attachments, pushes and a client's research feed.

Scoped like the pages: reads go through ``selectors`` (an object outside the caller's scope is a 404),
writes through ``services`` (a step the caller may not take is a 403, a step the state does not allow
a 400 with a Chinese message, a stale ``version`` a 409).
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from branchcare.api.pagination import StandardPagination
from branchcare.api.schema import error_responses, list_error_responses
from branchcare.api.typing import AuthedRequest
from branchcare.clients.models import Security
from branchcare.clients.selectors import client_get_for
from branchcare.core.errors import DomainError
from branchcare.org.capabilities import Cap

from . import selectors as sel
from . import services as svc
from .models import ResearchAttachment, ResearchDelivery, ResearchItem, ResearchPush, ResearchSource
from .workflows import RESEARCH

TAGS = ["研究"]
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="编号")


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        if exc.code == "forbidden":
            raise exceptions.PermissionDenied(exc.message) from exc
        raise


class AnyCap(BasePermission):
    """Reads need any of the view's ``read_caps``; writes any of ``write_caps[method]``."""

    message = _("您没有执行该操作的权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        caps: tuple[str, ...] | None = getattr(view, "write_caps", {}).get(request.method.lower())
        if caps is None:
            caps = tuple(getattr(view, "read_caps", sel.READ_CAPS))
        return sel.has_any(user, tuple(caps))


# --- serializers -------------------------------------------------------------------------------------------


class SourceSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text=" / ".join(ResearchSource.Kind.values))
    valid_today = serializers.SerializerMethodField(help_text="今日其研究成果可否提供给客户（第十七条）")
    invalid_reason = serializers.SerializerMethodField()
    version = serializers.IntegerField(required=False, help_text="修改时传入读取时的版本号（乐观锁）")

    class Meta:
        model = ResearchSource
        fields = [
            "id", "branch", "kind", "name", "licence_no", "contract_start", "contract_end", "active", "notes",
            "valid_today", "invalid_reason", "version",
        ]  # fmt: skip
        read_only_fields = ["branch"]

    def get_valid_today(self, obj: ResearchSource) -> bool:
        return obj.is_valid_on()

    def get_invalid_reason(self, obj: ResearchSource) -> str:
        return obj.invalid_reason()


class SecurityRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ItemSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name", read_only=True)
    author_name = serializers.SerializerMethodField()
    security_ref = SecurityRefSerializer(source="security", read_only=True, allow_null=True)
    state = serializers.CharField(read_only=True, help_text=" / ".join(ResearchItem.State.values))
    kind = serializers.CharField(read_only=True, help_text=" / ".join(ResearchItem.Kind.values))
    risk_rating = serializers.CharField(read_only=True, help_text="R1–R5")
    direction = serializers.CharField(read_only=True, help_text=" / ".join(ResearchItem.Direction.values))

    class Meta:
        model = ResearchItem
        fields = [
            "id", "source", "source_name", "kind", "title", "summary", "author", "author_name", "publisher",
            "published_on", "published_at", "risk_rating", "industries", "security", "security_ref",
            "direction", "target_price", "stop_loss", "horizon_days", "state", "expires_on", "version",
        ]  # fmt: skip

    def get_author_name(self, obj: ResearchItem) -> str:
        return str(obj.author) if obj.author_id else ""


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResearchAttachment
        fields = ["id", "original_name", "size", "content_type", "uploaded_at"]


class ItemDetailSerializer(ItemSerializer):
    securities = SecurityRefSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField(help_text="当前调用者可执行的操作")

    class Meta(ItemSerializer.Meta):
        fields = [
            *ItemSerializer.Meta.fields, "body", "reason", "securities", "reviewed_by", "reviewed_at",
            "review_decision", "review_comment", "withdrawn_reason", "attachments", "actions",
        ]  # fmt: skip

    def get_actions(self, obj: ResearchItem) -> list[str]:
        return [t.name for t in RESEARCH.available(obj, self.context["request"].user) if t.name != "expire"]


class ItemWriteSerializer(serializers.Serializer):
    source = serializers.IntegerField(min_value=1, max_value=2**53)  # type: ignore[assignment]
    kind = serializers.CharField(help_text=" / ".join(ResearchItem.Kind.values))
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    body = serializers.CharField(required=False, allow_blank=True, default="")
    risk_rating = serializers.CharField(default="R3", help_text="R1–R5")
    industries = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False, default=list
    )
    securities = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53), required=False, default=list,
        help_text="相关证券编号",
    )  # fmt: skip
    security = serializers.IntegerField(min_value=1, max_value=2**53, required=False, allow_null=True)
    direction = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=" / ".join(ResearchItem.Direction.values)
    )
    target_price = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    stop_loss = serializers.DecimalField(max_digits=14, decimal_places=4, required=False, allow_null=True)
    horizon_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    expires_on = serializers.DateField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, help_text="修改时必传（乐观锁）")

    def to_service(self, viewer: Any) -> tuple[dict[str, Any], list[Security]]:
        d = dict(self.validated_data)
        source = sel.writable_sources(viewer=viewer).filter(pk=d.pop("source")).first()
        if source is None:
            raise DomainError(str(_("研究来源不存在或不可用。")), field="source")
        d["source"] = source
        sec_id = d.pop("security", None)
        d["security"] = Security.objects.filter(pk=sec_id).first() if sec_id else None
        if sec_id and d["security"] is None:
            raise DomainError(str(_("推荐证券不存在。")), field="security")
        ids = d.pop("securities", [])
        securities = list(Security.objects.filter(pk__in=ids)[:20])
        d.pop("version", None)
        return d, securities


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("approve", "通过"), ("reject", "退回")])
    comment = serializers.CharField(required=False, allow_blank=True, default="", help_text="退回时必填")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="说明；撤回时必填")


class AudienceSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="holders / tier / premium / manager / clients")
    security = serializers.IntegerField(required=False, allow_null=True, help_text="holders：证券编号")
    tier = serializers.CharField(required=False, allow_blank=True, help_text="tier：large / medium / small")
    manager = serializers.IntegerField(required=False, allow_null=True, help_text="manager：客户经理编号")
    clients = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="clients：客户编号"
    )


class PushCreateSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=2**53)
    audience = AudienceSerializer()
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=["email", "wecom", "sms", "in_person"]), min_length=1
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    preview = serializers.BooleanField(required=False, default=False, help_text="只预览适当性筛选，不推送")


class DeliverySerializer(serializers.ModelSerializer):
    client_no = serializers.CharField(source="client.client_no", read_only=True)

    class Meta:
        model = ResearchDelivery
        fields = [
            "id", "item", "client", "client_no", "channel", "status", "owner", "push", "delivered_at",
            "delivered_by", "note", "failure_reason", "suitability", "created_at",
        ]  # fmt: skip


class PushSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=" / ".join(ResearchPush.Status.values))

    class Meta:
        model = ResearchPush
        fields = [
            "id", "item", "created_by", "audience", "channels", "note", "status", "total", "included_count",
            "excluded_count", "processed", "task_count", "excluded", "created_at", "finished_at",
        ]  # fmt: skip


class PreviewRowSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    client_no = serializers.CharField()
    name = serializers.CharField()
    risk_level = serializers.CharField()
    reason = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    included_count = serializers.IntegerField()
    excluded_count = serializers.IntegerField()
    included = PreviewRowSerializer(many=True)
    excluded = PreviewRowSerializer(many=True)


# --- sources -----------------------------------------------------------------------------------------------


class SourceListView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    read_caps = sel.SOURCE_VIEW_CAPS
    write_caps = {"post": sel.SOURCE_EDIT_CAPS}
    serializer_class = SourceSerializer
    queryset = ResearchSource.objects.none()
    pagination_class = StandardPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="研究来源列表",
        tags=TAGS,
        responses={200: SourceSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        page = self.paginate_queryset(sel.source_list(viewer=request.user))
        return self.get_paginated_response(SourceSerializer(page, many=True).data)

    @extend_schema(summary="登记研究来源", tags=TAGS, request=SourceSerializer,
                   responses={201: SourceSerializer, **error_responses(400, 401, 403)})  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        data = SourceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k != "version"}
        source = _run(svc.source_create, actor=request.user, data=fields)
        return Response(SourceSerializer(source).data, status=status.HTTP_201_CREATED)


class SourceDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    read_caps = sel.SOURCE_VIEW_CAPS
    write_caps = {"patch": sel.SOURCE_EDIT_CAPS}
    serializer_class = SourceSerializer
    queryset = ResearchSource.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="研究来源详情",
        tags=TAGS,
        parameters=[ID],
        responses={200: SourceSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        return Response(SourceSerializer(sel.source_get_for(viewer=request.user, pk=pk)).data)

    @extend_schema(summary="修改研究来源", tags=TAGS, parameters=[ID], request=SourceSerializer,
                   responses={200: SourceSerializer, **error_responses(400, 401, 403, 404, 409)})  # fmt: skip
    def patch(self, request: AuthedRequest, pk: str) -> Response:
        source = sel.source_get_for(viewer=request.user, pk=pk)
        if source.branch_id is None and request.user.scope_for(Cap.ORG_CONFIGURE) != "company":
            raise exceptions.PermissionDenied(_("全公司研究来源只能由总部维护。"))
        data = SourceSerializer(source, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k != "version"}
        source = _run(svc.source_update, actor=request.user, source=source, data=fields,
                      version=data.validated_data.get("version"))  # fmt: skip
        return Response(SourceSerializer(source).data)


# --- items -------------------------------------------------------------------------------------------------


def _detail(item: ResearchItem) -> ResearchItem:
    return (
        ResearchItem.objects.select_related("source", "author", "security")
        .prefetch_related("securities", "attachments")
        .get(pk=item.pk)
    )


class ItemListView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    write_caps = {"post": (Cap.RESEARCH_WRITE,)}
    serializer_class = ItemSerializer
    queryset = ResearchItem.objects.none()
    pagination_class = StandardPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="研究成果列表与全文检索",
        description="search（或 q）对标题、摘要、正文、推荐理由做全文检索，支持中文子串（如“半导体”）。",
        tags=TAGS,
        parameters=[
            OpenApiParameter("search", str),
            OpenApiParameter("kind", str, enum=list(ResearchItem.Kind.values)),
            OpenApiParameter("source", int),
            OpenApiParameter("state", str, enum=list(ResearchItem.State.values)),
            OpenApiParameter("security", str, description="证券代码"),
            OpenApiParameter("industry", str),
            OpenApiParameter("risk", str, enum=sorted(sel.RISK_RANK)),
        ],
        responses={200: ItemSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        filters = sel.ItemFilters.from_params(request.query_params)
        page = self.paginate_queryset(sel.item_list(viewer=request.user, filters=filters))
        return self.get_paginated_response(ItemSerializer(page, many=True).data)

    @extend_schema(summary="撰写研究成果（草稿）", tags=TAGS, request=ItemWriteSerializer,
                   responses={201: ItemDetailSerializer, **error_responses(400, 401, 403)})  # fmt: skip
    def post(self, request: AuthedRequest) -> Response:
        data = ItemWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields, securities = data.to_service(request.user)
        item = _run(svc.item_create, actor=request.user, data=fields, securities=securities)
        body = ItemDetailSerializer(_detail(item), context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ItemDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    write_caps = {"patch": (Cap.RESEARCH_WRITE,)}
    serializer_class = ItemDetailSerializer
    queryset = ResearchItem.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="研究成果详情",
        tags=TAGS,
        parameters=[ID],
        responses={200: ItemDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        item = sel.item_get_for(viewer=request.user, pk=pk)
        return Response(ItemDetailSerializer(_detail(item), context={"request": request}).data)

    @extend_schema(summary="修改研究草稿", tags=TAGS, parameters=[ID], request=ItemWriteSerializer,
                   responses={200: ItemDetailSerializer, **error_responses(400, 401, 403, 404, 409)})  # fmt: skip
    def patch(self, request: AuthedRequest, pk: str) -> Response:
        item = sel.item_get_for(viewer=request.user, pk=pk)
        data = ItemWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields, securities = data.to_service(request.user)
        item = _run(svc.item_update, actor=request.user, item=item, data=fields, securities=securities,
                    version=data.validated_data.get("version"))  # fmt: skip
        return Response(ItemDetailSerializer(_detail(item), context={"request": request}).data)


ACTIONS = ["submit", "review", "publish", "withdraw"]


class ItemActionView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    write_caps = {"post": (Cap.RESEARCH_WRITE, Cap.RESEARCH_REVIEW)}
    serializer_class = ReviewSerializer
    queryset = ResearchItem.objects.none()
    parser_classes = [JSONParser]

    @extend_schema(
        summary="研究成果流转",
        operation_id="research_item_action",
        description="submit：提交审核（研究员）；review：审核（decision=approve 发布 / reject 退回，退回须填 comment）；"
        "publish：审核通过并发布（同 review approve）；withdraw：撤回（note 必填）。",
        tags=TAGS,
        parameters=[ID, OpenApiParameter("action", str, OpenApiParameter.PATH, enum=ACTIONS)],
        request=OpenApiTypes.OBJECT,
        responses={200: ItemDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, pk: str, action: str) -> Response:
        item = sel.item_get_for(viewer=request.user, pk=pk)
        if action == "submit":
            _run(svc.item_submit, actor=request.user, item=item)
        elif action == "review":
            data = ReviewSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            _run(svc.item_review, actor=request.user, item=item, decision=data.validated_data["decision"],
                 comment=data.validated_data["comment"])  # fmt: skip
        elif action == "publish":
            note = NoteSerializer(data=request.data)
            note.is_valid(raise_exception=True)
            _run(
                svc.item_review,
                actor=request.user,
                item=item,
                decision="approve",
                comment=note.validated_data["note"],
            )
        elif action == "withdraw":
            note = NoteSerializer(data=request.data)
            note.is_valid(raise_exception=True)
            _run(svc.item_withdraw, actor=request.user, item=item, reason=note.validated_data["note"])
        else:
            raise exceptions.NotFound(_("未知的操作。"))
        return Response(ItemDetailSerializer(_detail(item), context={"request": request}).data)


class AttachmentListView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    write_caps = {"post": (Cap.RESEARCH_WRITE,)}
    serializer_class = AttachmentSerializer
    queryset = ResearchAttachment.objects.none()
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="研究附件列表",
        tags=TAGS,
        parameters=[ID],
        responses={200: AttachmentSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pk: str) -> Response:
        item = sel.item_get_for(viewer=request.user, pk=pk)
        return Response(AttachmentSerializer(item.attachments.all(), many=True).data)

    @extend_schema(
        summary="上传研究附件（PDF / Office）",
        tags=TAGS,
        parameters=[ID],
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={201: AttachmentSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, pk: str) -> Response:
        item = sel.item_get_for(viewer=request.user, pk=pk)
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(str(_("请选择要上传的文件。")), field="file")
        att = _run(svc.attachment_add, actor=request.user, item=item, upload=upload)
        return Response(AttachmentSerializer(att).data, status=status.HTTP_201_CREATED)


class AttachmentDownloadView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    queryset = ResearchAttachment.objects.none()
    serializer_class = AttachmentSerializer

    @extend_schema(
        summary="下载研究附件", tags=TAGS,
        parameters=[ID, OpenApiParameter("att", int, OpenApiParameter.PATH, description="附件编号")],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **error_responses(401, 403, 404)},
    )  # fmt: skip
    def get(self, request: AuthedRequest, pk: str, att: str) -> FileResponse:
        item = sel.item_get_for(viewer=request.user, pk=pk)
        a = item.attachments.filter(pk=int(att) if att.isdigit() else 0).first()
        if a is None:
            raise Http404
        try:
            handle = a.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        return FileResponse(handle, as_attachment=True, filename=a.original_name, content_type=a.content_type)


# --- pushes and feed ---------------------------------------------------------------------------------------


class PushListView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    read_caps = (*sel.PUSH_CAPS, Cap.RESEARCH_REVIEW)
    write_caps = {"post": sel.PUSH_CAPS}
    serializer_class = PushSerializer
    queryset = ResearchPush.objects.none()
    pagination_class = StandardPagination
    parser_classes = [JSONParser]

    @extend_schema(
        summary="研究推送列表",
        tags=TAGS,
        responses={200: PushSerializer(many=True), **list_error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        page = self.paginate_queryset(sel.push_list(viewer=request.user))
        return self.get_paginated_response(PushSerializer(page, many=True).data)

    @extend_schema(
        summary="推送研究（或预览适当性筛选）",
        description="推送对象限于调用者可见的客户；preview=true 只返回适当 / 排除的客户及原因。推送在后台逐客户执行。",
        tags=TAGS,
        request=PushCreateSerializer,
        responses={201: PushSerializer, 200: PreviewSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest) -> Response:
        data = PushCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = sel.item_get_for(viewer=request.user, pk=v["item"])
        if v["preview"]:
            p = _run(svc.push_preview, actor=request.user, item=item, audience=dict(v["audience"]))

            def rows(pairs):
                return [{"client": c.pk, "client_no": c.client_no, "name": c.name, "risk_level": c.risk_level,
                         "reason": r["reason"]} for c, r in pairs]  # fmt: skip

            body = {"total": p["total"], "included_count": p["included_count"], "excluded_count": p["excluded_count"],
                    "included": rows(p["included"]), "excluded": rows(p["excluded"])}  # fmt: skip
            return Response(body)
        push = _run(svc.push_create, actor=request.user, item=item, audience=dict(v["audience"]),
                    channels=v["channels"], note=v["note"])  # fmt: skip
        push.refresh_from_db()
        return Response(PushSerializer(push).data, status=status.HTTP_201_CREATED)


class PushDetailView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    read_caps = (*sel.PUSH_CAPS, Cap.RESEARCH_REVIEW)
    serializer_class = PushSerializer
    queryset = ResearchPush.objects.none()

    @extend_schema(summary="推送详情与逐客户交付记录", tags=TAGS, parameters=[ID],
                   responses={200: PushSerializer, **error_responses(401, 403, 404)})  # fmt: skip
    def get(self, request: AuthedRequest, pk: str) -> Response:
        push = sel.push_get_for(viewer=request.user, pk=pk)
        body = PushSerializer(push).data
        body["deliveries"] = DeliverySerializer(sel.deliveries_for_push(push=push)[:1000], many=True).data
        return Response(body)


class ClientFeedView(GenericAPIView):
    permission_classes = [IsAuthenticated, AnyCap]
    serializer_class = ItemSerializer
    queryset = ResearchItem.objects.none()

    @extend_schema(
        summary="客户的相关研究",
        description="与客户持仓（同证券、同行业）相关、在其风险承受能力内、来源有效的已发布研究。",
        tags=TAGS,
        parameters=[
            OpenApiParameter("client_id", int, OpenApiParameter.PATH),
            OpenApiParameter("limit", int),
        ],
        responses={200: ItemSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, client_id: str) -> Response:
        client = client_get_for(viewer=request.user, pk=client_id)
        try:
            limit = max(1, min(int(request.query_params.get("limit", 20)), 100))
        except ValueError:
            limit = 20
        return Response(ItemSerializer(sel.research_for_client(client=client, limit=limit), many=True).data)


urlpatterns = [
    path("research/sources/", SourceListView.as_view(), name="api-research-sources"),
    path("research/sources/<str:pk>/", SourceDetailView.as_view(), name="api-research-source"),
    path("research/items/", ItemListView.as_view(), name="api-research-items"),
    path("research/items/<str:pk>/", ItemDetailView.as_view(), name="api-research-item"),
    path(
        "research/items/<str:pk>/attachments/", AttachmentListView.as_view(), name="api-research-attachments"
    ),
    path(
        "research/items/<str:pk>/attachments/<str:att>/",
        AttachmentDownloadView.as_view(),
        name="api-research-attachment",
    ),
    path("research/items/<str:pk>/<str:action>/", ItemActionView.as_view(), name="api-research-item-action"),
    path("research/pushes/", PushListView.as_view(), name="api-research-pushes"),
    path("research/pushes/<str:pk>/", PushDetailView.as_view(), name="api-research-push"),
    path("research/clients/<str:client_id>/feed/", ClientFeedView.as_view(), name="api-research-client-feed"),
]
