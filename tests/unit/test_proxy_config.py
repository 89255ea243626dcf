from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from strangler_proxy.config import ConfigError, load_config, parse_config
from strangler_proxy.model import (
    AdminToken,
    Breaker,
    Cutover,
    Group,
    KeySource,
    Mode,
    ProxyConfig,
    Rollback,
    Route,
    ShadowPolicy,
    Side,
    Sticky,
    StickyKey,
    Upstream,
    WritePolicy,
    Writes,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "strangler_proxy" / "example.yaml"

DOCSTRING_EXAMPLE = """
upstreams:
  monolith: {url: "http://127.0.0.1:8000"}
  inventory: {url: "http://127.0.0.1:8101/", timeouts: {connect: 1, read: 5}, pool: 100,
              breaker: {failures: 5, open_seconds: 10}}
groups:
  inventory:
    service: inventory
    mode: shadow
    percent: 0
    sticky:
      default: monolith
      keys:
        - {from: path, name: sku}
        - {from: path, name: reservation_id, embedded: true}
    writes: at-cutover
    cutover: {capability: inventory, timeout: 30, hold_timeout: 10}
    shadow: {writes: skip, sample_rate: 1.0, queue: 1000, timeout: 2,
             ignore_paths: ["$.updated_at", "$.items[*].etag"], ignore_headers: [Date, server]}
    rollback: {window_seconds: 60, min_requests: 50, error_rate: 0.05, p99_ms: 800, mismatch_rate: null}
    routes:
      - {path: "/api/stock/<str:sku>/", methods: [get, HEAD, get]}
      - {path: "/api/stock/reservations/", methods: [POST], headers: {X-Client: mobile}}
      - {path: "/api/stock/reservations/<uuid:reservation_id>/", methods: [GET]}
"""

BASE: dict[str, Any] = {
    "upstreams": {"monolith": {"url": "http://127.0.0.1:8000"}, "inventory": {"url": "http://127.0.0.1:8101"}},
    "groups": {"inventory": {"service": "inventory", "routes": [{"path": "/api/stock/<str:sku>/"}]}},
}


def _parse(document: dict[str, Any], env: dict[str, str] | None = None) -> ProxyConfig:
    return parse_config(yaml.safe_dump(document), "proxy.yaml", env=env or {})


def _set(path: str, value: Any) -> dict[str, Any]:
    """BASE with ``value`` at a dotted ``path`` ("groups.inventory.routes.0.path"); ``...`` deletes the key."""
    document = copy.deepcopy(BASE)
    *parents, last = [int(step) if step.isdigit() else step for step in path.split(".")]
    target: Any = document
    for step in parents:
        if isinstance(step, str) and step not in target:
            target[step] = {}
        target = target[step]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return document


def test_the_model_docstring_example_parses_to_the_documented_values() -> None:
    config = parse_config(DOCSTRING_EXAMPLE, env={})
    assert config == ProxyConfig(
        upstreams={
            "monolith": Upstream(name="monolith", url="http://127.0.0.1:8000"),
            "inventory": Upstream(
                name="inventory",
                url="http://127.0.0.1:8101",
                connect_timeout=1.0,
                read_timeout=5.0,
                pool=100,
                breaker=Breaker(failures=5, open_seconds=10.0),
            ),
        },
        groups={
            "inventory": Group(
                name="inventory",
                service="inventory",
                mode=Mode.SHADOW,
                percent=0.0,
                sticky=Sticky(
                    keys=(
                        StickyKey(source=KeySource.PATH, name="sku"),
                        StickyKey(source=KeySource.PATH, name="reservation_id", embedded=True),
                    ),
                    default=Side.MONOLITH,
                ),
                writes=Writes.AT_CUTOVER,
                cutover=Cutover(capability="inventory", timeout=30.0, hold_timeout=10.0),
                shadow=ShadowPolicy(
                    writes=WritePolicy.SKIP,
                    sample_rate=1.0,
                    queue=1000,
                    timeout=2.0,
                    ignore_paths=("$.updated_at", "$.items[*].etag"),
                    ignore_headers=("date", "server"),
                ),
                rollback=Rollback(
                    window_seconds=60.0, min_requests=50, error_rate=0.05, p99_ms=800.0, mismatch_rate=None
                ),
                routes=(
                    Route(path="/api/stock/<str:sku>/", methods=("GET", "HEAD")),
                    Route(path="/api/stock/reservations/", methods=("POST",), headers=(("x-client", "mobile"),)),
                    Route(path="/api/stock/reservations/<uuid:reservation_id>/", methods=("GET",)),
                ),
            )
        },
    )


def test_the_local_stack_example_loads() -> None:
    config = load_config(EXAMPLE, env={})
    assert set(config.groups) == {"inventory", "payment", "shipment"}
    assert {group.service: config.upstreams[group.service].url for group in config.groups.values()} == {
        "inventory": "http://127.0.0.1:8101",
        "payment": "http://127.0.0.1:8102",
        "shipment": "http://127.0.0.1:8103",
    }
    assert all(group.mode is Mode.MONOLITH for group in config.groups.values())
    assert not any(route.path.startswith("/api/orders/") for g in config.groups.values() for route in g.routes)


def test_the_local_stack_example_follows_the_ownership_contract() -> None:
    """docs/extraction.md, "Ownership": payments and shipments per order, inventory by sku with writes at cut-over."""
    groups = load_config(EXAMPLE, env={}).groups
    json_order = StickyKey(source=KeySource.JSON, name="order_id")
    query_order = StickyKey(source=KeySource.QUERY, name="order_id")
    assert groups["payment"].sticky == Sticky(
        keys=(json_order, StickyKey(source=KeySource.PATH, name="payment_id", embedded=True)), default=Side.MONOLITH
    )
    assert groups["shipment"].sticky == Sticky(
        keys=(json_order, query_order, StickyKey(source=KeySource.PATH, name="shipment_id", embedded=True)),
        default=Side.MONOLITH,
    )
    assert groups["inventory"].sticky == Sticky(keys=(StickyKey(source=KeySource.PATH, name="sku"),))
    assert [groups[name].writes for name in ("inventory", "payment", "shipment")] == [
        Writes.AT_CUTOVER, Writes.FOLLOW, Writes.FOLLOW,
    ]  # fmt: skip
    assert {name: group.cutover and group.cutover.capability for name, group in groups.items()} == {
        "inventory": "inventory", "payment": "payments", "shipment": "shipments",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "groups.inventory.sticky",
            {"from": "body", "name": "x"},
            "groups.inventory.sticky.from: must be one of header, cookie, query, path, json",
        ),
        ("upstreams.inventory.url", "ftp://127.0.0.1:8101", "upstreams.inventory.url: must be an http(s) URL"),
        ("upstreams.inventory.url", "127.0.0.1:8101", "upstreams.inventory.url: must be an http(s) URL"),
        ("upstreams.inventory.url", "http://h:99999", "upstreams.inventory.url: must be an http(s) URL"),
        ("upstreams.inventory.url", "http://h:1/?a=1", "upstreams.inventory.url: must be scheme://host:port[/prefix]"),
        ("upstreams.inventory.url", ..., "upstreams.inventory.url: is required"),
        ("upstreams.inventory.timeouts", {"read": -1}, "upstreams.inventory.timeouts.read: must be greater than 0"),
        (
            "upstreams.inventory.timeouts",
            {"write": 1},
            "upstreams.inventory.timeouts.write: unknown key (allowed: connect, read)",
        ),
        ("upstreams.inventory.pool", 1.5, "upstreams.inventory.pool: must be a whole number"),
        ("upstreams.inventory.pool", 0, "upstreams.inventory.pool: must be at least 1"),
        ("upstreams.inventory.breaker", {"failures": 0}, "upstreams.inventory.breaker.failures: must be at least 1"),
        ("upstreams.monolith", ..., "upstreams.monolith: is required"),
        ("monolith", "legacy", "monolith: unknown upstream 'legacy' (known: inventory, monolith)"),
        ("listne", "127.0.0.1:9000", "listne: unknown key (did you mean 'listen'?"),
        ("listen", 8080, "listen: must be host:port"),
        ("listen", "127.0.0.1:70000", "listen: must be host:port"),
        ("listen", "127.0.0.1:8081", "admin.listen: must differ from listen"),
        ("admin", {"tokens": {"ops": 123}}, "admin.tokens.ops: must be a string"),
        ("admin", {"tokens": {"ops": "a b"}}, "admin.tokens.ops: must not contain whitespace"),
        ("admin", {"tokens": {"a": "s3cret", "b": "s3cret"}}, "admin.tokens.b: is the same secret as admin.tokens.a"),
        ("admin", {"token": {}}, "admin.token: unknown key (did you mean 'tokens'?"),
        ("state", {"url": "mysql://x"}, "state.url: must be sqlite:///path"),
        ("state", {"url": "sqlite://x.db"}, "state.url: a SQLite URL is sqlite:///relative/path"),
        ("state", {}, "state.url: is required"),
        ("max_body_bytes", 0, "max_body_bytes: must be at least 1"),
        ("upstream_header", "yes", "upstream_header: must be true or false"),
        ("mismatch_retention", -1, "mismatch_retention: must be at least 0"),
        ("groups", ["inventory"], "groups: must be a mapping"),
        ("groups.bad name", {"service": "inventory", "routes": [{"path": "/x/"}]}, "groups.bad name: name must start"),
        (
            "groups.inventory.service",
            "nope",
            "groups.inventory.service: unknown upstream 'nope' (known: inventory, monolith)",
        ),
        (
            "groups.inventory.service",
            "monolith",
            "groups.inventory.service: must not be the monolith upstream 'monolith'",
        ),
        ("groups.inventory.sevice", "x", "groups.inventory.sevice: unknown key (did you mean 'service'?"),
        ("groups.inventory.mode", "live", "groups.inventory.mode: must be one of monolith, shadow, canary, service"),
        ("groups.inventory.percent", 100.5, "groups.inventory.percent: must be from 0 to 100"),
        ("groups.inventory.percent", "5", "groups.inventory.percent: must be a number"),
        ("groups.inventory.percent", True, "groups.inventory.percent: must be a number"),
        ("groups.inventory.routes", [], "groups.inventory.routes: must list at least one route"),
        ("groups.inventory.routes", ..., "groups.inventory.routes: is required"),
        (
            "groups.inventory.routes.0.path",
            "/api/<x:y>/",
            "groups.inventory.routes[0].path: pattern '/api/<x:y>/': unknown converter 'x'",
        ),
        (
            "groups.inventory.routes.0.path",
            "api/",
            "groups.inventory.routes[0].path: pattern 'api/' must start with '/'",
        ),
        (
            "groups.inventory.routes.0.methods",
            ["GET", "FETCH"],
            "groups.inventory.routes[0].methods[1]: must be an HTTP method",
        ),
        ("groups.inventory.routes.0.methods", "GET", "groups.inventory.routes[0].methods: must be a list"),
        (
            "groups.inventory.routes.0.method",
            ["GET"],
            "groups.inventory.routes[0].method: unknown key (did you mean 'methods'?",
        ),
        (
            "groups.inventory.routes.0.headers",
            {"Bad Header": "x"},
            "groups.inventory.routes[0].headers.Bad Header: 'Bad Header' is not a valid header name",
        ),
        ("groups.inventory.routes.0.headers", {"X-A": 1}, "groups.inventory.routes[0].headers.X-A: must be a string"),
        (
            "groups.inventory.routes.0.headers",
            {"X-A": "1", "x-a": "2"},
            "groups.inventory.routes[0].headers.x-a: header 'x-a' is given twice",
        ),
        (
            "groups.inventory.sticky",
            {"form": "header", "name": "x"},
            "groups.inventory.sticky.form: unknown key (did you mean 'from'?",
        ),
        (
            "groups.inventory.sticky",
            {"from": "header", "name": "X Id"},
            "groups.inventory.sticky.name: 'X Id' is not a valid header name",
        ),
        (
            "groups.inventory.sticky",
            {"from": "json", "name": "customer..id"},
            "groups.inventory.sticky.name: must be a dotted path",
        ),
        (
            "groups.inventory.sticky",
            {"from": "path", "name": "order_id"},
            "groups.inventory.sticky.name: path parameter 'order_id' is in none of groups.inventory.routes",
        ),
        (
            "groups.inventory.sticky",
            {"keys": [{"from": "header", "name": "x-a"}, {"from": "path", "name": "order_id"}]},
            "groups.inventory.sticky.keys[1].name: path parameter 'order_id' is in none of groups.inventory.routes",
        ),
        (
            "groups.inventory.sticky",
            {"keys": [{"from": "query", "name": "a"}, {"from": "body", "name": "b"}]},
            "groups.inventory.sticky.keys[1].from: must be one of header, cookie, query, path, json",
        ),
        ("groups.inventory.sticky", {"keys": []}, "groups.inventory.sticky.keys: must list at least one key"),
        ("groups.inventory.sticky", {"keys": {"from": "query"}}, "groups.inventory.sticky.keys: must be a list"),
        (
            "groups.inventory.sticky",
            {"default": "service"},
            "groups.inventory.sticky.keys: is required (or the single-key form: from and name)",
        ),
        ("groups.inventory.sticky", {"from": "header"}, "groups.inventory.sticky.name: is required"),
        (
            "groups.inventory.sticky",
            {"keys": [{"from": "query", "name": "a", "embeded": True}]},
            "groups.inventory.sticky.keys[0].embeded: unknown key (did you mean 'embedded'?",
        ),
        (
            "groups.inventory.sticky",
            {"keys": [{"from": "query", "name": "a", "embedded": "yes"}]},
            "groups.inventory.sticky.keys[0].embedded: must be true or false",
        ),
        (
            "groups.inventory.sticky",
            {"keys": [{"from": "query", "name": "a"}], "from": "header", "name": "x"},
            "groups.inventory.sticky.from: give either keys or the single key's from/name, not both",
        ),
        (
            "groups.inventory.sticky",
            {
                "keys": [
                    {"from": "header", "name": "X-A"},
                    {"from": "query", "name": "x-a"},
                    {"from": "header", "name": "x-a"},
                ]
            },
            "groups.inventory.sticky.keys[2]: is the same key as groups.inventory.sticky.keys[0]",
        ),  # fmt: skip
        (
            "groups.inventory.sticky",
            {"keys": [{"from": "json", "name": "order."}]},
            "groups.inventory.sticky.keys[0].name: must be a dotted path",
        ),
        ("groups.inventory.writes", "later", "groups.inventory.writes: must be one of follow, at-cutover"),
        ("groups.inventory.cutover", {"timeout": 5}, "groups.inventory.cutover.capability: is required"),
        (
            "groups.inventory.cutover",
            {"capability": "stock/levels"},
            "groups.inventory.cutover.capability: must hold only letters, digits, _ and -",
        ),
        (
            "groups.inventory.cutover",
            {"capability": "inventory", "timeout": 0},
            "groups.inventory.cutover.timeout: must be greater than 0",
        ),
        (
            "groups.inventory.cutover",
            {"capability": "inventory", "hold_timeout": -1},
            "groups.inventory.cutover.hold_timeout: must be greater than 0",
        ),
        (
            "groups.inventory.cutover",
            {"capability": "inventory", "token_env": "1TOKEN"},
            "groups.inventory.cutover.token_env: must be an environment variable name",
        ),
        (
            "groups.inventory.cutover",
            {"capability": "inventory", "token": "s3cret"},
            "groups.inventory.cutover.token: unknown key (did you mean 'token_env'?",
        ),
        (
            "groups.inventory.sticky",
            {"from": "query", "name": "c", "default": "both"},
            "groups.inventory.sticky.default: must be one of monolith, service",
        ),
        (
            "groups.inventory.shadow",
            {"writes": "always"},
            "groups.inventory.shadow.writes: must be one of skip, dry-run",
        ),
        ("groups.inventory.shadow", {"sample_rate": 1.5}, "groups.inventory.shadow.sample_rate: must be from 0 to 1"),
        ("groups.inventory.shadow", {"queue": 0}, "groups.inventory.shadow.queue: must be at least 1"),
        ("groups.inventory.shadow", {"timeout": 0}, "groups.inventory.shadow.timeout: must be greater than 0"),
        (
            "groups.inventory.shadow",
            {"ignore_paths": ["$.a", "items[*]"]},
            "groups.inventory.shadow.ignore_paths[1]: must be a JSON path",
        ),
        (
            "groups.inventory.shadow",
            {"ignore_paths": ["$.a[x]"]},
            "groups.inventory.shadow.ignore_paths[0]: must be a JSON path",
        ),
        (
            "groups.inventory.shadow",
            {"ignore_headers": ["date", "x y"]},
            "groups.inventory.shadow.ignore_headers[1]: 'x y' is not a valid header name",
        ),
        ("groups.inventory.rollback", {"error_rate": 2}, "groups.inventory.rollback.error_rate: must be from 0 to 1"),
        (
            "groups.inventory.rollback",
            {"min_requests": 0},
            "groups.inventory.rollback.min_requests: must be at least 1",
        ),
        ("groups.inventory.rollback", {"p99_ms": 0}, "groups.inventory.rollback.p99_ms: must be greater than 0"),
        (
            "groups.other",
            {"service": "inventory", "routes": [{"path": "/api/stock/<sku>/", "methods": ["GET"]}]},
            "groups.other.routes[0]: /api/stock/<sku>/ duplicates groups.inventory.routes[0]",
        ),
    ],
)
def test_errors_name_the_file_and_the_key_path(path: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        _parse(_set(path, value))
    assert str(error.value).startswith(f"proxy.yaml: {message}")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "proxy.yaml: is empty"),
        ("- a\n- b\n", "proxy.yaml: (document): must be a mapping"),
        ("upstreams: {monolith: {url: x}\n", "proxy.yaml: not valid YAML: line 2, column 1:"),
        (
            "upstreams:\n  a: {url: 'http://a'}\n  a: {url: 'http://b'}\n",
            "proxy.yaml: not valid YAML: line 3, column 3: duplicate key 'a'",
        ),
        ("groups: {}\n", "proxy.yaml: upstreams: is required"),
    ],
)
def test_document_level_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(text, "proxy.yaml", env={})


