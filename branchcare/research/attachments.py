"""Attachment checks: only PDF and Office documents, recognised by their content (magic bytes), not
just by the file name, and no larger than ``BRANCHCARE["RESEARCH_ATTACHMENT_MAX_MB"]`` (default 20)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from branchcare.core.errors import DomainError

PDF = "application/pdf"
OLE = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
OOXML = {
    "docx": ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
ALLOWED_EXTENSIONS = ["pdf", *OLE, *OOXML]
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def max_bytes() -> int:
    return int(settings.BRANCHCARE.get("RESEARCH_ATTACHMENT_MAX_MB", 20)) * 1024 * 1024


def check_upload(upload: Any) -> str:
    """Validate an uploaded file; returns its content type or raises ``DomainError`` (field "file")."""
    name = (getattr(upload, "name", "") or "").strip()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise DomainError(
            _("附件只能是 PDF 或 Office 文档（%(e)s）。") % {"e": "、".join(ALLOWED_EXTENSIONS)}, field="file"
        )
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise DomainError(_("附件是空文件。"), field="file")
    limit = max_bytes()
    if size > limit:
        raise DomainError(_("附件不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)}, field="file")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if ext == "pdf":
        if not head.startswith(b"%PDF-"):
            raise DomainError(_("文件内容不是 PDF，与扩展名不符。"), field="file")
        return PDF
    if ext in OLE:
        if head != OLE_MAGIC:
            raise DomainError(_("文件内容不是 Office 文档，与扩展名不符。"), field="file")
        return OLE[ext]
    prefix, content_type = OOXML[ext]
    if not head.startswith(b"PK\x03\x04"):
        raise DomainError(_("文件内容不是 Office 文档，与扩展名不符。"), field="file")
    try:
        data = upload.read()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        raise DomainError(_("Office 文档已损坏，无法读取。"), field="file") from None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names or not any(n.startswith(prefix) for n in names):
        raise DomainError(_("文件内容不是 %(e)s 文档，与扩展名不符。") % {"e": ext.upper()}, field="file")
    return content_type
