"""ladder.app.schemes: versioning by Accept header, namespace or a version header, read from source texts."""

import pytest

from ladder.app import schemes


@pytest.mark.unit
def test_drf_settings_name_the_scheme_before_any_media_type():
    texts = {
        "aa/client.py": "requests.get(url, headers={'Accept': 'application/vnd.forge.v3+json'})\n",
        "site/settings.py": (
            "REST_FRAMEWORK = {\n"
            "    'DEFAULT_VERSIONING_CLASS': 'rest_framework.versioning.AcceptHeaderVersioning',\n"
            "}\n"
        ),
    }
    (found,) = schemes.found_in(texts)
    assert (found.name, found.file) == ("Accept header", "site/settings.py")
    assert str(found) == "Accept header (Django REST framework AcceptHeaderVersioning in site/settings.py)"


@pytest.mark.unit
@pytest.mark.parametrize(
    "source, name",
    [
        ("class V(APIView):\n    versioning_class = NamespaceVersioning\n", "namespace"),
        ('REST_FRAMEWORK = {"DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning"}\n', "URL path"),
        ('JSON_V2 = "application/vnd.bookshop.v2+json"\n', "Accept header"),
        ('TYPE = "application/vnd.bookshop+json; version=2"\n', "Accept header"),
        ('version = request.headers.get("X-API-Version", "1")\n', "header"),
    ],
)
def test_each_scheme(source, name):
    assert [s.name for s in schemes.found_in({"svc/api.py": source})] == [name]


@pytest.mark.unit
def test_media_types_sent_to_other_apis_and_plain_json_keys_are_no_scheme():
    texts = {
        "svc/hub.py": "session.get(u, headers={'Accept': 'application/vnd.forge.v3+json'})\n",
        "svc/index.py": 'meta = {"api-version": "1.1"}\n',
        "svc/plain.py": 'CONTENT_TYPE = "application/json"\n',
    }
    assert schemes.found_in(texts) == []
