"""The API never answers with HTML, whatever goes wrong."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_json_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_unknown_url_is_json_404() -> None:
    assert_json_error(Client().get("/api/nothing-here/"), 404, "not_found")
    assert_json_error(Client().get("/nothing"), 404, "not_found")


def test_wrong_method_is_json_405(shop: Any) -> None:
    assert_json_error(APIClient().delete("/api/catalog/products/"), 405, "method_not_allowed")


def test_oversized_body_is_json_413_before_anything_runs(alice: Any, client_for: Any) -> None:
    body = b'{"lines": [' + b" " * (1024 * 1024) + b"]}"
    response = client_for(alice).generic("POST", "/api/orders/", body, content_type="application/json")
    assert_json_error(response, 413, "payload_too_large")


def test_malformed_json_is_json_400(alice: Any, client_for: Any) -> None:
    response = client_for(alice).generic("POST", "/api/orders/", b"{not json", content_type="application/json")
    assert_json_error(response, 400, "malformed_request")


def test_form_encoded_body_is_json_415(alice: Any, client_for: Any) -> None:
    assert_json_error(client_for(alice).post("/api/orders/", {"a": "b"}), 415, "unsupported_media_type")


@pytest.mark.urls("tests.integration.urls_with_bug")
def test_unexpected_exception_is_json_500_without_internals() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert_json_error(response, 500, "internal_error")
    assert "ZeroDivisionError" not in response.content.decode()


def test_request_id_is_propagated_or_minted() -> None:
    assert Client().get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    minted = Client().get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert minted != "bad id with spaces" and len(minted) == 32


def test_healthz_reports_database() -> None:
    assert Client().get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_openapi_schema_and_docs_are_served() -> None:
    schema = Client().get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/orders/" in schema["paths"]
    assert "402" in schema["paths"]["/api/orders/"]["post"]["responses"]
    assert Client().get("/api/docs/").status_code == 200


def test_deeply_nested_json_is_json_400_not_a_crash(alice: Any, client_for: Any) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = client_for(alice).generic("POST", "/api/orders/", body, content_type="application/json")
    assert_json_error(response, 400, "malformed_request")


@pytest.mark.parametrize("query", ["limit=99999999999999999999", "offset=99999999999999999999", "limit=-5"])
def test_absurd_pagination_values_never_crash(shop: Any, query: str) -> None:
    response = APIClient().get(f"/api/catalog/products/?{query}")
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)