def test_yaml_merge_keys_are_not_duplicates() -> None:
    merged = "upstreams:\n  monolith: &m {url: 'http://a', pool: 5}\n  svc: {<<: *m, url: 'http://b'}\n"
    config = parse_config(merged, env={})
    assert (config.upstreams["svc"].url, config.upstreams["svc"].pool) == ("http://b", 5)


def test_routes_that_share_a_path_but_not_methods_or_headers_are_allowed() -> None:
    document = _set("groups.other", {"service": "inventory", "routes": [
        {"path": "/api/stock/<sku>/", "methods": ["POST"]},
        {"path": "/api/stock/<str:sku>/", "methods": ["GET"], "headers": {"X-Client": "mobile"}},
    ]})  # fmt: skip
    document["groups"]["inventory"]["routes"][0]["methods"] = ["GET"]
    config = _parse(document)
    assert [len(group.routes) for group in config.groups.values()] == [1, 2]


def test_a_route_without_methods_overlaps_every_method() -> None:
    document = _set("groups.other", {"service": "inventory", "routes": [{"path": "/api/stock/<slug:s>/"}]})
    document["groups"]["other"]["routes"][0]["path"] = "/api/stock/<str:s>/"
    with pytest.raises(ConfigError, match="duplicates groups.inventory.routes"):
        _parse(document)


