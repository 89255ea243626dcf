"""Read and validate the proxy's YAML configuration into ``strangler_proxy.model.ProxyConfig``.

>>> config = load_config(Path("proxy.yaml"))          # or parse_config(text, "proxy.yaml")
>>> config.groups["inventory"].routes[0].path
'/api/inventory/stock/<str:sku>/'

Every problem raises ``ConfigError`` naming the file and the key path, e.g.
``proxy.yaml: groups.inventory.sticky.from: must be one of header, cookie, query, path, json``.

The environment overrides the file: ``STRANGLER_LISTEN``, ``STRANGLER_ADMIN_LISTEN``, ``STRANGLER_STATE_URL``;
``STRANGLER_ADMIN_TOKEN`` adds an admin token named ``env`` (replacing a file token of that name).

The checks are hand-written rather than a JSON Schema: jsonschema reports an unknown key as "Additional
properties are not allowed ('x' was unexpected)" against the parent and a bad enum as a repr of the whole list,
and half of the rules (known upstreams, duplicate routes, sticky path parameters) are cross-field checks a schema
cannot express, so one reader that tracks the key path gives one consistent error style.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from strangler_proxy.config_fields import (
    Invalid,
    Node,
    Parser,
    boolean,
    capability,
    enum,
    env_name,
    header_name,
    host_port,
    http_url,
    integer,
    json_path,
    name_key,
    nullable,
    number,
    read,
    state_url,
    string,
    strings,
)
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
from strangler_proxy.routing import CompiledPath, compile_path

__all__ = ["ConfigError", "load_config", "parse_config"]

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


class ConfigError(ValueError):
    """One line naming the file (or ``environment``), the key path and what is wrong with it."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")


def load_config(path: Path, *, env: Mapping[str, str] | None = None) -> ProxyConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_config(text, str(path), env=env)


