from __future__ import annotations

import logging
import re
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.aws.names import is_queue_url
from events.handlers import handler_table

logger = logging.getLogger("events.consume")
_CONSUMER = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_REGION = re.compile(r"^https://sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/")
_LIMITS = {"wait_seconds": (0, 20), "visibility_timeout": (0, 43_200), "max_messages": (1, 10)}


class _Stop(BaseException):
    """Raised from the signal handler to abandon a long poll when no batch is in hand."""


def _whole(name: str, value: Any) -> int:
    low, high = _LIMITS[name]
    flag = "--" + name.replace("_", "-")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CommandError(f"{flag} must be a whole number, got {value!r}", returncode=2) from None
    if not low <= number <= high:
        raise CommandError(f"{flag} must be from {low} to {high}, got {number}", returncode=2)
    return number


class Command(BaseCommand):
    help = (
        "Consume events from an SQS queue into a consumer's inbox: long-poll, run each message through the "
        "consumer's handlers once and in per-aggregate order, delete what is done, hide what must wait or retry "
        "for the inbox's backoff. Messages may be envelopes sent directly or events an EventBridge rule delivered. "
        "Runs until SIGTERM/SIGINT (the batch in hand is finished first). AWS credentials, region and endpoint "
        "come from the usual AWS environment."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sqs", metavar="QUEUE_URL", help="the queue's URL")
        parser.add_argument("--consumer", metavar="NAME", help="the consumer whose handlers run (EVENTS HANDLERS)")
        parser.add_argument("--wait-seconds", default="20", help="long-poll wait, 0-20 (default: 20)")
        parser.add_argument("--visibility-timeout", default=None, metavar="S",
                            help="hide received messages this long (default: the queue's setting)")  # fmt: skip
        parser.add_argument("--max-messages", default="10", help="messages per receive, 1-10 (default: 10)")
        parser.add_argument("--once", action="store_true", help="one receive round, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        queue_url, consumer = options["sqs"], options["consumer"]
        if not queue_url or not is_queue_url(queue_url):
            raise CommandError(
                f"--sqs needs the queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got {queue_url!r}",
                returncode=2,
            )
        if not consumer or not _CONSUMER.match(consumer):
            raise CommandError(f"--consumer {consumer!r} may hold only letters, digits, '.', '_' and '-' (1-64)",
                               returncode=2)  # fmt: skip
        known = handler_table().consumers()
        if consumer not in known:
            # Consuming as an unknown consumer would mark every message 'ignored' and delete it.
            raise CommandError(
                f"--consumer {consumer!r} has no handlers in EVENTS HANDLERS (known: {', '.join(known) or 'none'})",
                returncode=2,
            )
        wait = _whole("wait_seconds", options["wait_seconds"])
        visibility = options["visibility_timeout"]
        consumer_loop = self._consumer(
            queue_url, consumer, wait, None if visibility is None else _whole("visibility_timeout", visibility),
            _whole("max_messages", options["max_messages"]),
        )  # fmt: skip
        self._run(consumer_loop, once=options["once"])

    def _consumer(self, queue_url: str, consumer: str, wait: int, visibility: int | None, most: int) -> Any:
        import boto3

        from events.aws.sqs_consumer import SqsConsumer
        from events.aws.targets import client_config

        region = _REGION.match(queue_url)
        session = boto3.session.Session(region_name=region[1]) if region else boto3.session.Session()
        client = session.client("sqs", config=client_config(read_timeout=wait + 10))
        return SqsConsumer(
            queue_url=queue_url, consumer=consumer, client=client, wait_seconds=wait, visibility_timeout=visibility,
            max_messages=most,
        )  # fmt: skip

    def _run(self, consumer: Any, *, once: bool) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        def on_signal(signum: int, frame: Any) -> None:
            logger.info("%s received: finishing the batch in hand, then stopping", signal.Signals(signum).name)
            consumer.stop()
            if not consumer.busy:
                raise _Stop  # idle in a long poll: nothing is lost by leaving it (SQS re-offers its messages)

        previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        logger.info("consuming %s as %s (wait %ss, up to %d messages per receive)", consumer.queue_url,
                    consumer.consumer, consumer.wait_seconds, consumer.max_messages)  # fmt: skip
        try:
            stats = consumer.run(once=once)
        except _Stop:
            stats = None
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"receiving from {consumer.queue_url}: {exc}") from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        summary = stats.summary() if stats is not None else "stopped while waiting"
        self.stdout.write(f"events_consume {consumer.consumer}: {summary}")
