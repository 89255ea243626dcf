"""Shadow comparison: what counts as a difference between the monolith's and the service's answers, and redaction."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strangler_proxy.diff import (
    MAX_DIFFERENCES,
    REDACTED,
    Comparison,
    Difference,
    Exchange,
    InvalidPath,
    compare,
    parse_path,
    readable_diff,
    redact_body_fields,
    redact_headers,
)
from strangler_proxy.model import ShadowPolicy

JSON = (("content-type", "application/json"),)


def exchange(body: Any, *, status: int = 200, headers: tuple[tuple[str, str], ...] = JSON, **kw: Any) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return Exchange(status, headers, raw, **kw)


def differences(monolith: Exchange, service: Exchange, **policy: Any) -> list[tuple[str, Any, Any]]:
    comparison = compare(monolith, service, ShadowPolicy(**policy))
    assert comparison.matched is (not comparison.differences)
    return [(d.where, d.monolith, d.service) for d in comparison.differences]


def json_case(left: Any, right: Any, expected: list[tuple[str, Any, Any]], id: str, **policy: Any) -> Any:
    return pytest.param(left, right, policy, expected, id=id)


@pytest.mark.parametrize(
    ("left", "right", "policy", "expected"),
    [
        json_case({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 2]}, [], "equal"),
        json_case({"a": 1, "b": 2}, {"b": 2, "a": 1}, [], "member-order-irrelevant"),
        json_case({"price": 1}, {"price": 1.0}, [], "1-equals-1.0"),
        json_case({"price": 0}, {"price": -0.0}, [], "0-equals-minus-0.0"),
        json_case({"price": 1}, {"price": "1"}, [("$.price", 1, "1")], "number-vs-string"),
        json_case({"ok": True}, {"ok": 1}, [("$.ok", True, 1)], "true-is-not-1"),
        json_case({"ok": False}, {"ok": 0}, [("$.ok", False, 0)], "false-is-not-0"),
        json_case({"ok": None}, {"ok": False}, [("$.ok", None, False)], "null-is-not-false"),
        json_case(
            {"a": [{"x": [True, 0]}], "b": {"c": False}},
            {"a": [{"x": [1, False]}], "b": {"c": 0}},
            [("$.a[0].x[0]", True, 1), ("$.a[0].x[1]", 0, False), ("$.b.c", False, 0)],
            "booleans-deep-inside-equal-looking-containers",
        ),
        json_case({"a": [{"x": 1}], "t": "true"}, {"a": [{"x": 1.0}], "t": "true"}, [], "bool-free-equal"),
        json_case({"a": [{"x": 1}], "b": [2]}, {"a": [{"x": 1.5}], "b": [2]}, [("$.a[0].x", 1, 1.5)], "bool-free"),
        json_case({"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 2}}}, [("$.a.b.c", 1, 2)], "nested"),
        json_case({"a": {"b": 1}}, {"a": [1]}, [("$.a", {"b": 1}, [1])], "object-vs-array"),
        json_case({"x": None, "y": 1}, {"y": 1}, [("$.x (missing in service)", None, None)], "null-vs-missing"),
        json_case({"y": 1}, {"y": 1, "z": [1]}, [("$.z (missing in monolith)", None, [1])], "extra-in-service"),
        json_case(
            {"items": [{"price": 1}, {"price": 2}, {"price": 3}]},
            {"items": [{"price": 1}, {"price": 2.5}, {"price": 3}]},
            [("$.items[1].price", 2, 2.5)],
            "array-position",
        ),
        json_case([1, 2], [2, 1], [("$[0]", 1, 2), ("$[1]", 2, 1)], "array-order-matters"),
        json_case(
            {"items": [1, 2, 3]},
            {"items": [1]},
            [("$.items[1] (missing in service)", 2, None), ("$.items[2] (missing in service)", 3, None)],
            "array-shorter-in-service",
        ),
        json_case(
            {"items": []}, {"items": [{"a": 1}]}, [("$.items[0] (missing in monolith)", None, {"a": 1})], "longer"
        ),
        json_case(
            {"b": 1, "a": {"x": 1}, "c": 1},
            {"c": 2, "a": {"x": 2}, "b": 2},
            [("$.b", 1, 2), ("$.a.x", 1, 2), ("$.c", 1, 2)],
            "reported-in-monolith-document-order",
        ),
        json_case({"name": "café ☕"}, {"name": "café ☕"}, [], "unicode-equal"),
        json_case({"名前": "José"}, {"名前": "Jose"}, [("$.名前", "José", "Jose")], "unicode-key-and-value"),
        json_case(
            {"a.b": 1, "": 1, "*": 1},
            {"a.b": 2, "": 2, "*": 2},
            [('$["a.b"]', 1, 2), ('$[""]', 1, 2), ('$["*"]', 1, 2)],
            "quoted-keys",
        ),
        json_case("a", "b", [("$", "a", "b")], "top-level-scalar"),
        # ignore paths: removed from both sides before comparing
        json_case(
            {"meta": {"t": 1}, "a": 1}, {"meta": {"t": 2}, "a": 1}, [], "ignore-subtree", ignore_paths=("$.meta",)
        ),
        json_case({"meta": 1, "a": 1}, {"a": 1}, [], "ignored-missing-on-one-side", ignore_paths=("$.meta",)),
        json_case({"a": 1}, {"a": 2}, [], "ignore-everything", ignore_paths=("$",)),
        json_case(
            {"items": [{"id": 1, "etag": "a"}, {"id": 2, "etag": "b"}]},
            {"items": [{"id": 1, "etag": "x"}, {"id": 3}]},
            [("$.items[1].id", 2, 3)],
            "wildcard-index",
            ignore_paths=("$.items[*].etag",),
        ),
        json_case(
            {"orders": [{"lines": [{"etag": 1, "q": 1}, {"etag": 2, "q": 2}]}, {"lines": [{"etag": 3, "q": 3}]}]},
            {"orders": [{"lines": [{"etag": 9, "q": 1}, {"etag": 9, "q": 2}]}, {"lines": [{"etag": 9, "q": 4}]}]},
            [("$.orders[1].lines[0].q", 3, 4)],
            "nested-wildcards",
            ignore_paths=("$.orders[*].lines[*].etag",),
        ),
        json_case(
            {"prices": {"eur": {"v": 1, "at": 1}, "usd": {"v": 2, "at": 1}}},
            {"prices": {"eur": {"v": 1, "at": 2}, "usd": {"v": 3, "at": 2}}},
            [("$.prices.usd.v", 2, 3)],
            "wildcard-over-members",
            ignore_paths=("$.prices.*.at",),
        ),
        json_case(
            {"items": [{"etag": 1}, {"etag": 2}]},
            {"items": [{"etag": 3}, {"etag": 4}]},
            [("$.items[0].etag", 1, 3)],
            "index-only-that-element",
            ignore_paths=("$.items[1]",),
        ),
        json_case(
            {"a.b": 1, "a": {"b": 2}},
            {"a.b": 9, "a": {"b": 3}},
            [("$.a.b", 2, 3)],
            "quoted",
            ignore_paths=('$["a.b"]',),
        ),
        json_case(
            {"items": [{"id": 1, "etag": "a"}, {"id": 2, "etag": "b"}]},
            {"items": [{"id": 1, "etag": "x"}]},
            [("$.items[1] (missing in service)", {"id": 2}, None)],
            "missing-element-reported-without-ignored-fields",
            ignore_paths=("$.items[*].etag",),
        ),
        json_case(
            {"a": {"etag": 1, "v": 1}},
            {"a": [1]},
            [("$.a", {"v": 1}, [1])],
            "type-change-reported-without-ignored-fields",
            ignore_paths=("$.a.etag",),
        ),
        json_case({"a": 1, "b": 1}, {"a": 2, "b": 2}, [], "several-paths", ignore_paths=("$.a", "$['b']")),
        json_case(
            {"items": [1, 2, 3]},
            {"items": [1, 9]},
            [("$.items[2] (missing in service)", 3, None)],
            "ignored-element-keeps-the-others-in-place",
            ignore_paths=("$.items[1]",),
        ),
        json_case({"items": [1, 2, 3]}, {"items": [4]}, [], "every-element", ignore_paths=("$.items[*]",)),
        json_case(
            {"items": [1]},
            {"items": {"a": 1}},
            [("$.items", ["[ignored]"], {})],
            "every-element-or-member",
            ignore_paths=("$.items[*]",),
        ),
        json_case(
            {"rows": [[1, 2]]},
            {"rows": []},
            [("$.rows[0] (missing in service)", ["[ignored]", 2], None)],
            "missing-value-shows-ignored-elements",
            ignore_paths=("$.rows[*][0]",),
        ),
        json_case({"a": "[ignored]"}, {"a": "x"}, [("$.a", "[ignored]", "x")], "the-placeholder-text-is-not-special"),
        json_case(
            {"a": {"b": 1}},
            {"a": 5},
            [("$.a", {"b": 1}, 5)],
            "path-through-a-scalar-is-harmless",
            ignore_paths=("$.a.b.c", "$.a[0]"),
        ),
    ],
)
def test_json_bodies_are_compared_structurally(
    left: Any, right: Any, policy: dict[str, Any], expected: list[tuple[str, Any, Any]]
) -> None:
    assert differences(exchange(left), exchange(right), **policy) == expected


def test_json_bodies_differing_only_in_formatting_match() -> None:
    compact, spaced = b'{"a":[1,2],"b":"\\u00e9"}', '{ "b": "é",\n  "a": [1, 2.0] }'.encode()
    assert differences(exchange(compact), exchange(spaced)) == []


def test_json_in_utf16_is_compared_too() -> None:
    left, right = '{"a": [true], "é": 1}'.encode("utf-16"), '{"a": [1], "é": 1.0}'.encode("utf-16-le")
    assert differences(exchange(left), exchange(right)) == [("$.a[0]", True, 1)]


def test_nan_equals_nan() -> None:
    assert differences(exchange(b'{"a": NaN}'), exchange(b'{"a": NaN}')) == []


def test_json_is_recognised_by_content_type_or_by_parsing() -> None:
    one, one_point_zero = b'{"a": 1}', b'{"a": 1.0}'
    for headers in [JSON, (("content-type", "application/problem+json; charset=utf-8"),), ()]:
        assert differences(exchange(one, headers=headers), exchange(one_point_zero, headers=headers)) == []
    text = (("content-type", "text/plain"),)
    assert differences(exchange(one, headers=text), exchange(one_point_zero, headers=text)) == [
        ("body", one, one_point_zero)
    ]


@pytest.mark.parametrize(
    ("left", "right", "headers", "expected"),
    [
        (b"<p>ok</p>", b"<p>ok</p>", (("content-type", "text/html"),), []),
        (b"<p>ok</p>", b"<p>ok </p>", (("content-type", "text/html"),), [("body", b"<p>ok</p>", b"<p>ok </p>")]),
        (b"plain", b"Plain", (), [("body", b"plain", b"Plain")]),
        (b"", b"", (), []),
        (b"{not json", b"{not json!", JSON, [("body", b"{not json", b"{not json!")]),
        (b"\xff\xfe\x00", b"\xff\xfe\x01", JSON, [("body", b"\xff\xfe\x00", b"\xff\xfe\x01")]),
        (
            "café".encode(),
            b"cafe",
            (("content-type", "text/plain; charset=utf-8"),),
            [("body", b"caf\xc3\xa9", b"cafe")],
        ),
    ],
    ids=["html-equal", "html-whitespace", "no-content-type", "empty", "invalid-json", "binary", "utf8"],
)
def test_other_bodies_are_compared_byte_for_byte(
    left: bytes, right: bytes, headers: tuple[tuple[str, str], ...], expected: list[tuple[str, Any, Any]]
) -> None:
    assert differences(exchange(left, headers=headers), exchange(right, headers=headers)) == expected


def test_one_json_side_and_one_other_side_are_compared_byte_for_byte() -> None:
    assert differences(exchange(b'{"a":1}'), exchange(b"<html>", headers=JSON)) == [("body", b'{"a":1}', b"<html>")]


def test_nesting_too_deep_to_decode_falls_back_to_bytes() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert differences(exchange(deep), exchange(deep + b" ")) == [("body", deep, deep + b" ")]


def test_status_must_be_equal() -> None:
    assert differences(exchange({}, status=200), exchange({}, status=201)) == [("status", 200, 201)]


@pytest.mark.parametrize(
    ("left", "right", "policy", "expected"),
    [
        ((("content-type", "application/json"),), (("content-type", "application/json"),), {}, []),
        (
            (("content-type", "application/json"),),
            (("content-type", "application/json; charset=utf-8"),),
            {},
            [("header content-type", "application/json", "application/json; charset=utf-8")],
        ),
        ((("content-type", "application/json"),), (), {}, [("header content-type", "application/json", None)]),
        ((("etag", "a"),), (("etag", "b"),), {}, []),
        ((("etag", "a"),), (("etag", "b"),), {"compare_headers": ("ETag",)}, [("header etag", "a", "b")]),
        ((("ETag", "a"),), (("etag", "a"),), {"compare_headers": ("etag",)}, []),
        ((("etag", "a"),), (("etag", "b"),), {"compare_headers": ("etag",), "ignore_headers": ("ETAG",)}, []),
        ((), (("x-new", "1"),), {"compare_headers": ("x-new",)}, [("header x-new", None, "1")]),
        ((), (), {"compare_headers": ("x-new",)}, []),
        (
            (("vary", "accept"), ("vary", "cookie")),
            (("vary", "accept"),),
            {"compare_headers": ("vary",)},
            [("header vary", "accept, cookie", "accept")],
        ),
    ],
    ids=[
        "equal",
        "value-exact",
        "missing-in-service",
        "not-listed",
        "listed-case-insensitive",
        "names-case-insensitive",
        "ignore-wins",
        "missing-in-monolith",
        "absent-both",
        "repeated-fields",
    ],
)
def test_listed_headers_are_compared(
    left: tuple[tuple[str, str], ...],
    right: tuple[tuple[str, str], ...],
    policy: dict[str, Any],
    expected: list[tuple[str, Any, Any]],
) -> None:
    assert differences(exchange(b"x", headers=left), exchange(b"x", headers=right), **policy) == expected


def test_differences_are_reported_status_then_headers_then_body() -> None:
    found = differences(exchange({"a": 1}, status=200), exchange({"a": 2}, status=500, headers=()))
    assert [where for where, _, _ in found] == ["status", "header content-type", "$.a"]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (exchange({"a": 1}, truncated=True), exchange({"a": 2})),
        (exchange({"a": 1}), exchange({"a": 1}, truncated=True)),
        (exchange(b"x" * 11), exchange(b"x" * 11)),
    ],
    ids=["monolith-truncated", "service-truncated", "over-max-body-bytes"],
)
def test_bodies_too_large_to_compare_are_skipped(left: Exchange, right: Exchange) -> None:
    comparison = compare(left, right, ShadowPolicy(max_body_bytes=10))
    assert comparison.outcome == "skipped"
    assert comparison.matched is False and comparison.differences == ()
    assert comparison.skipped is not None and "larger than the comparison limit" in comparison.skipped
    assert comparison.summary == comparison.skipped


def test_a_status_difference_is_a_mismatch_even_when_bodies_are_too_large() -> None:
    comparison = compare(exchange(b"x", status=200, truncated=True), exchange(b"y", status=502), ShadowPolicy())
    assert comparison.outcome == "mismatched"
    assert comparison.skipped is None
    assert [d.where for d in comparison.differences] == ["status"]
    assert "monolith body larger than the comparison limit" in comparison.summary


def test_truncation_does_not_matter_when_the_whole_body_is_ignored() -> None:
    comparison = compare(exchange(b"x", truncated=True), exchange(b"y"), ShadowPolicy(ignore_paths=("$",)))
    assert comparison.outcome == "matched" and comparison.matched


def test_a_match_is_a_match() -> None:
    comparison = compare(exchange({"a": 1}), exchange({"a": 1.0}), ShadowPolicy())
    assert comparison == Comparison(matched=True, differences=(), summary="responses match")
    assert comparison.outcome == "matched"


def test_reported_differences_are_bounded_and_the_rest_counted() -> None:
    total = MAX_DIFFERENCES + 70
    comparison = compare(exchange(list(range(total))), exchange([-1] * total), ShadowPolicy())
    assert comparison.outcome == "mismatched"
    assert len(comparison.differences) == MAX_DIFFERENCES
    assert comparison.differences[0] == Difference("$[0]", 0, -1)
    assert comparison.omitted == 70
    assert comparison.summary == f"{total} differences: $[0], $[1], $[2], …"


def test_invalid_ignore_path_is_an_error() -> None:
    with pytest.raises(InvalidPath, match="items"):
        compare(exchange({"a": 1}), exchange({"a": 2}), ShadowPolicy(ignore_paths=("items[*]",)))


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("$", ()),
        ("$.items[*].etag", ("items", None, "etag")),
        ("$.prices.*.at", ("prices", None, "at")),
        ('$["a.b"][0]', ("a.b", 0)),
        ('$["quote \\" and \\u00e9"]', ('quote " and é',)),
        ("$['x y'].z", ("x y", "z")),
        ("$.content-type", ("content-type",)),
        ("$.*x", ("*x",)),
    ],
)
def test_parse_path(path: str, segments: tuple[str | int | None, ...]) -> None:
    assert parse_path(path) == segments


@pytest.mark.parametrize("path", ["", "items", "$.", "$..a", "$[x]", "$[-1]", "$[1", '$["open]', "$ .a", "$.a]"])
def test_parse_path_rejects(path: str) -> None:
    with pytest.raises(InvalidPath):
        parse_path(path)


def test_readable_diff_has_one_line_per_difference() -> None:
    comparison = compare(
        exchange({"price": 1, "name": "café", "gone": 1}, status=200),
        exchange({"price": "1", "name": "cafe", "new": None}, status=500, headers=()),
        ShadowPolicy(),
    )
    assert readable_diff(comparison).splitlines() == [
        "6 differences: status, header content-type, $.price, …",
        "status: - monolith: 200 / + service: 500",
        'header content-type: - monolith: "application/json" / + service: (absent)',
        '$.price: - monolith: 1 / + service: "1"',
        '$.name: - monolith: "café" / + service: "cafe"',
        "$.gone (missing in service): - monolith: 1 / + service: (missing)",
        "$.new (missing in monolith): - monolith: (missing) / + service: null",
    ]


def test_readable_diff_shortens_long_values_around_the_first_difference() -> None:
    prefix = "x" * 1000
    text = readable_diff(compare(exchange({"d": prefix + "A"}), exchange({"d": prefix + "B"}), ShadowPolicy()))
    line = text.splitlines()[1]
    monolith, service = line.removeprefix("$.d: - monolith: ").split(" / + service: ")
    assert monolith.startswith("…") and monolith.endswith('A"')
    assert service.startswith("…") and service.endswith('B"')
    assert len(monolith) < 220 and len(service) < 220


def test_readable_diff_of_large_bodies_shows_where_they_differ() -> None:
    body = b"abcdefghij" * 100_000
    for offset in [0, 1, 500_000, len(body) - 1]:
        other = body[:offset] + b"#" + body[offset + 1 :]
        line = readable_diff(compare(exchange(body), exchange(other), ShadowPolicy())).splitlines()[1]
        monolith, service = line.removeprefix("body: - monolith: ").split(" / + service: ")
        assert len(monolith) <= 202 and len(service) <= 202
        position = service.index("#")
        assert monolith[:position] == service[:position] and monolith[position] != "#"


def test_readable_diff_of_byte_bodies_and_omitted_differences() -> None:
    assert readable_diff(
        compare(exchange(b"caf\xc3\xa9", headers=()), exchange(b"\xff", headers=()), ShadowPolicy())
    ) == ('1 difference: body\nbody: - monolith: "café" / + service: "\\\\xff"')
    many = compare(exchange([0] * 60), exchange([1] * 60), ShadowPolicy())
    assert readable_diff(many).splitlines()[-1] == "… and 10 more differences"


def test_readable_diff_of_skipped_and_matched() -> None:
    skipped = compare(exchange(b"x", truncated=True), exchange(b"x"), ShadowPolicy())
    assert readable_diff(skipped) == "monolith body larger than the comparison limit (1,048,576 bytes): not compared"
    assert readable_diff(compare(exchange(b"x"), exchange(b"x"), ShadowPolicy())) == "responses match"


def test_redact_headers() -> None:
    headers = (
        ("Authorization", "Bearer abc"),
        ("proxy-authorization", "Basic x"),
        ("cookie", "sessionid=1"),
        ("set-cookie", "csrftoken=2"),
        ("x-api-key", "k"),
        ("X-CSRFToken", "t"),
        ("x-tenant-secret", "s"),
        ("accept", "application/json"),
        ("cookie", "second=1"),
    )
    assert redact_headers(headers, extra=("X-Tenant-Secret",)) == (
        ("Authorization", REDACTED),
        ("proxy-authorization", REDACTED),
        ("cookie", REDACTED),
        ("set-cookie", REDACTED),
        ("x-api-key", REDACTED),
        ("X-CSRFToken", REDACTED),
        ("x-tenant-secret", REDACTED),
        ("accept", "application/json"),
        ("cookie", REDACTED),
    )
    assert redact_headers((("x-tenant-secret", "s"),)) == (("x-tenant-secret", "s"),)


def test_redact_body_fields_at_any_depth_without_touching_the_original() -> None:
    body = {
        "user": {"email": "a@b.c", "Password": "hunter2", "new_password": "x", "passwordConfirmation": "x"},
        "payment": {"cardNumber": "4242", "card-number": "4242", "CVC": "123", "amount": 10},
        "sessions": [{"access_token": "t", "id": 1}, [{"client_secret": {"nested": "s"}}]],
        "token": None,
        "note": "my password is hunter2",
    }
    original = json.loads(json.dumps(body))
    assert redact_body_fields(body) == {
        "user": {"email": "a@b.c", "Password": REDACTED, "new_password": REDACTED, "passwordConfirmation": REDACTED},
        "payment": {"cardNumber": REDACTED, "card-number": REDACTED, "CVC": REDACTED, "amount": 10},
        "sessions": [{"access_token": REDACTED, "id": 1}, [{"client_secret": REDACTED}]],
        "token": REDACTED,
        "note": "my password is hunter2",
    }
    assert body == original


@pytest.mark.parametrize("value", [None, 1, "password", [1, "token"], []])
def test_redact_body_fields_leaves_values_without_members_alone(value: Any) -> None:
    assert redact_body_fields(value) == value


def test_redact_body_fields_with_other_names() -> None:
    assert redact_body_fields({"iban": "DE00", "password": "p"}, names=("iban",)) == {"iban": REDACTED, "password": "p"}
