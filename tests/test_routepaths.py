"""ladder.app.routepaths: which route paths carry a version, and which may stay unversioned."""

import pytest

from ladder.app import routepaths


@pytest.mark.unit
def test_one_policy_for_what_may_stay_unversioned():
    assert routepaths.exemption("/") == routepaths.HOME
    assert routepaths.exemption("/health") == routepaths.exemption("/metrics/") == routepaths.PROBE
    assert routepaths.exemption("/items") is None
    assert routepaths.exemption("/api/graphql") == routepaths.GRAPHQL
    assert (
        routepaths.is_versioned("/v1/items")
        and routepaths.is_versioned("/api/v2")
        and not routepaths.is_versioned("/items/v1")
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    "path, base",
    [
        ("/v1/items", "/items"),
        ("/api/v2/users/<id>", "/api/users/<id>"),
        ("/v1", "/"),
        ("/v1.2/x", "/x"),
        ("/items", "/items"),
    ],
)
def test_base_path_drops_the_version(path, base):
    assert routepaths.base_path(path) == base


@pytest.mark.unit
@pytest.mark.parametrize("path", ["/<version>/items", "/api/<str:version>/x", "/{version}/y", "/(?P<version>v[12])/z"])
def test_a_captured_version_segment_is_a_version(path):
    assert routepaths.is_versioned(path)
