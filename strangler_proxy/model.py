"""The proxy's configuration as typed, frozen values: what ``strangler_proxy.config.load_config`` returns.

::

    upstreams:                                   # the only hosts the proxy can ever reach
      monolith: {url: "http://127.0.0.1:8000"}
      inventory: {url: "http://127.0.0.1:8101", timeouts: {connect: 1, read: 5}, pool: 100,
                  breaker: {failures: 5, open_seconds: 10}}
    groups:
      inventory:
        service: inventory                       # the upstream that takes over from the monolith
        mode: shadow                             # initial mode; the live one is in the state store
        percent: 0
        sticky:                                  # the first key present in the request picks the bucket
          default: monolith                      # where a request without any key goes in canary mode
          keys:
            - {from: path, name: sku}
            - {from: path, name: reservation_id, embedded: true}   # an id minted by record_ids.mint_record_id
        writes: at-cutover                       # unsafe methods stay on the monolith until mode service
        cutover: {capability: inventory, timeout: 30, hold_timeout: 10}
        shadow: {writes: skip, sample_rate: 1.0, queue: 1000, timeout: 2,
                 ignore_paths: ["$.updated_at", "$.items[*].etag"], ignore_headers: [date, server]}
        rollback: {window_seconds: 60, min_requests: 50, error_rate: 0.05, p99_ms: 800, mismatch_rate: 0.02}
        routes:
          - {path: "/api/stock/<str:sku>/", methods: [GET]}
          - {path: "/api/stock/reservations/", methods: [POST], headers: {X-Client: mobile}}
          - {path: "/api/stock/reservations/<uuid:reservation_id>/", methods: [GET]}

The single-key form ``sticky: {from: header, name: X-Customer-Id, default: monolith}`` is one key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    MONOLITH = "monolith"
    SHADOW = "shadow"
    CANARY = "canary"
    SERVICE = "service"


class KeySource(StrEnum):
    HEADER = "header"
    COOKIE = "cookie"
    QUERY = "query"
    PATH = "path"  # a path parameter of the matched route, by its name
    JSON = "json"  # a field of the JSON request body, by a dotted path ("customer.id")


class Side(StrEnum):
    MONOLITH = "monolith"
    SERVICE = "service"


class Writes(StrEnum):
    """Where a group's unsafe methods go before cut-over."""

    FOLLOW = "follow"  # like reads: by the canary's buckets
    AT_CUTOVER = "at-cutover"  # the monolith in every mode but service (the capability's writes move as a whole)


class WritePolicy(StrEnum):
    SKIP = "skip"  # unsafe methods are never shadowed
    DRY_RUN = "dry-run"  # shadowed with X-Strangler-Shadow: 1; the service runs them and rolls back


@dataclass(frozen=True, kw_only=True)
class Breaker:
    failures: int = 5  # consecutive failures that open the breaker
    open_seconds: float = 10.0  # how long it stays open before one half-open trial


@dataclass(frozen=True, kw_only=True)
class Upstream:
    name: str
    url: str  # scheme://host:port[/prefix], http or https
    connect_timeout: float = 1.0
    read_timeout: float = 10.0
    pool: int = 100  # keep-alive connections at most
    breaker: Breaker = field(default_factory=Breaker)


@dataclass(frozen=True, kw_only=True)
class StickyKey:
    source: KeySource
    name: str  # header (lower case), cookie, query or path parameter name; a dotted path for json
    embedded: bool = False  # the value is a record id carrying its bucket (strangler_proxy.record_ids)


@dataclass(frozen=True, kw_only=True)
class Sticky:
    keys: tuple[StickyKey, ...]  # tried in order: the first one present in the request picks the bucket
    default: Side = Side.MONOLITH  # where a request without any key goes in canary mode

    @property
    def reads_json(self) -> bool:
        return any(key.source is KeySource.JSON for key in self.keys)


DEFAULT_HOLD_TIMEOUT = 10.0


@dataclass(frozen=True, kw_only=True)
class Cutover:
    """The write barrier of ``PATCH /routes/{group} {"mode": "service"}`` (docs/extraction.md, "Write barrier")."""

    capability: str  # in the monolith's fence URL: /internal/ownership/<capability>/fence
    timeout: float = 30.0  # seconds for the fence and the service's catch-up together
    hold_timeout: float = DEFAULT_HOLD_TIMEOUT  # seconds an unsafe request may stay parked before it gets 503
    token_env: str = "STRANGLER_INTERNAL_TOKEN"  # the variable holding the internal bearer token
    # Before holding writes, wait (within ``timeout``) until the service is at most this many events behind, so
    # the pause covers only the last few events, not a backlog.
    converge_events: int = 10


@dataclass(frozen=True, kw_only=True)
class ShadowPolicy:
    writes: WritePolicy = WritePolicy.SKIP
    sample_rate: float = 1.0  # share of eligible requests copied, 0..1
    queue: int = 1000  # copies waiting at most; when full, new copies are dropped and counted
    timeout: float = 2.0  # seconds for the copy's whole exchange
    ignore_paths: tuple[str, ...] = ()  # JSON paths ignored in body comparison: "$.a.b", "$.items[*].id"
    ignore_headers: tuple[str, ...] = ()  # response headers left out of the comparison (lower case)
    compare_headers: tuple[str, ...] = ("content-type",)  # response headers compared (lower case)
    max_body_bytes: int = 1_048_576  # bodies buffered for comparison at most; larger ones are not compared


@dataclass(frozen=True, kw_only=True)
class Rollback:
    window_seconds: float = 60.0
    min_requests: int = 50  # no verdict on fewer requests in the window
    error_rate: float | None = 0.05  # service 5xx/connect errors/timeouts over service requests
    p99_ms: float | None = None  # service p99 latency
    mismatch_rate: float | None = None  # shadow mismatches over compared shadow exchanges


@dataclass(frozen=True, kw_only=True)
class Route:
    path: str  # Django-style pattern: "/api/orders/<int:order_id>/"
    methods: tuple[str, ...] = ()  # upper case; empty = any
    headers: tuple[tuple[str, str], ...] = ()  # (lower-case name, exact value) all required


@dataclass(frozen=True, kw_only=True)
class Group:
    name: str
    service: str  # upstream name
    routes: tuple[Route, ...]
    mode: Mode = Mode.MONOLITH  # initial mode (the state store holds the live one)
    percent: float = 0.0  # initial canary percent, 0..100
    sticky: Sticky | None = None
    writes: Writes = Writes.FOLLOW
    cutover: Cutover | None = None
    shadow: ShadowPolicy = field(default_factory=ShadowPolicy)
    rollback: Rollback = field(default_factory=Rollback)

    @property
    def hold_timeout(self) -> float:
        return self.cutover.hold_timeout if self.cutover else DEFAULT_HOLD_TIMEOUT


@dataclass(frozen=True, kw_only=True)
class AdminToken:
    name: str  # who, in the audit log
    token: str


@dataclass(frozen=True, kw_only=True)
class ProxyConfig:
    upstreams: dict[str, Upstream]
    groups: dict[str, Group]
    monolith: str = "monolith"  # the upstream unmatched requests go to
    listen: str = "127.0.0.1:8080"
    admin_listen: str = "127.0.0.1:8081"
    state_url: str = "sqlite:///var/proxy-state.sqlite3"  # or postgres://…, redis://…
    max_body_bytes: int = 10_485_760  # larger request bodies get 413
    upstream_header: bool = True  # X-Strangler-Upstream on responses
    admin_tokens: tuple[AdminToken, ...] = ()
    mismatch_retention: int = 1000  # stored mismatches kept per group