def test_the_single_key_form_is_a_sticky_of_one_key() -> None:
    document = _set("groups.inventory.sticky", {"from": "header", "name": "X-Customer-Id", "default": "service"})
    sticky = _parse(document).groups["inventory"].sticky
    assert sticky == Sticky(keys=(StickyKey(source=KeySource.HEADER, name="x-customer-id"),), default=Side.SERVICE)


def test_a_path_key_may_be_missing_from_some_routes_of_its_group() -> None:
    document = _set("groups.inventory.sticky", {"keys": [
        {"from": "json", "name": "order_id"}, {"from": "path", "name": "payment_id", "embedded": True},
    ]})  # fmt: skip
    document["groups"]["inventory"]["routes"].append({"path": "/api/payments/<uuid:payment_id>/capture/"})
    sticky = _parse(document).groups["inventory"].sticky
    assert sticky == Sticky(keys=(
        StickyKey(source=KeySource.JSON, name="order_id"),
        StickyKey(source=KeySource.PATH, name="payment_id", embedded=True),
    ))  # fmt: skip


def test_cutover_defaults() -> None:
    group = _parse(_set("groups.inventory.cutover", {"capability": "inventory"})).groups["inventory"]
    assert group.cutover == Cutover(capability="inventory", timeout=30.0, hold_timeout=10.0,
                                    token_env="STRANGLER_INTERNAL_TOKEN")  # fmt: skip
    assert (group.writes, group.hold_timeout) == (Writes.FOLLOW, 10.0)


