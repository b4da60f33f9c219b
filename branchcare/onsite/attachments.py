"""Meeting materials (会议资料): PDF, Office documents and images, recognised by their content (magic
bytes), not only by the file name, and no larger than ``BRANCHCARE["MEETING_MATERIAL_MAX_MB"]``
(default 20)."""

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
IMAGES = {
    "png": ((b"\x89PNG\r\n\x1a\n",), "image/png"),
    "jpg": ((b"\xff\xd8\xff",), "image/jpeg"),
    "jpeg": ((b"\xff\xd8\xff",), "image/jpeg"),
    "gif": ((b"GIF87a", b"GIF89a"), "image/gif"),
}
ALLOWED_EXTENSIONS = ["pdf", *OLE, *OOXML, *IMAGES, "webp"]
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def max_bytes() -> int:
    return int(settings.BRANCHCARE.get("MEETING_MATERIAL_MAX_MB", 20)) * 1024 * 1024


def _mismatch(kind: str) -> DomainError:
    return DomainError(_("文件内容不是 %(k)s，与扩展名不符。") % {"k": kind}, field="file")


def check_material(upload: Any) -> str:
    """Validate an uploaded meeting material; returns its content type or raises ``DomainError``
    (field ``file``) naming what is wrong."""
    name = (getattr(upload, "name", "") or "").strip()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise DomainError(
            _("会议资料只能是 PDF、Office 文档或图片（%(e)s）。") % {"e": "、".join(ALLOWED_EXTENSIONS)},
            field="file",
        )
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise DomainError(_("会议资料是空文件。"), field="file")
    limit = max_bytes()
    if size > limit:
        raise DomainError(_("会议资料不能超过 %(mb)s MB。") % {"mb": limit // (1024 * 1024)}, field="file")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if ext == "pdf":
        if not head.startswith(b"%PDF-"):
            raise _mismatch("PDF")
        return PDF
    if ext in IMAGES:
        magics, content_type = IMAGES[ext]
        if not head.startswith(magics):
            raise _mismatch(ext.upper())
        return content_type
    if ext == "webp":
        if not (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
            raise _mismatch("WEBP")
        return "image/webp"
    if ext in OLE:
        if not head.startswith(OLE_MAGIC):
            raise _mismatch(_("Office 文档"))
        return OLE[ext]
    prefix, content_type = OOXML[ext]
    if not head.startswith(b"PK\x03\x04"):
        raise _mismatch(_("Office 文档"))
    try:
        data = upload.read()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        raise DomainError(_("Office 文档已损坏，无法读取。"), field="file") from None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names or not any(n.startswith(prefix) for n in names):
        raise _mismatch(ext.upper())
    return content_type
