"""``Idempotency-Key`` for writes: a repeat returns the first result and never has a second effect.

::

    def post(self, request):
        return run_idempotent(request, lambda: (201, order_place(...)))

The key's record and the write commit in one transaction. A concurrent repeat waits on the key's unique
index and then replays the stored result. A failed write stores nothing (it rolled back), so retrying a
declined or failed call with the same key runs it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from monolith.core.errors import DomainError
from monolith.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


def _fingerprint(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(request: Request, write: Callable[[], tuple[int, Any]]) -> Response:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        with transaction.atomic():
            status, body = write()
        return Response(body, status=status)
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.", code="invalid_idempotency_key"
        )
    fingerprint = _fingerprint(request.data)
    identity = {"principal_id": request.user.pk, "method": request.method, "path": request.path, "key": key}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(request_hash=fingerprint, **identity)
        except IntegrityError:
            return _replay(IdempotencyRecord.objects.get(**identity), fingerprint)
        status, body = write()
        record.response_status = status
        record.response_body = body
        record.save(update_fields=["response_status", "response_body"])
    return Response(body, status=status)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})
