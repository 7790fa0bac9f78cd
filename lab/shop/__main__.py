"""``python -m aftershock.lab.shop``: run one shop pod.

The database password comes from ``PGPASSWORD`` (read by libpq) and the token key from
``SHOP_TOKEN_KEY``; neither is ever accepted on the command line, where ``ps`` would show it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import psycopg
from psycopg.conninfo import conninfo_to_dict

from aftershock.lab.shop.app import create_app
from aftershock.lab.shop.server import DrainingServer, uvicorn_config
from aftershock.lab.shop.settings import Settings


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m aftershock.lab.shop", description="Run one shop pod.")
    parser.add_argument("--name", required=True, help="pod name, e.g. shop-us-east-1a-x7k2")
    parser.add_argument("--region", required=True)
    parser.add_argument("--az", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--writer", required=True, help="libpq conninfo of the writer endpoint (no password)")
    parser.add_argument("--reader", required=True, help="libpq conninfo of the reader endpoint (no password)")
    parser.add_argument("--reader-pool", type=int, default=4, help="max reader connections")
    parser.add_argument("--writer-pool", type=int, default=4, help="max writer connections")
    parser.add_argument("--drain", type=float, default=0.5, help="seconds unready before stopping on SIGTERM")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace, env: dict[str, str]) -> Settings:
    """Settings from parsed argv and the environment; exits with a usage error on bad input."""
    key = env.get("SHOP_TOKEN_KEY", "")
    if not key:
        sys.exit("aftershock.lab.shop: SHOP_TOKEN_KEY must be set (the shared token-signing key)")
    for flag in ("writer", "reader"):
        try:
            fields = conninfo_to_dict(getattr(args, flag))
        except psycopg.ProgrammingError as exc:
            sys.exit(f"aftershock.lab.shop: --{flag} is not a valid conninfo: {exc}")
        if "password" in fields:
            sys.exit(f"aftershock.lab.shop: --{flag} must not carry a password; set PGPASSWORD instead")
    return Settings(
        name=args.name,
        region=args.region,
        az=args.az,
        host=args.host,
        port=args.port,
        writer=args.writer,
        reader=args.reader,
        token_key=key.encode(),
        reader_pool_max=args.reader_pool,
        writer_pool_max=args.writer_pool,
        drain_s=args.drain,
    )


def main(argv: Sequence[str] | None = None) -> int:
    settings = settings_from(parse_args(argv), dict(os.environ))
    # Warnings only (pool reconnects, failed attempts), stamped so a pod's log lines up with the experiment.
    logging.basicConfig(
        level=logging.WARNING, format=f"%(asctime)s %(levelname)s {settings.name} %(name)s: %(message)s"
    )
    app = create_app(settings)
    server = DrainingServer(
        uvicorn_config(app, settings.host, settings.port),
        drain_s=settings.drain_s,
        on_drain=app.state.pod.begin_drain,
    )
    server.run()
    return 0 if server.started else 3  # uvicorn's own code for "startup failed"


if __name__ == "__main__":
    sys.exit(main())
