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


async def serve(
    args: argparse.Namespace,
    config: ProxyConfig,
    tokens: tuple[AdminToken, ...],
    public_socket: socket.socket,
    admin_socket: socket.socket | None,
    ready: Any = None,
) -> None:
    """One process: the public port, and the admin API when it is given the admin socket. ``ready`` (an event)
    is set once both serve."""
    store = open_store(config.state_url)
    proxy = ProxyApp(config, store, client_factory=CLIENTS[args.client])
    common = {"loop": "none", "http": CoalescingHttpToolsProtocol, "access_log": False, "log_config": None,
              "server_header": False, "date_header": False, "timeout_keep_alive": 30,
              # The proxy writes X-Forwarded-* itself: uvicorn must not replace the client's address with what
              # the client claims in its own X-Forwarded-For.
              "proxy_headers": False}  # fmt: skip
    servers = [(uvicorn.Server(uvicorn.Config(proxy, lifespan="on", **common)), public_socket)]  # type: ignore[arg-type]
    if admin_socket is not None:
        admin = AdminApp(proxy, tokens, insecure=args.insecure_dev)
        servers.append((uvicorn.Server(uvicorn.Config(admin, lifespan="off", **common)), admin_socket))  # type: ignore[arg-type]
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


def run(
    args: argparse.Namespace,
    config: ProxyConfig,
    tokens: tuple[AdminToken, ...],
    public_socket: socket.socket,
    admin_socket: socket.socket | None,
    ready: Any = None,
) -> None:
    # uvicorn sets up its event loop only in Server.run(); serving two servers on one loop means making it here.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(args, config, tokens, public_socket, admin_socket, ready))


def worker(
    index: int,
    ready: Any,
    args: argparse.Namespace,
    config: ProxyConfig,
    tokens: tuple[AdminToken, ...],
    public_socket: socket.socket,
    admin_socket: socket.socket,
) -> None:
    """One of ``--workers N`` (a spawned process): worker 0 serves the admin API too."""
    configure_logging(args.log_level, index)
    with contextlib.suppress(KeyboardInterrupt):
        run(args, config, tokens, public_socket, admin_socket if index == 0 else None, ready)
