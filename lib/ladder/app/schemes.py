"""How an API says which version a caller wants, besides a /v1 path: Accept header, namespace, a version header."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Django REST framework's versioning classes (settings DEFAULT_VERSIONING_CLASS or a view's versioning_class).
DRF = {
    "AcceptHeaderVersioning": "Accept header",
    "NamespaceVersioning": "namespace",
    "URLPathVersioning": "URL path",
    "HostNameVersioning": "host name",
    "QueryParameterVersioning": "query parameter",
}
DRF_CLASS = re.compile(
    r"(?:DEFAULT_VERSIONING_CLASS['\"]?\s*[:=]|versioning_class\s*=)\s*['\"]?[\w.]*?(\w+Versioning)\b"
)
# A vendor media type carrying a version: application/vnd.acme.v2+json, or application/vnd.acme+json; version=2.
MEDIA_TYPE = re.compile(r"application/vnd\.[\w.-]*?\bv\d+(?:\.\d+)*\+\w+|application/vnd\.[\w.-]+\+\w+;\s*version=")
HEADER = re.compile(r"['\"](?:X-)?API-Version['\"]", re.I)


@dataclass(frozen=True)
class Scheme:
    """One versioning scheme an app uses, and the file that shows it."""

    name: str
    file: str
    evidence: str

    def __str__(self) -> str:
        return f"{self.name} ({self.evidence} in {self.file})"


def _media_type(text: str) -> str | None:
    """The first versioned vendor media type the app serves; one it sends to another API (headers=) is not."""
    for m in MEDIA_TYPE.finditer(text):
        line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
        if "headers" not in line and "Accept" not in line:
            return m.group(0)
    return None


def found_in(texts: Mapping[str, str]) -> list[Scheme]:
    """The versioning schemes some source texts (by path) show, one per scheme name; a DRF setting first."""
    out: dict[str, Scheme] = {}
    ordered = sorted(texts.items())
    for path, text in ordered:
        for m in DRF_CLASS.finditer(text):
            if m.group(1) in DRF:
                out.setdefault(DRF[m.group(1)], Scheme(DRF[m.group(1)], path, f"Django REST framework {m.group(1)}"))
    for path, text in ordered:
        if media := _media_type(text):
            out.setdefault("Accept header", Scheme("Accept header", path, f"media type {media}"))
        header = next((h for h in HEADER.findall(text) if not h.islower()), None)
        if header:
            out.setdefault("header", Scheme("header", path, f"request header {header.strip(chr(34) + chr(39))}"))
    return list(out.values())
