from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from prometheus_client import start_http_server

from events.conf import get_config
from events.management.rules_file import load_router
from events.relay import Relay
from events.wakeup import listen

logger = logging.getLogger("events.relay")


class Command(BaseCommand):
    help = (
        "Relay committed outbox events to the broker, in order per aggregate. Runs until SIGTERM/SIGINT (the "
        "batch in flight is finished first). Several relays may run at once: they share the outbox partitions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}", help="this relay's name")
        parser.add_argument("--batch-size", type=int, default=None, help="events per batch (default: EVENTS setting)")
        parser.add_argument("--rules", type=Path, default=None, help="rules file (default: EVENTS RULES_FILE)")
        parser.add_argument("--once", action="store_true", help="send what is waiting, then exit")
        parser.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")

    def handle(self, *args: Any, **options: Any) -> None:
        config = get_config()
        if options["batch_size"] is not None:
            if options["batch_size"] < 1:
                raise CommandError("--batch-size must be at least 1", returncode=2)
            from dataclasses import replace

            config = replace(config, batch_size=options["batch_size"])
        _, router = load_router(options["rules"])
        if options["metrics_port"] is not None:
            start_http_server(options["metrics_port"], addr="127.0.0.1")
        relay = Relay(config=config, name=options["name"], router=router)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: relay.stop())
        stop_listening = threading.Event()
        if config.wakeup_redis_url and not options["once"]:
            listen(config.wakeup_redis_url, config.wakeup_channel, relay.wake, stop_listening, relay.set_wakeup_live)
        logger.info("relay %s started: broker %s, %d rules", options["name"], config.broker_url, len(router.rules))
        try:
            stats = relay.run(until_empty=options["once"])
        finally:
            stop_listening.set()
        self.stdout.write(f"relay {options['name']} stopped: {stats.sent} events sent in {stats.batches} batches")
