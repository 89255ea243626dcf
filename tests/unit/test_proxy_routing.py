from __future__ import annotations

from typing import Any

import pytest

from strangler_proxy.model import Group, Route
from strangler_proxy.routing import RouteTable, compile_path, has_dot_segments

UUID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/api/orders/", "/api/orders/", {}),
        ("/api/orders/", "/api/orders", None),
        ("/api/orders/", "/api/orders/x", None),
        ("/api/orders/", "/prefix/api/orders/", None),
        ("/api/orders/<int:order_id>/", "/api/orders/42/", {"order_id": 42}),
        ("/api/orders/<int:order_id>/", "/api/orders/-1/", None),
        ("/api/orders/<int:order_id>/", "/api/orders/4x/", None),
        ("/api/stock/<str:sku>/", "/api/stock/MUG-1/", {"sku": "MUG-1"}),
        ("/api/stock/<sku>/", "/api/stock/MUG%20X/", {"sku": "MUG%20X"}),
        ("/api/stock/<str:sku>/", "/api/stock/a/b/", None),
        ("/api/stock/<str:sku>/", "/api/stock//", None),
        ("/blog/<slug:slug>/", "/blog/hello_world-2/", {"slug": "hello_world-2"}),
        ("/blog/<slug:slug>/", "/blog/hello.world/", None),
        ("/o/<uuid:id>/", f"/o/{UUID}/", {"id": UUID}),
        ("/o/<uuid:id>/", f"/o/{UUID.upper()}/", None),
        ("/o/<uuid:id>/", "/o/1b4e28ba2fa111d2883f0016d3cca427/", None),
        ("/files/<path:rest>", "/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
        ("/files/<path:rest>", "/files/", None),
        ("/v1.0/<int:n>", "/v1x0/3", None),  # the dot is literal, not a regex wildcard
        ("/v1.0/<int:n>", "/v1.0/3", {"n": 3}),
        ("/a/<int:x>-<slug:y>/", "/a/7-b_c/", {"x": 7, "y": "b_c"}),
    ],
)
def test_compiled_pattern_matches_like_django(pattern: str, path: str, expected: dict[str, Any] | None) -> None:
    assert compile_path(pattern).match(path) == expected


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("api/orders/", "must start with '/'"),
        ("/a/<float:x>/", "unknown converter 'float'"),
        ("/a/<int:1x>/", "not a Python identifier"),
        ("/a/<int:x>/<str:x>/", "parameter 'x' appears twice"),
        ("/a/<int:x/", "unbalanced"),
        ("/a/int:x>/", "unbalanced"),
        ("/a/< x>/", "not a Python identifier"),
    ],
)
def test_bad_patterns_raise_naming_the_problem(pattern: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        compile_path(pattern)


def test_shape_ignores_parameter_names_and_the_implicit_str() -> None:
    assert compile_path("/a/<int:x>/<y>/").shape == compile_path("/a/<int:z>/<str:w>/").shape
    assert compile_path("/a/<int:x>/").shape != compile_path("/a/<str:x>/").shape


@pytest.mark.parametrize(
    "pattern", ["/a/", "/a/<int:x>/<y>/", "/o/<uuid:id>/<slug:s>", "/files/<path:rest>", "/a/<int:x>-<slug:y>/"]
)
def test_example_is_a_path_the_pattern_matches(pattern: str) -> None:
    compiled = compile_path(pattern)
    assert compiled.match(compiled.example()) is not None


@pytest.mark.parametrize(
    ("path", "dotted"),
    [
        ("/api/../admin/", True),
        ("/api/./orders/", True),
        ("/api/orders/..", True),
        ("/api/%2e%2e/admin/", True),
        ("/api/%2E./admin/", True),
        ("/api/.../x/", False),
        ("/api/.well-known/", False),
        ("/api/a..b/", False),
    ],
)
def test_dot_segments_are_recognised(path: str, dotted: bool) -> None:
    assert has_dot_segments(path) is dotted


def _group(name: str, *routes: Route) -> Group:
    return Group(name=name, service=name, routes=routes)


GROUPS = {
    "mobile": _group(
        "mobile", Route(path="/api/stock/<str:sku>/", methods=("GET",), headers=(("x-client", "mobile"),))
    ),
    "inventory": _group(
        "inventory",
        Route(path="/api/stock/<str:sku>/", methods=("GET",)),
        Route(path="/api/stock/reservations/", methods=("POST",)),
    ),
    "payment": _group(
        "payment",
        Route(path="/api/payments/<uuid:payment_id>/capture/", methods=("POST",)),
        Route(path="/api/payments/<path:rest>"),
    ),
    "catchall": _group("catchall", Route(path="/<str:first>/special/", methods=("DELETE",))),
}


@pytest.mark.parametrize(
    ("method", "path", "headers", "expected"),
    [
        ("GET", "/api/stock/MUG/", {}, ("inventory", 0, {"sku": "MUG"})),
        ("HEAD", "/api/stock/MUG/", {}, ("inventory", 0, {"sku": "MUG"})),
        ("POST", "/api/stock/MUG/", {}, None),
        ("GET", "/api/stock/MUG/", {"X-Client": "mobile"}, ("mobile", 0, {"sku": "MUG"})),
        ("GET", "/api/stock/MUG/", {"x-client": "Mobile"}, ("inventory", 0, {"sku": "MUG"})),
        # first match in config order: GET /api/stock/reservations/ is the sku route, POST the reservations one
        ("GET", "/api/stock/reservations/", {}, ("inventory", 0, {"sku": "reservations"})),
        ("POST", "/api/stock/reservations/", {}, ("inventory", 1, {})),
        ("POST", f"/api/payments/{UUID}/capture/", {}, ("payment", 0, {"payment_id": UUID})),
        ("PATCH", f"/api/payments/{UUID}/capture/", {}, ("payment", 1, {"rest": f"{UUID}/capture/"})),
        ("DELETE", "/anything/special/", {}, ("catchall", 0, {"first": "anything"})),
        ("DELETE", "/api/special/", {}, ("catchall", 0, {"first": "api"})),
        ("GET", "/api/orders/", {}, None),
        ("GET", "/", {}, None),
        ("GET", "/api/payments/../admin/", {}, None),
        ("GET", "/api/payments/%2e%2e/admin/", {}, None),
    ],
)
def test_route_table_first_match_wins(
    method: str, path: str, headers: dict[str, str], expected: tuple[str, int, dict[str, Any]] | None
) -> None:
    found = RouteTable(GROUPS).match(method, path, headers)
    if expected is None:
        assert found is None
        return
    assert found is not None
    name, index, params = expected
    assert (found.group.name, found.route, found.params) == (name, GROUPS[name].routes[index], params)


def test_index_keeps_config_order_across_literal_prefixes() -> None:
    # A route with a parameter first and a more literal one later: the earlier route must still win.
    groups = {
        "wide": _group("wide", Route(path="/<str:a>/<str:b>/")),
        "narrow": _group("narrow", Route(path="/api/orders/")),
    }
    found = RouteTable(groups).match("GET", "/api/orders/", {})
    assert found is not None and found.group.name == "wide"
    groups = {"narrow": groups["narrow"], "wide": groups["wide"]}
    found = RouteTable(groups).match("GET", "/api/orders/", {})
    assert found is not None and found.group.name == "narrow"


def test_route_table_refuses_a_bad_pattern() -> None:
    with pytest.raises(ValueError, match="unknown converter"):
        RouteTable({"g": _group("g", Route(path="/a/<nope:x>/"))})


def test_answers_are_remembered_per_method_and_path_and_stay_right() -> None:
    table = RouteTable({"g": _group("g", Route(path="/a/<int:n>/", methods=("GET",)))})
    first = table.match("GET", "/a/1/", {})
    assert first is not None and first.params == {"n": 1}
    assert table.match("GET", "/a/1/", {}) is first  # from the cache
    assert table.match("POST", "/a/1/", {}) is None and table.match("GET", "/a/2/", {}).params == {"n": 2}  # type: ignore[union-attr]


def test_tables_with_header_conditions_are_never_answered_from_the_cache() -> None:
    route = Route(path="/a/", methods=("GET",), headers=(("x-client", "mobile"),))
    table = RouteTable({"g": _group("g", route)})
    assert table.match("GET", "/a/", {"X-Client": "mobile"}) is not None
    assert table.match("GET", "/a/", {"X-Client": "web"}) is None
    assert table.match("GET", "/a/", {"x-client": "mobile"}) is not None
