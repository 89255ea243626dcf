"""``python -m strangler_proxy --config FILE``: the proxy on its public port, the admin API on another.

::

    python -m strangler_proxy --config strangler_proxy/example.yaml            # 127.0.0.1:8080 and :8081
    STRANGLER_LISTEN=127.0.0.1:9080 STRANGLER_ADMIN_LISTEN=127.0.0.1:9081 python -m strangler_proxy --config F

Several instances may run side by side (other ports): they share the state store named in the config.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from strangler_proxy.admin import AdminApp
from strangler_proxy.app import ProxyApp
from strangler_proxy.clients import CLIENTS
from strangler_proxy.config import ConfigError, load_config
from strangler_proxy.model import AdminToken
from strangler_proxy.state import open_store

logger = logging.getLogger("strangler_proxy")


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def _dev_token(path: Path) -> tuple[AdminToken, ...]:
    token = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(token + "\n")
    logger.warning("admin API dev token (also in %s): %s", path, token)
    return (AdminToken(name="dev", token=token),)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="strangler-proxy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="the proxy's YAML config")
    parser.add_argument("--insecure-dev", action="store_true",
                        help="allow an admin API without a token (local development only)")  # fmt: skip
    parser.add_argument("--dev-token", type=Path, default=None, metavar="FILE",
                        help="local development: when the config names no admin token, make one, print it and write "
                        "it to FILE (mode 0600)")  # fmt: skip
    parser.add_argument("--client", choices=sorted(CLIENTS), default="auto",
                        help="upstream client (auto: the lean HTTP/1.1 one for http, aiohttp for https)")  # fmt: skip
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    tokens = config.admin_tokens or (_dev_token(args.dev_token) if args.dev_token else ())
    if not tokens and not args.insecure_dev:  # refused before anything is opened or written
        raise ValueError("the admin API needs a token: admin.tokens in the config or STRANGLER_ADMIN_TOKEN")
    store = open_store(config.state_url)
    proxy = ProxyApp(config, store, client_factory=CLIENTS[args.client])
    admin = AdminApp(proxy, tokens, insecure=args.insecure_dev)
    host, port = _host_port(config.listen)
    admin_host, admin_port = _host_port(config.admin_listen)
    common = {"loop": "uvloop", "http": "httptools", "access_log": False, "log_config": None, "server_header": False,
              "date_header": False, "timeout_keep_alive": 30,
              # The proxy writes X-Forwarded-* itself: uvicorn must not replace the client's address with what
              # the client claims in its own X-Forwarded-For.
              "proxy_headers": False}  # fmt: skip
    public = uvicorn.Server(uvicorn.Config(proxy, host=host, port=port, lifespan="on", **common))  # type: ignore[arg-type]
    private = uvicorn.Server(uvicorn.Config(admin, host=admin_host, port=admin_port, lifespan="off", **common))  # type: ignore[arg-type]
    logger.info("proxy on http://%s:%d, admin on http://%s:%d, state %s, %d groups", host, port, admin_host,
                admin_port, config.state_url, len(config.groups))  # fmt: skip
    servers = [public, private]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        # One signal handler wins between the two servers: whichever stops first stops the other.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        asyncio.run(serve(args))
    except ConfigError as exc:
        print(f"strangler-proxy: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # no admin token, a bad state url
        print(f"strangler-proxy: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
