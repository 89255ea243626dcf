"""The EventBridge pattern matcher, operator by operator, plus properties that must hold for any event."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from events.routing import CompiledPattern, InvalidPattern, compile_pattern, matches, validate

ORDER = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "source": "monolith/orders",
    "detail-type": "order.placed",
    "time": "2025-03-01T12:00:00Z",
    "resources": ["arn:aws:orders:eu-west-1:123456789012:order/42"],
    "detail": {
        "order_id": "42",
        "total": 250.5,
        "items": 3,
        "currency": "EUR",
        "coupon": None,
        "gift": False,
        "note": "",
        "client_ip": "10.0.3.7",
        "tags": ["priority", "b2b"],
        "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}],
    },
}


def case(pattern: dict[str, Any], expected: bool, id: str, event: dict[str, Any] | None = None) -> Any:
    return pytest.param(pattern, ORDER if event is None else event, expected, id=id)


def check(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, event) is expected
    assert compile_pattern(pattern).matches(event) is expected


EXACT = [
    case({"source": ["monolith/orders"]}, True, "string"),
    case({"source": ["monolith/Orders"]}, False, "string is case-sensitive"),
    case({"source": ["monolith/payments", "monolith/orders"]}, True, "value list is an OR"),
    case({"detail": {"order_id": ["42"]}}, True, "nested string"),
    case({"detail": {"order_id": [42]}}, False, "number never equals a string"),
    case({"detail": {"items": ["3"]}}, False, "string never equals a number"),
    case({"detail": {"items": [3.0]}}, True, "3.0 equals 3"),
    case({"detail": {"total": [250.50]}}, True, "float"),
    case({"detail": {"coupon": [None]}}, True, "null matches null"),
    case({"detail": {"coupon": ["null"]}}, False, "string null is not null"),
    case({"detail": {"missing": [None]}}, False, "null does not match a missing field"),
    case({"detail": {"gift": [False]}}, True, "false"),
    case({"detail": {"gift": ["false"]}}, False, "string false is not false"),
    case({"detail": {"note": [""]}}, True, "empty string"),
    case({"detail": {"tags": ["b2b"]}}, True, "any element of an event array"),
    case({"detail": {"client_ip": ["10.0.3.7"]}}, True, "address string"),
    case({"a": ["2001:db8::1"]}, True, "address in another spelling", {"a": "2001:DB8:0:0::1"}),
    case({"a": [123456789012345678901]}, True, "uncomparable big number, same literal", {"a": 123456789012345678901}),
    case({"a": [123456789012345678901]}, False, "uncomparable big number, other", {"a": 123456789012345678900}),
    case({"detail.order_id": ["42"]}, True, "dotted pattern key reads nested event field"),
]

PREFIX_SUFFIX = [
    case({"detail-type": [{"prefix": "order."}]}, True, "prefix"),
    case({"detail-type": [{"prefix": "Order."}]}, False, "prefix is case-sensitive"),
    case({"detail-type": [{"prefix": {"equals-ignore-case": "ORDER."}}]}, True, "prefix ignoring case"),
    case({"detail": {"items": [{"prefix": "3"}]}}, False, "prefix never matches a number"),
    case({"detail": {"note": [{"prefix": ""}]}}, True, "empty prefix matches any string"),
    case({"time": [{"suffix": "Z"}]}, True, "suffix"),
    case({"time": [{"suffix": "z"}]}, False, "suffix is case-sensitive"),
    case({"time": [{"suffix": {"equals-ignore-case": "00z"}}]}, True, "suffix ignoring case"),
    case({"resources": [{"suffix": "/42"}]}, True, "suffix on array element"),
]

IGNORE_CASE = [
    case({"detail": {"currency": [{"equals-ignore-case": "eur"}]}}, True, "ascii"),
    case({"detail": {"currency": [{"equals-ignore-case": "eu"}]}}, False, "whole value"),
    case({"city": [{"equals-ignore-case": "zürich"}]}, True, "non-ascii", {"city": "ZÜRICH"}),
    case({"street": [{"equals-ignore-case": "straße"}]}, True, "sharp s upper-cases to SS", {"street": "STRASSE"}),
    case({"unit": [{"equals-ignore-case": "k"}]}, False, "kelvin sign is not k", {"unit": "\u212a"}),
]

WILDCARD = [
    case({"detail-type": [{"wildcard": "order.*"}]}, True, "trailing star"),
    case({"resources": [{"wildcard": "arn:aws:orders:*:order/*"}]}, True, "several stars"),
    case({"detail-type": [{"wildcard": "*.placed"}]}, True, "leading star"),
    case({"detail-type": [{"wildcard": "order*shipped"}]}, False, "no match"),
    case({"detail": {"note": [{"wildcard": "*"}]}}, True, "lone star matches the empty string"),
    case({"detail": {"items": [{"wildcard": "*"}]}}, False, "wildcard never matches a number"),
    case({"a": [{"wildcard": "2\\*3"}]}, True, "escaped star is literal", {"a": "2*3"}),
    case({"a": [{"wildcard": "2\\*3"}]}, False, "escaped star is not a wildcard", {"a": "2x3"}),
    case({"a": [{"wildcard": "C:\\\\*"}]}, True, "escaped backslash", {"a": "C:\\tmp"}),
]

ANYTHING_BUT = [
    case({"source": [{"anything-but": "monolith/payments"}]}, True, "single string"),
    case({"source": [{"anything-but": ["a", "monolith/orders"]}]}, False, "string list"),
    case({"detail": {"items": [{"anything-but": [1, 2]}]}}, True, "number list"),
    case({"detail": {"items": [{"anything-but": 3.0}]}}, False, "numbers compare numerically"),
    case({"detail": {"items": [{"anything-but": "3"}]}}, True, "a string never excludes a number"),
    case({"detail": {"coupon": [{"anything-but": "x"}]}}, True, "null is anything but a string"),
    case({"detail": {"missing": [{"anything-but": "x"}]}}, False, "needs the field to be present"),
    case({"detail": {"tags": [{"anything-but": "b2b"}]}}, True, "one element other than the excluded value"),
    case({"detail-type": [{"anything-but": {"prefix": "order."}}]}, False, "prefix"),
    case({"detail-type": [{"anything-but": {"prefix": ["stock.", "pay"]}}]}, True, "prefix list"),
    case({"time": [{"anything-but": {"suffix": "Z"}}]}, False, "suffix"),
    case({"detail": {"currency": [{"anything-but": {"equals-ignore-case": ["usd", "eur"]}}]}}, False, "ignore case"),
    case({"detail-type": [{"anything-but": {"wildcard": "stock.*"}}]}, True, "wildcard"),
]

NUMERIC = [
    case({"detail": {"total": [{"numeric": [">", 100]}]}}, True, "greater"),
    case({"detail": {"total": [{"numeric": [">", 100, "<=", 250.5]}]}}, True, "closed top"),
    case({"detail": {"total": [{"numeric": [">", 100, "<", 250.5]}]}}, False, "open top"),
    case({"detail": {"items": [{"numeric": [">=", 3, "<", 4]}]}}, True, "closed bottom"),
    case({"detail": {"items": [{"numeric": ["=", 3]}]}}, True, "equals"),
    case({"detail": {"items": [{"numeric": ["<", 0]}]}}, False, "less"),
    case({"t": [{"numeric": ["<", -1.5e-3]}]}, True, "negative and exponent", {"t": -0.002}),
    case({"t": [{"numeric": [">", 1e15]}]}, True, "beyond five billion", {"t": 1e16}),
    case({"t": [{"numeric": [">", 0]}]}, False, "numeric string is not a number", {"t": "5"}),
    case({"t": [{"numeric": [">", 10]}]}, True, "any element of an array", {"t": [1, 2, 30]}),
]

EXISTS = [
    case({"detail": {"coupon": [{"exists": True}]}}, True, "null value exists"),
    case({"detail": {"note": [{"exists": True}]}}, True, "empty string exists"),
    case({"detail": {"missing": [{"exists": True}]}}, False, "missing"),
    case({"detail": {"missing": [{"exists": False}]}}, True, "absent"),
    case({"detail": {"coupon": [{"exists": False}]}}, False, "present, so not absent"),
    case({"detail": [{"exists": True}]}, False, "only leaves exist, not objects"),
    case({"a": [{"exists": False}]}, True, "an empty array has no leaves", {"a": []}),
]

CIDR = [
    case({"detail": {"client_ip": [{"cidr": "10.0.0.0/16"}]}}, True, "v4 inside"),
    case({"detail": {"client_ip": [{"cidr": "10.0.4.0/24"}]}}, False, "v4 outside"),
    case({"ip": [{"cidr": "10.0.4.9/24"}]}, True, "host bits of the base are ignored", {"ip": "10.0.4.200"}),
    case({"ip": [{"cidr": "2001:db8::/32"}]}, True, "v6 inside", {"ip": "2001:DB8:ffff::1"}),
    case({"ip": [{"cidr": "2001:db8::/32"}]}, False, "v6 outside", {"ip": "2001:db9::1"}),
    case({"ip": [{"cidr": "0.0.0.0/0"}]}, False, "v4 block never holds a v6 address", {"ip": "::1"}),
    case({"ip": [{"cidr": "10.0.0.0/8"}]}, False, "not an address", {"ip": "10.0.0"}),
]

OR = [
    case({"$or": [{"source": ["x"]}, {"detail-type": ["order.placed"]}]}, True, "top level"),
    case({"detail": {"$or": [{"items": [1]}, {"currency": ["USD"]}]}}, False, "nested, no branch"),
    case(
        {"source": ["monolith/orders"], "$or": [{"detail": {"gift": [True]}}, {"time": [{"prefix": "2025"}]}]},
        True,
        "and-or",
    ),
    case({"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"detail": {"items": [3]}}]}]}, True, "or inside or"),
    case({"$or": {"x": ["1"]}}, True, "$or holding an object is a field name", {"$or": {"x": "1"}}),
    case({"$or": [{"prefix": "a"}, {"suffix": "z"}]}, True, "$or holding operators is a field name", {"$or": "az"}),
]

ARRAYS_OF_OBJECTS = [
    case({"detail": {"lines": {"sku": ["A-1"], "qty": [2]}}}, True, "fields from one element"),
    case({"detail": {"lines": {"sku": ["A-1"], "qty": [1]}}}, False, "fields from two elements"),
    case({"detail": {"lines": {"sku": ["B-7"]}, "currency": ["EUR"]}}, True, "element plus field outside the array"),
    case(
        {"d": {"a": [{"exists": True}], "b": [{"exists": False}]}},
        True,
        "absent from the chosen element",
        {"d": [{"a": 1}, {"b": 2}]},
    ),
    case(
        {"a": {"b": {"c": ["1"], "d": ["2"]}}},
        False,
        "nested arrays split",
        {"a": [[{"b": {"c": "1"}}], [{"b": {"d": "2"}}]]},
    ),
]


@pytest.mark.parametrize(("pattern", "event", "expected"), EXACT)
def test_exact_values(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), PREFIX_SUFFIX)
def test_prefix_and_suffix(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), IGNORE_CASE)
def test_equals_ignore_case(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), WILDCARD)
def test_wildcard(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), ANYTHING_BUT)
def test_anything_but(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), NUMERIC)
def test_numeric(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), EXISTS)
def test_exists(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), CIDR)
def test_cidr(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), OR)
def test_or(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(("pattern", "event", "expected"), ARRAYS_OF_OBJECTS)
def test_arrays_of_objects_are_matched_element_by_element(
    pattern: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    check(pattern, event, expected)


@pytest.mark.parametrize(
    ("pattern", "path", "reason"),
    [
        pytest.param(["source"], None, "JSON object", id="not an object"),
        pytest.param({}, None, "empty", id="empty pattern"),
        pytest.param({"source": "orders"}, "source", "array", id="bare value"),
        pytest.param({"source": []}, "source", "empty", id="empty value list"),
        pytest.param({"detail": {}}, "detail", "empty", id="empty object"),
        pytest.param({"a": [["x"]]}, "a", "match values", id="nested array"),
        pytest.param({"a": [{"contains": "x"}]}, "a", "unrecognized", id="unknown operator"),
        pytest.param({"a": [{"prefix": "x", "suffix": "y"}]}, "a", "only one key", id="two operators"),
        pytest.param({"a": [{"prefix": 1}]}, "a", "string", id="prefix number"),
        pytest.param({"a": [{"suffix": {"equals-ignore-case": ["x"]}}]}, "a", "string", id="suffix ignore case list"),
        pytest.param({"a": [{"wildcard": "a**b"}]}, "a", "consecutive", id="double star"),
        pytest.param({"a": [{"wildcard": "a\\b"}]}, "a", "escape", id="bad escape"),
        pytest.param({"a": [{"anything-but": ["x", 1]}]}, "a", "only strings or only numbers", id="mixed list"),
        pytest.param({"a": [{"anything-but": None}]}, "a", "anything-but", id="anything-but null"),
        pytest.param({"a": [{"anything-but": {"prefix": ""}}]}, "a", "empty", id="anything-but empty prefix"),
        pytest.param({"a": [{"anything-but": {"exists": True}}]}, "a", "one of", id="anything-but exists"),
        pytest.param({"a": [{"numeric": [">", "5"]}]}, "a", "numbers", id="numeric string operand"),
        pytest.param({"a": [{"numeric": [">", 5, "<", 1]}]}, "a", "less than", id="reversed range"),
        pytest.param({"a": [{"numeric": ["<", 5, ">", 1]}]}, "a", "too many", id="upper bound first"),
        pytest.param({"a": [{"numeric": [">", 123456789012345678901]}]}, "a", "compare", id="uncomparable bound"),
        pytest.param({"a": [{"exists": "yes"}]}, "a", "true or false", id="exists string"),
        pytest.param({"a": [{"cidr": "10.0.0.0/32"}]}, "a", "mask", id="cidr /32"),
        pytest.param({"a": [{"cidr": "10.0.0.0"}]}, "a", "'/'", id="cidr without mask"),
        pytest.param(
            {"$or": [{"a": ["x"]}, {"b": {"prefix": ["y"]}}]}, "b.prefix", "reserved", id="operator name in $or"
        ),
        pytest.param({"$or": [{"a": ["x"]}, {}]}, None, "empty", id="empty $or branch"),
    ],
)
def test_invalid_patterns_are_rejected_with_the_place_and_reason(pattern: Any, path: str | None, reason: str) -> None:
    with pytest.raises(InvalidPattern) as raised:
        validate(pattern)
    assert raised.value.path == path
    assert reason in raised.value.reason
    with pytest.raises(InvalidPattern):
        matches(pattern, ORDER)


def test_invalid_pattern_is_a_value_error_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"^detail\.total: "):
        compile_pattern({"detail": {"total": [{"numeric": ["~", 1]}]}})


def test_compiled_pattern_is_reusable_across_events() -> None:
    rule = compile_pattern({"source": ["monolith/orders"], "detail": {"items": [{"numeric": [">", 2]}]}})
    assert isinstance(rule, CompiledPattern)
    assert rule.matches(ORDER)
    assert not rule.matches({**ORDER, "detail": {**ORDER["detail"], "items": 1}})
    assert validate({"source": ["x"]}) is None


def test_matches_sees_a_pattern_changed_after_an_earlier_call() -> None:
    pattern: dict[str, Any] = {"source": ["monolith/orders"]}
    assert matches(pattern, ORDER)
    pattern["source"] = ["monolith/payments"]
    assert not matches(pattern, ORDER)


def test_an_event_must_be_a_json_object() -> None:
    with pytest.raises(TypeError):
        matches({"source": ["x"]}, ["source", "x"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        matches({"a": [{"exists": True}]}, {"a": object()})


# --- properties -------------------------------------------------------------------------------------------------

KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=6)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
LEAVES = st.one_of(SCALARS, st.lists(SCALARS, min_size=1, max_size=4))
EVENTS = st.recursive(
    st.dictionaries(KEYS, LEAVES, min_size=1, max_size=5),
    lambda children: st.dictionaries(KEYS, st.one_of(LEAVES, children), min_size=1, max_size=5),
    max_leaves=12,
)


def leaf_paths(event: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found: list[tuple[tuple[str, ...], Any]] = []
    for key, value in event.items():
        if isinstance(value, dict):
            found.extend(leaf_paths(value, (*prefix, key)))
        else:
            found.append(((*prefix, key), value[0] if isinstance(value, list) else value))
    return found


def nest(pattern: dict[str, Any], path: tuple[str, ...], values: list[Any]) -> None:
    for step in path[:-1]:
        pattern = pattern.setdefault(step, {})
    pattern[path[-1]] = values


@given(EVENTS, st.data())
def test_a_pattern_made_of_the_events_own_values_matches_it(event: dict[str, Any], data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(leaf_paths(event)), min_size=1, unique_by=lambda item: item[0]))
    pattern: dict[str, Any] = {}
    for path, value in chosen:
        nest(pattern, path, [value])
    assert matches(pattern, event)


def not_an_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return True
    return False


@given(st.text(max_size=8).filter(not_an_address), st.text(max_size=8).filter(not_an_address))
def test_anything_but_a_value_is_the_complement_of_that_value(actual: str, excluded: str) -> None:
    event = {"detail": {"status": actual}}
    exact = matches({"detail": {"status": [excluded]}}, event)
    anything_but = matches({"detail": {"status": [{"anything-but": [excluded]}]}}, event)
    assert anything_but is not exact


FINITE = st.floats(allow_nan=False, allow_infinity=False)


@given(FINITE, FINITE)
def test_numeric_bounds_order_numbers_as_floats_do(bound: float, value: float) -> None:
    assume(not (bound == 0 and value == 0))  # event-ruler orders -0.0 below 0.0
    event = {"v": value}
    assert matches({"v": [{"numeric": [">", bound]}]}, event) is (value > bound)
    assert matches({"v": [{"numeric": ["<=", bound]}]}, event) is (value <= bound)


@given(st.text(max_size=12), st.data())
def test_a_wildcard_cut_from_a_string_matches_it(text: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=4)))
    pieces = [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    # Keep the even pieces literally and let one star stand for each run of odd pieces.
    tokens: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0 and piece:
            tokens.append(piece.replace("\\", "\\\\").replace("*", "\\*"))
        elif index % 2 == 1 and tokens[-1:] != ["*"]:
            tokens.append("*")
    wildcard = "".join(tokens)
    assert matches({"s": [{"wildcard": wildcard}]}, {"s": text})


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=12))
def test_ascii_equals_ignore_case_ignores_only_case(text: str) -> None:
    pattern = {"s": [{"equals-ignore-case": text}]}
    assert matches(pattern, {"s": text.swapcase()})
    assert not matches(pattern, {"s": text + "x"})
