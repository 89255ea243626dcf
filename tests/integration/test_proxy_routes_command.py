from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path, register_converter
from django.views import View
from drf_spectacular.views import SpectacularAPIView
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from strangler_proxy.config import load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "strangler_proxy" / "example.yaml"


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("proxy_routes", *args, stdout=out)
    return out.getvalue()


def _table(output: str) -> dict[str, tuple[str, str, str]]:
    rows = [line.split() for line in output.splitlines()[1:] if line.startswith("/")]
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_discover_finds_the_monoliths_endpoints_with_their_methods_and_groups() -> None:
    rows = _table(_run("discover"))

    assert rows["/api/inventory/stock/<str:sku>/"] == ("GET", "inventory", "monolith.inventory.views.StockView")
    assert rows["/api/inventory/reservations/"][:2] == ("POST", "inventory")
    assert rows["/api/shipments/"][:2] == ("GET,POST", "shipments")
    assert rows["/api/payments/<uuid:payment_id>/capture/"][:2] == ("POST", "payments")
    assert rows["/healthz"][:2] == ("any", "core")  # a function view takes any method
    assert rows["/api/auth/token/"][:2] == ("POST", "-")  # simplejwt is not an installed app
    assert not [p for p in rows if p.startswith(("/admin/", "/api/schema/", "/api/docs/"))]


def test_yaml_output_matches_the_example_config_route_for_route() -> None:
    discovered = yaml.safe_load(_run("discover", "--format", "yaml", "--config", str(EXAMPLE)))
    example = load_config(EXAMPLE, env={})

    assert set(discovered) == set(example.groups)
    for name, group in example.groups.items():
        expected = [{"path": r.path, "methods": list(r.methods)} for r in group.routes]
        assert discovered[name]["routes"] == expected, name


def test_yaml_output_pastes_into_a_valid_proxy_config() -> None:
    discovered = yaml.safe_load(_run("discover", "--format", "yaml"))
    upstreams = {"monolith": {"url": "http://127.0.0.1:8000"}, "svc": {"url": "http://127.0.0.1:8101"}}
    groups = {name: {"service": "svc", **entry} for name, entry in discovered.items()}

    config = parse_config(yaml.safe_dump({"upstreams": upstreams, "groups": groups}), env={})

    assert {"inventory", "payments", "shipments", "orders", "catalog", "core"} <= set(config.groups)


def test_check_passes_against_the_example_config() -> None:
    assert _run("discover", "--check", "--config", str(EXAMPLE)).startswith("all covered")


def test_check_lists_uncovered_endpoints_and_exits_1(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('      - {path: "/api/payments/<uuid:payment_id>/void/", methods: [POST]}\n', "")
    text = text.replace('{path: "/api/shipments/", methods: [GET, POST]}', '{path: "/api/shipments/", methods: [GET]}')
    config = tmp_path / "proxy.yaml"
    config.write_text(text, encoding="utf-8")
    out = io.StringIO()

    with pytest.raises(CommandError) as error:
        call_command("proxy_routes", "discover", "--check", "--config", str(config), stdout=out)

    assert error.value.returncode == 1
    assert out.getvalue().splitlines() == [
        "uncovered: POST /api/payments/<uuid:payment_id>/void/"
        " (group payment, monolith.payments.views.PaymentVoidView)",
        "uncovered: GET,POST /api/shipments/ (group shipment, monolith.shipments.views.ShipmentListCreateView)",
    ]


def test_a_route_with_a_header_condition_does_not_cover_an_endpoint(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '{path: "/api/inventory/adjustments/", methods: [POST]}',
        '{path: "/api/inventory/adjustments/", methods: [POST], headers: {X-Client: mobile}}',
    )
    config = tmp_path / "proxy.yaml"
    config.write_text(text, encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("proxy_routes", "discover", "--check", "--config", str(config), stdout=out)
    assert "POST /api/inventory/adjustments/" in out.getvalue()


def test_a_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8").replace("from: path", "from: body", 1), encoding="utf-8")

    with pytest.raises(CommandError) as error:
        _run("discover", "--check", "--config", str(config))

    assert error.value.returncode == 2
    assert str(error.value) == (
        f"{config}: groups.inventory.sticky.from: must be one of header, cookie, query, path, json"
    )


def test_check_without_a_config_exits_2() -> None:
    with pytest.raises(CommandError, match="--check needs --config FILE") as error:
        _run("discover", "--check")
    assert error.value.returncode == 2


# A URLconf with the shapes the monolith lacks.


class _YearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(_YearConverter, "proxy_routes_test_year")


def _function_view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return HttpResponse()


class _ReadOnlyView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse()


class _ThingViewSet(viewsets.ViewSet):
    def list(self, request: Request) -> Response:
        return Response([])

    def create(self, request: Request) -> Response:
        return Response({})


urlpatterns = [
    path("things/", _ThingViewSet.as_view({"get": "list", "post": "create"})),
    path("read/<slug:slug>/", _ReadOnlyView.as_view()),
    path("func/<int:n>", _function_view),
    re_path(r"^legacy/(?P<pk>[0-9]+)/$", _function_view),
    path("archive/<proxy_routes_test_year:year>/", _function_view),
    path("v2/", include([path("files/<path:rest>", _function_view)])),
    path("schema/", SpectacularAPIView.as_view()),
    path("admin/", admin.site.urls),
]


@pytest.mark.urls(__name__)
def test_discover_handles_viewsets_regex_routes_and_custom_converters() -> None:
    output = _run("discover")
    rows = _table(output)

    assert rows["/things/"][0] == "GET,POST"  # the viewset's actions
    assert rows["/read/<slug:slug>/"][0] == "GET,OPTIONS"  # OPTIONS only when the view overrides it
    assert rows["/func/<int:n>"][0] == "any"
    assert rows["/v2/files/<path:rest>"][0] == "any"
    assert "note: /legacy/(?P<pk>[0-9]+)/$: regex pattern (re_path): write its route by hand" in output
    assert "note: /archive/<proxy_routes_test_year:year>/: custom path converter: write its route by hand" in output
    assert set(rows) == {
        "/things/",
        "/read/<slug:slug>/",
        "/func/<int:n>",
        "/legacy/(?P<pk>[0-9]+)/$",
        "/archive/<proxy_routes_test_year:year>/",
        "/v2/files/<path:rest>",
    }  # no admin, no schema


@pytest.mark.urls(__name__)
def test_yaml_output_comments_out_routes_it_cannot_convert() -> None:
    output = _run("discover", "--format", "yaml")
    assert yaml.safe_load(output) is None  # nothing here belongs to an installed app
    assert '#   - {path: "/legacy/(?P<pk>[0-9]+)/$"}' in output
