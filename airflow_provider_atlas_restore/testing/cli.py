"""Command line: ``python -m airflow_provider_atlas_restore.testing serve``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_atlas_restore.testing.emulator import AtlasEmulator
from airflow_provider_atlas_restore.testing.seeding import seed_demo

__all__ = ["main"]

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_atlas_restore.testing",
        description="Run a local MongoDB Atlas restore-job API emulator.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve until interrupted (SIGINT or SIGTERM)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument("--seed", default="demo", choices=["demo", "empty"], help="initial contents")
    serve.add_argument(
        "--flex", action="store_true", help="demo seed: also add flex cluster Flex0 with snapshots"
    )
    serve.add_argument("--ready-after", type=float, default=30.0, help="seconds until new jobs are ready")
    serve.add_argument("--download-size", type=int, default=1 << 20, help="bytes per seeded archive")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    serve.add_argument("--public-key", default="pubkey")
    serve.add_argument("--private-key", default="privkey-0000-1111-2222-333344445555")
    serve.add_argument("--conn-id", default="mongodb_atlas_default", help="for the AIRFLOW_CONN_ line")
    serve.add_argument(
        "--service-account",
        action="store_true",
        help="also accept a service account (OAuth) and print a connection for it",
    )
    serve.add_argument(
        "--service-account-conn-id",
        default="mongodb_atlas_service_account",
        help="for the service account's AIRFLOW_CONN_ line",
    )
    serve.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status.

    :param argv: arguments (default ``sys.argv[1:]``).
    """
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    emu = AtlasEmulator(
        args.public_key,
        args.private_key,
        seed=f"cli-{args.seed}",
        host=args.host,
        port=args.port,
        ready_after=args.ready_after,
    )
    emu.latency = args.latency
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    # SIGUSR1 adds a completed snapshot to the seeded Cluster0, taken now (for the e2e snapshot watcher).
    snapshots_asked: list[int] = []
    signal.signal(signal.SIGUSR1, lambda signum, frame: snapshots_asked.append(signum))
    with emu:
        seeded = (
            seed_demo(emu, size_bytes=args.download_size, flex=args.flex) if args.seed == "demo" else None
        )
        group_id = seeded.group_id if seeded else None
        print(f"Atlas emulator listening on {emu.base_url}", flush=True)
        if group_id:
            flex = ", Flex0 (flex)" if args.flex else ""
            print(
                f"project {group_id}: clusters Cluster0 (replica set), Sharded0 (sharded){flex}", flush=True
            )
        _print_connection(args.conn_id, emu.connection_uri(group_id=group_id))
        if args.service_account:
            account = emu.add_service_account()
            print(f"service account {account[0]} (OAuth client credentials):", flush=True)
            uri = emu.connection_uri(group_id=group_id, service_account=account)
            _print_connection(args.service_account_conn_id, uri)
        while not done.wait(0.1):
            while snapshots_asked and seeded:
                snapshots_asked.pop()
                added = emu.add_snapshot(group_id or "", seeded.cluster_name, size_bytes=args.download_size)
                print(f"added snapshot {added['id']} to {seeded.cluster_name}", flush=True)
    print("Atlas emulator stopped", file=sys.stderr, flush=True)
    return 0


def _print_connection(conn_id: str, uri: str) -> None:
    """Print a connection URI and the ``export AIRFLOW_CONN_...`` line that defines it.

    :param conn_id: the connection id of the ``export`` line.
    :param uri: the connection URI.
    """
    print(uri, flush=True)
    print(f"export AIRFLOW_CONN_{conn_id.upper()}='{uri}'", flush=True)
