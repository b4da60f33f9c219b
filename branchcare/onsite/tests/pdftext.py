"""A tiny PDF text check for tests (no PDF library needed): which characters the ToUnicode maps of a
PDF's fonts cover, i.e. what a text extractor can recover from the embedded fonts."""

from __future__ import annotations


def pdf_unicode_chars(pdf: bytes) -> set[str]:
    """Every character the PDF's ToUnicode maps cover (what a text extractor can recover)."""
    import re
    import zlib

    chars: set[str] = set()
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            data = zlib.decompressobj().decompress(raw)
        except zlib.error:
            data = raw
        if b"beginbfchar" not in data and b"beginbfrange" not in data:
            continue
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
            for _src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                chars.add(bytes.fromhex(dst.decode()).decode("utf-16-be"))
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
            for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                start = int(dst, 16)
                chars.update(chr(start + i) for i in range(int(hi, 16) - int(lo, 16) + 1))
    return chars
