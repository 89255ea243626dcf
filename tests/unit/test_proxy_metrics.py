"""The request-path metrics are exposed in the Prometheus text format like the library's own would be."""

from __future__ import annotations

import uuid

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from strangler_proxy import metrics


def samples(name: str, group: str) -> dict[tuple[str, ...], float]:
    found = {}
    for family in text_string_to_metric_families(generate_latest().decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("group") == group:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_requests_are_counted_per_group_upstream_and_status() -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    for status in ("2xx", "2xx", "5xx"):
        metrics.count_request(group, "monolith", status)
    got = {dict(k)["status"]: v for k, v in samples("strangler_proxy_requests_total", group).items()}
    assert got == {"2xx": 2.0, "5xx": 1.0}


def test_latency_histogram_buckets_are_cumulative_with_le_inclusive() -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    for seconds in (0.0004, 0.001, 0.003, 20.0):
        metrics.observe_latency(group, "svc", seconds)
    buckets = {dict(k)["le"]: v for k, v in samples("strangler_proxy_upstream_seconds_bucket", group).items()}
    assert (buckets["0.0005"], buckets["0.001"], buckets["0.0025"], buckets["0.005"]) == (1.0, 2.0, 2.0, 3.0)
    assert (buckets["10.0"], buckets["+Inf"]) == (3.0, 4.0)
    (count,) = samples("strangler_proxy_upstream_seconds_count", group).values()
    (total,) = samples("strangler_proxy_upstream_seconds_sum", group).values()
    assert count == 4.0 and abs(total - 20.0044) < 1e-9