def test_defaults_fill_what_the_file_leaves_out() -> None:
    config = _parse(BASE)
    assert (config.monolith, config.listen, config.admin_listen, config.admin_tokens) == (
        "monolith",
        "127.0.0.1:8080",
        "127.0.0.1:8081",
        (),
    )
    assert config.groups["inventory"] == Group(
        name="inventory", service="inventory", routes=(Route(path="/api/stock/<str:sku>/"),)
    )


def test_an_empty_groups_key_means_no_groups() -> None:
    text = "upstreams: {monolith: {url: 'http://127.0.0.1:8000'}}\ngroups:\n"
    assert parse_config(text, env={}).groups == {}


def test_environment_overrides_the_file() -> None:
    document = _set("admin", {"listen": "0.0.0.0:9001", "tokens": {"ops": "from-file", "env": "old"}})
    env = {
        "STRANGLER_LISTEN": "[::1]:9000",
        "STRANGLER_ADMIN_LISTEN": "127.0.0.1:9002",
        "STRANGLER_STATE_URL": "redis://127.0.0.1:6379/3",
        "STRANGLER_ADMIN_TOKEN": "from-env",
    }
    config = _parse(document, env)
    assert (config.listen, config.admin_listen, config.state_url) == (
        "[::1]:9000",
        "127.0.0.1:9002",
        "redis://127.0.0.1:6379/3",
    )
    assert config.admin_tokens == (AdminToken(name="ops", token="from-file"), AdminToken(name="env", token="from-env"))