def parse_config(text: str, source: str = "<config>", *, env: Mapping[str, str] | None = None) -> ProxyConfig:
    """Parse and validate; ``env`` defaults to ``os.environ`` (read here, once)."""
    document = _load_yaml(text, source)
    try:
        config = _proxy_config(Node("", document))
    except Invalid as exc:
        raise ConfigError(source, exc.key, exc.problem) from None
    try:
        return _with_environment(config, os.environ if env is None else env)
    except Invalid as exc:
        raise ConfigError("environment", exc.key, exc.problem) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str, source: str) -> Any:
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(source, "", f"not valid YAML: {where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, "", f"not valid YAML: {exc}") from None
    if document is None:
        raise ConfigError(source, "", "is empty; it needs at least 'upstreams'")
    return document


def _proxy_config(node: Node) -> ProxyConfig:
    fields = read(
        node,
        {
            "upstreams": lambda n: {name: _upstream(name, child) for name, child in name_key(n).items()},
            "groups": lambda n: n,  # parsed below, once the upstreams are known
            "monolith": string,
            "listen": host_port,
            "admin": lambda n: read(n, {"listen": host_port, "tokens": _tokens}),
            "state": lambda n: read(n, {"url": state_url}, required=("url",)),
            "max_body_bytes": integer(minimum=1),
            "upstream_header": boolean,
            "mismatch_retention": integer(minimum=0),
        },
        required=("upstreams",),
    )
    upstreams: dict[str, Upstream] = fields.pop("upstreams")
    monolith = fields.get("monolith", "monolith")
    if "monolith" in fields and monolith not in upstreams:
        raise Invalid("monolith", _unknown_upstream(monolith, upstreams))
    if monolith not in upstreams:
        raise Invalid(
            "upstreams.monolith",
            "is required (unmatched requests go there; the top-level 'monolith' key names another)",
        )
    groups_node: Node | None = fields.pop("groups", None)
    groups = {} if groups_node is None or groups_node.value is None else _groups(groups_node, upstreams, monolith)
    admin = fields.pop("admin", {})
    if "listen" in admin:
        fields["admin_listen"] = admin["listen"]
    if "tokens" in admin:
        fields["admin_tokens"] = admin["tokens"]
    if "state" in fields:
        fields["state_url"] = fields.pop("state")["url"]
    if fields.get("admin_listen", ProxyConfig.admin_listen) == fields.get("listen", ProxyConfig.listen):
        raise Invalid("admin.listen", "must differ from listen")
    return ProxyConfig(upstreams=upstreams, groups=groups, **fields)


def _with_environment(config: ProxyConfig, env: Mapping[str, str]) -> ProxyConfig:
    changes: dict[str, Any] = {}
    for variable, field, parser in (
        ("STRANGLER_LISTEN", "listen", host_port),
        ("STRANGLER_ADMIN_LISTEN", "admin_listen", host_port),
        ("STRANGLER_STATE_URL", "state_url", state_url),
    ):
        if env.get(variable):
            changes[field] = parser(Node(variable, env[variable]))
    if env.get("STRANGLER_ADMIN_TOKEN"):
        secret = _secret(Node("STRANGLER_ADMIN_TOKEN", env["STRANGLER_ADMIN_TOKEN"]))
        others = tuple(token for token in config.admin_tokens if token.name != "env")
        if any(token.token == secret for token in others):
            raise Invalid("STRANGLER_ADMIN_TOKEN", "is the same secret as a token in the file")
        changes["admin_tokens"] = (*others, AdminToken(name="env", token=secret))
    listen, admin_listen = changes.get("listen", config.listen), changes.get("admin_listen", config.admin_listen)
    if listen == admin_listen and ("listen" in changes or "admin_listen" in changes):
        variable = "STRANGLER_ADMIN_LISTEN" if "admin_listen" in changes else "STRANGLER_LISTEN"
        raise Invalid(variable, f"gives the proxy and its admin API the same address ({listen})")
    return replace(config, **changes) if changes else config


# -- upstreams and admin ------------------------------------------------------------------------------------------


def _upstream(name: str, node: Node) -> Upstream:
    fields = read(
        node,
        {
            "url": http_url,
            "timeouts": lambda n: read(n, {"connect": number(positive=True), "read": number(positive=True)}),
            "pool": integer(minimum=1),
            "breaker": lambda n: Breaker(
                **read(n, {"failures": integer(minimum=1), "open_seconds": number(positive=True)})
            ),
        },
        required=("url",),
    )
    timeouts = fields.pop("timeouts", {})
    if "connect" in timeouts:
        fields["connect_timeout"] = timeouts["connect"]
    if "read" in timeouts:
        fields["read_timeout"] = timeouts["read"]
    return Upstream(name=name, **fields)


def _unknown_upstream(name: str, upstreams: Mapping[str, Upstream]) -> str:
    return f"unknown upstream {name!r} (known: {', '.join(sorted(upstreams)) or 'none'})"


def _secret(node: Node) -> str:
    secret = string(node)
    if any(character.isspace() for character in secret):
        raise Invalid(node.path, "must not contain whitespace")
    return secret


def _tokens(node: Node) -> tuple[AdminToken, ...]:
    tokens: list[AdminToken] = []
    for name, child in name_key(node).items():
        secret = _secret(child)
        for earlier in tokens:
            if earlier.token == secret:
                raise Invalid(child.path, f"is the same secret as admin.tokens.{earlier.name}")
        tokens.append(AdminToken(name=name, token=secret))
    return tuple(tokens)


# -- groups -------------------------------------------------------------------------------------------------------


def _groups(node: Node, upstreams: Mapping[str, Upstream], monolith: str) -> dict[str, Group]:
    groups = {name: _group(name, child, upstreams, monolith) for name, child in name_key(node).items()}
    _refuse_duplicate_routes(groups)
    return groups


def _group(name: str, node: Node, upstreams: Mapping[str, Upstream], monolith: str) -> Group:
    fields = read(
        node,
        {
            "service": string,
            "routes": _routes,
            "mode": enum(Mode),
            "percent": number(low=0, high=100),
            "sticky": lambda n: n,  # parsed below, once the routes are known
            "writes": enum(Writes),
            "cutover": _cutover,
            "shadow": _shadow,
            "rollback": _rollback,
        },
        required=("service", "routes"),
    )
    service = fields["service"]
    if service not in upstreams:
        raise Invalid(f"{node.path}.service", _unknown_upstream(service, upstreams))
    if service == monolith:
        raise Invalid(f"{node.path}.service", f"must not be the monolith upstream {monolith!r}")
    if "sticky" in fields:
        fields["sticky"] = _sticky(fields["sticky"], fields["routes"])
    return Group(name=name, **fields)


def _routes(node: Node) -> tuple[Route, ...]:
    routes = tuple(_route(child) for child in node.items())
    if not routes:
        raise Invalid(node.path, "must list at least one route")
    return routes


def _route(node: Node) -> Route:
    fields = read(node, {"path": _path_pattern, "methods": _methods, "headers": _headers}, required=("path",))
    return Route(path=fields["path"].pattern, methods=fields.get("methods", ()), headers=fields.get("headers", ()))


def _path_pattern(node: Node) -> CompiledPath:
    try:
        return compile_path(string(node))
    except ValueError as exc:
        raise Invalid(node.path, str(exc)) from None


def _methods(node: Node) -> tuple[str, ...]:
    methods: list[str] = []
    for child in node.items():
        method = string(child).upper()
        if method not in HTTP_METHODS:
            raise Invalid(child.path, f"must be an HTTP method, one of {', '.join(HTTP_METHODS)}")
        if method not in methods:
            methods.append(method)
    return tuple(methods)


def _headers(node: Node) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for name, child in node.mapping().items():
        lowered = header_name(Node(child.path, name))
        if lowered in pairs:
            raise Invalid(child.path, f"header {lowered!r} is given twice (names are case-insensitive)")
        pairs[lowered] = string(child, allow_empty=True)
    return tuple(pairs.items())


_KEY_SPEC: dict[str, Parser] = {"from": enum(KeySource), "name": string, "embedded": boolean}


def _sticky(node: Node, routes: tuple[Route, ...]) -> Sticky:
    """``{default, keys: [{from, name, embedded}, ...]}`` or the single-key form ``{from, name, embedded, default}``."""
    children = node.mapping()
    if "keys" in children:
        mixed = next((key for key in _KEY_SPEC if key in children), None)
        if mixed is not None:
            raise Invalid(children[mixed].path, "give either keys or the single key's from/name, not both")
        fields = read(node, {"keys": lambda n: n, "default": enum(Side)}, required=("keys",))
        items = fields.pop("keys").items()
        if not items:
            raise Invalid(f"{node.path}.keys", "must list at least one key")
        keys = tuple(_sticky_key(child, routes) for child in items)
    else:
        if "from" not in children and "name" not in children:
            raise Invalid(f"{node.path}.keys", "is required (or the single-key form: from and name)")
        spec: dict[str, Parser] = {**_KEY_SPEC, "default": enum(Side), "keys": lambda n: n}  # keys: listed as allowed
        fields = read(node, spec, required=("from", "name"))
        keys = (_sticky_key(node, routes, fields),)
        fields = {k: v for k, v in fields.items() if k == "default"}
    seen: dict[tuple[KeySource, str], int] = {}
    for index, key in enumerate(keys):
        earlier = seen.setdefault((key.source, key.name), index)
        if earlier != index:
            raise Invalid(f"{node.path}.keys[{index}]", f"is the same key as {node.path}.keys[{earlier}]")
    return Sticky(keys=keys, **fields)


def _sticky_key(node: Node, routes: tuple[Route, ...], fields: dict[str, Any] | None = None) -> StickyKey:
    if fields is None:
        fields = read(node, _KEY_SPEC, required=("from", "name"))
    source: KeySource = fields["from"]
    name, name_path = fields["name"], f"{node.path}.name"
    if source is KeySource.HEADER:
        name = header_name(Node(name_path, name))
    elif source is KeySource.JSON and not all(name.split(".")):
        raise Invalid(name_path, "must be a dotted path of field names, e.g. customer.id")
    elif source is KeySource.PATH and not any(name in compile_path(route.path).parameters for route in routes):
        # A path key is absent on routes without that parameter (the next key is tried there); in none of them
        # it could never be present, which is a typo.
        group_path = node.path.rpartition(".sticky")[0]  # the last one: a group name may hold ".sticky"
        raise Invalid(name_path, f"path parameter {name!r} is in none of {group_path}.routes")
    return StickyKey(source=source, name=name, embedded=fields.get("embedded", False))


def _cutover(node: Node) -> Cutover:
    return Cutover(
        **read(
            node,
            {
                "capability": capability,
                "timeout": number(positive=True),
                "hold_timeout": number(positive=True),
                "token_env": env_name,
                "converge_events": integer(minimum=0),
            },
            required=("capability",),
        )
    )


def _header_list(node: Node) -> tuple[str, ...]:
    return strings(node, header_name)


def _shadow(node: Node) -> ShadowPolicy:
    return ShadowPolicy(
        **read(
            node,
            {
                "writes": enum(WritePolicy),
                "sample_rate": number(low=0, high=1),
                "queue": integer(minimum=1),
                "timeout": number(positive=True),
                "ignore_paths": lambda n: strings(n, json_path),
                "ignore_headers": _header_list,
                "compare_headers": _header_list,
                "max_body_bytes": integer(minimum=1),
            },
        )
    )


def _rollback(node: Node) -> Rollback:
    rate = nullable(number(low=0, high=1))
    return Rollback(
        **read(
            node,
            {
                "window_seconds": number(positive=True),
                "min_requests": integer(minimum=1),
                "error_rate": rate,
                "p99_ms": nullable(number(positive=True)),
                "mismatch_rate": rate,
            },
        )
    )


def _refuse_duplicate_routes(groups: Mapping[str, Group]) -> None:
    """Two routes with the same path shape, the same headers and a method in common: the second never matches."""
    seen: list[tuple[str, str, frozenset[str], frozenset[tuple[str, str]]]] = []
    for group in groups.values():
        for index, route in enumerate(group.routes):
            where = f"groups.{group.name}.routes[{index}]"
            shape, methods, headers = compile_path(route.path).shape, frozenset(route.methods), frozenset(route.headers)
            for other, other_shape, other_methods, other_headers in seen:
                overlap = not methods or not other_methods or methods & other_methods
                if shape == other_shape and headers == other_headers and overlap:
                    raise Invalid(where, f"{route.path} duplicates {other} (same path and an overlapping method)")
            seen.append((where, shape, methods, headers))
