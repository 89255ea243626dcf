"""Serving: one process's public server and admin API on pre-bound sockets, under uvloop.

``run`` serves in this process (``--workers 1``); ``worker`` is what each of ``--workers N`` runs
(strangler_proxy.workers). They live here, not in ``__main__``, because spawned processes import their target
by module name.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn
import uvloop

from strangler_proxy.admin import AdminApp
from strangler_proxy.app import ProxyApp
from strangler_proxy.clients import CLIENTS
from strangler_proxy.coalesce import CoalescingHttpToolsProtocol
from strangler_proxy.model import AdminToken, ProxyConfig
from strangler_proxy.state import open_store


def configure_logging(level: str, worker: int | None) -> None:
    where = "" if worker is None else f" worker-{worker}"
    logging.basicConfig(level=level.upper(), format=f"%(asctime)s %(levelname)s %(name)s{where} %(message)s")


@dataclass(frozen=True)
class Launch:
    """What every serving process gets: the parsed command line, the loaded config, the admin tokens and the
    sockets the parent bound. Picklable, for spawned workers."""

    args: argparse.Namespace
    config: ProxyConfig
    tokens: tuple[AdminToken, ...]
    public_socket: socket.socket
    admin_socket: socket.socket


async def serve(launch: Launch, *, admin: bool, ready: Any = None) -> None:
    """One process: the public port, and the admin API when ``admin``. ``ready`` (an event) is set once both
    serve."""
    store = open_store(launch.config.state_url)
    proxy = ProxyApp(launch.config, store, client_factory=CLIENTS[launch.args.client])
    common = {"loop": "none", "http": CoalescingHttpToolsProtocol, "access_log": False, "log_config": None,
              "server_header": False, "date_header": False, "timeout_keep_alive": 30,
              # The proxy writes X-Forwarded-* itself: uvicorn must not replace the client's address with what
              # the client claims in its own X-Forwarded-For.
              "proxy_headers": False}  # fmt: skip
    servers = [(uvicorn.Server(uvicorn.Config(proxy, lifespan="on", **common)), launch.public_socket)]  # type: ignore[arg-type]
    if admin:
        admin_app = AdminApp(proxy, launch.tokens, insecure=launch.args.insecure_dev)
        servers.append((uvicorn.Server(uvicorn.Config(admin_app, lifespan="off", **common)), launch.admin_socket))  # type: ignore[arg-type]
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
    if ready is not None:
        while not all(server.started for server, _ in servers) and not any(task.done() for task in tasks):
            await asyncio.sleep(0.05)
        if all(server.started for server, _ in servers):
            ready.set()
    try:
        # One signal handler wins between the two servers: whichever stops first stops the other.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for server, _ in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)
    finally:
        store.close()


def run(launch: Launch, *, admin: bool = True, ready: Any = None) -> None:
    # uvicorn sets up its event loop only in Server.run(); serving two servers on one loop means making it here.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(launch, admin=admin, ready=ready))


def worker(index: int, ready: Any, launch: Launch) -> None:
    """One of ``--workers N`` (a spawned process): worker 0 serves the admin API too."""
    configure_logging(launch.args.log_level, index)
    with contextlib.suppress(KeyboardInterrupt):
        run(launch, admin=index == 0, ready=ready)