def test_empty_environment_values_are_ignored() -> None:
    config = _parse(BASE, {"STRANGLER_LISTEN": "", "STRANGLER_ADMIN_TOKEN": ""})
    assert (config.listen, config.admin_tokens) == ("127.0.0.1:8080", ())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STRANGLER_LISTEN": "localhost"}, "environment: STRANGLER_LISTEN: must be host:port"),
        ({"STRANGLER_LISTEN": "127.0.0.1:8081"}, "environment: STRANGLER_LISTEN: gives the proxy and its admin API"),
        ({"STRANGLER_STATE_URL": "file:///x"}, "environment: STRANGLER_STATE_URL: must be sqlite:///path"),
        (
            {"STRANGLER_ADMIN_LISTEN": "127.0.0.1:8080"},
            "environment: STRANGLER_ADMIN_LISTEN: gives the proxy and its admin API the same address (127.0.0.1:8080)",
        ),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        _parse(BASE, env)
    assert str(error.value).startswith(message)


def test_the_process_environment_is_read_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRANGLER_ADMIN_TOKEN", "t0ken")
    config = parse_config(yaml.safe_dump(BASE))
    assert config.admin_tokens == (AdminToken(name="env", token="t0ken"),)


def test_load_config_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"proxy\.yaml: cannot read: No such file"):
        load_config(tmp_path / "proxy.yaml", env={})


def test_load_config_uses_the_path_as_the_source(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump(_set("listen", "nope")), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert (error.value.source, error.value.key) == (str(path), "listen")
