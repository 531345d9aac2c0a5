"""Names Ladder takes from people: host names, addresses, users, paths and git refs, each a pattern and its words."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from .errors import RefError

# An identifier: safe as a file name and in a URL, never an option (-x) or a hidden or parent folder (., ..).
NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"
ADDRESS = r"^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|[0-9A-Fa-f:.]{2,45})$"
USER = r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$"
# The same strings as URL_PATH's, spelled apart: WORDS is keyed by pattern.
REMOTE_PATH = r"^/(?:[^\s\x00-\x1f\x7f])*$"
LOCAL_PATH = r"^[^\x00-\x1f\x7f]+$"
URL_PATH = r"^/[^\s\x00-\x1f\x7f]*$"
WSGI = r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$"
REPO = r"^[^\s\x00-\x1f\x7f-][^\s\x00-\x1f\x7f]*$"
COMMAND = r"^[A-Za-z0-9_./+-]+$"
HTTP_URL = r"^https?://[A-Za-z0-9.:\[\]-]+(?::[0-9]{1,5})?(?:/[^\s\x00-\x1f\x7f]*)?$"

# pattern -> what it asks for, in words: validation messages say these, never the pattern.
WORDS = {
    NAME: "letters, digits, '-', '_' and '.', starting with a letter, digit or '_', like web1",
    ADDRESS: "'local' (a folder on this machine), a host name or an IP address, like web1.example.com",
    USER: "a login name (letters, digits, '_', '.', '-'), like deploy",
    REMOTE_PATH: "an absolute path without spaces, like /srv/shop",
    LOCAL_PATH: "a path without control characters, like hosts/dev",
    URL_PATH: "an absolute URL path starting with '/', like /health",
    WSGI: "a WSGI app as module:callable, like app:application",
    REPO: "a git URL or the path of a clone, without spaces and not starting with '-', like git@example.com:team/shop.git",
    COMMAND: "a program name or path, like python3.12",
    HTTP_URL: "an http:// or https:// URL without spaces, like http://127.0.0.1:9090",
}

Name = Annotated[str, Field(pattern=NAME, description=WORDS[NAME])]
Address = Annotated[str, Field(pattern=ADDRESS, description=WORDS[ADDRESS])]
User = Annotated[str, Field(pattern=USER, description=WORDS[USER])]
RemotePath = Annotated[str, Field(pattern=REMOTE_PATH, description=WORDS[REMOTE_PATH])]
LocalPath = Annotated[str, Field(pattern=LOCAL_PATH, description=WORDS[LOCAL_PATH])]
UrlPath = Annotated[str, Field(pattern=URL_PATH, description=WORDS[URL_PATH])]
Wsgi = Annotated[str, Field(pattern=WSGI, description=WORDS[WSGI])]
Repo = Annotated[str, Field(pattern=REPO, description=WORDS[REPO])]
Command = Annotated[str, Field(pattern=COMMAND, description=WORDS[COMMAND])]
HttpUrl = Annotated[str, Field(pattern=HTTP_URL, description=WORDS[HTTP_URL])]

_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")


def check_ref(ref: str) -> str:
    """Refuse a ref that is empty, looks like an option or is not a plain branch, tag or commit name."""
    if not ref or not _REF.fullmatch(ref) or ".." in ref or "//" in ref or ref.endswith((".lock", "/", ".")):
        raise RefError(ref)
    return ref
