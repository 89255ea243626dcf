"""``python -m strangler_proxy --config FILE``: the proxy on its public port, the admin API on another.

::

    python -m strangler_proxy --config strangler_proxy/example.yaml            # 127.0.0.1:8080 and :8081
    STRANGLER_LISTEN=127.0.0.1:9080 STRANGLER_ADMIN_LISTEN=127.0.0.1:9081 python -m strangler_proxy --config F

Several instances may run side by side (other ports): they share the state store named in the config.
``--workers N`` runs N processes on the same ports (strangler_proxy.workers).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from strangler_proxy.clients import CLIENTS
from strangler_proxy.config import ConfigError, load_config
from strangler_proxy.model import AdminToken
from strangler_proxy.server import Launch, configure_logging, run, worker
from strangler_proxy.state import open_store
from strangler_proxy.workers import Supervisor, bind

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


class StoreUnavailable(Exception):
    pass


def _probe_store(url: str) -> None:
    """Opens the state store once (creating its tables), so a bad url or a store that is down is reported here,
    once, rather than by every worker. ``ValueError`` for a url of an unknown kind."""
    try:
        open_store(url).close()
    except ValueError:
        raise
    except Exception as exc:  # psycopg, redis, sqlite: each has its own errors
        raise StoreUnavailable(f"state store {url}: {exc}".splitlines()[0]) from None


class CannotListen(Exception):
    pass


def _listen(public: str, admin: str) -> tuple[socket.socket, socket.socket]:
    """Both listening sockets, or ``CannotListen`` (and neither left open)."""
    try:
        public_socket = bind(*_host_port(public))
    except OSError as exc:
        raise CannotListen(f"cannot listen on {public}: {exc.strerror or exc}") from None
    try:
        return public_socket, bind(*_host_port(admin))
    except OSError as exc:
        public_socket.close()
        raise CannotListen(f"cannot listen on {admin}: {exc.strerror or exc}") from None


def workers(raw: str) -> int:
    """``--workers``: a positive number, or ``auto`` for one per CPU."""
    if raw == "auto":
        return os.cpu_count() or 1
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    raise argparse.ArgumentTypeError(f"expected a positive number or auto, got {raw!r}")


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
    parser.add_argument("--workers", type=workers, default=os.environ.get("STRANGLER_WORKERS", "1"),
                        help="processes sharing the port, like nginx's worker_processes (a number, or auto: one per "
                        "CPU; env STRANGLER_WORKERS); worker 0 also serves the admin API")  # fmt: skip
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.log_level, None)
    try:
        config = load_config(args.config)
        tokens = config.admin_tokens or (_dev_token(args.dev_token) if args.dev_token else ())
        if not tokens and not args.insecure_dev:  # refused before anything is opened or written
            raise ValueError("the admin API needs a token: admin.tokens in the config or STRANGLER_ADMIN_TOKEN")
        _probe_store(config.state_url)
        public_socket, admin_socket = _listen(config.listen, config.admin_listen)
    except (ConfigError, ValueError, CannotListen) as exc:  # a bad config, no admin token, a bad state url, a port
        print(f"strangler-proxy: {exc}", file=sys.stderr)
        return 2
    except (StoreUnavailable, OSError) as exc:  # the store is down; the dev token file cannot be written
        print(f"strangler-proxy: {exc}", file=sys.stderr)
        return 1
    logger.info("proxy on http://%s, admin on http://%s, state %s, %d groups, %d worker(s)", config.listen,
                config.admin_listen, config.state_url, len(config.groups), args.workers)  # fmt: skip
    try:
        launch = Launch(args, config, tokens, public_socket, admin_socket)
        if args.workers == 1:
            run(launch)
            return 0
        return Supervisor(args.workers, worker, (launch,)).run()
    except KeyboardInterrupt:
        return 0
    finally:
        public_socket.close()
        admin_socket.close()


if __name__ == "__main__":
    sys.exit(main())
