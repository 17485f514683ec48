"""
The emulator's own cost: a raw, pre-authorised ``http.client`` loop, the floor under every figure.

Digest headers are computed before the clock starts (one nonce, increasing ``nc``), answers
are read whole and not parsed, over one keep-alive connection. What remains is the emulator
(routing, Digest check, rendering, JSON encoding) and the loopback socket.
"""

from __future__ import annotations

import argparse
import http.client
import re
import time

from airflow_provider_atlas_restore.testing.digest import authorization_header
from benchmarks.common import Control, EmulatorInfo, Row, emit, log, median

ACCEPT = "application/vnd.atlas.2023-01-01+json"


class RawClient:
    """One keep-alive connection, one nonce, every header precomputed."""

    def __init__(self, info: EmulatorInfo) -> None:
        self.info = info
        self.conn = http.client.HTTPConnection(info.host, info.port, timeout=30)
        self.nc = 0
        self.conn.request("GET", f"/api/atlas/v2/groups/{info.group_id}", headers={"Accept": ACCEPT})
        answer = self.conn.getresponse()
        answer.read()
        found = re.search(r'nonce="([^"]+)"', answer.getheader("WWW-Authenticate", ""))
        if answer.status != 401 or not found:
            raise RuntimeError(f"expected a Digest challenge, got {answer.status}")
        self.nonce = found.group(1)

    def headers(self, uri: str, count: int) -> list[dict[str, str]]:
        """Precompute the headers of the next ``count`` requests to ``uri``."""
        prepared = []
        for _ in range(count):
            self.nc += 1
            auth = authorization_header(
                self.info.public_key, self.info.private_key, "GET", uri, self.nonce, self.nc
            )
            prepared.append({"Accept": ACCEPT, "Authorization": auth})
        return prepared

    def loop(self, uri: str, prepared: list[dict[str, str]]) -> tuple[float, int]:
        """Send every prepared request in turn; return the wall time and the body bytes read."""
        received = 0
        started = time.perf_counter()
        for headers in prepared:
            self.conn.request("GET", uri, headers=headers)
            answer = self.conn.getresponse()
            received += len(answer.read())
            if answer.status != 200:
                raise RuntimeError(f"{uri} answered {answer.status}")
        return time.perf_counter() - started, received

    def challenges(self, uri: str, count: int) -> float:
        """Send ``count`` unauthenticated requests (each answered 401); return the wall time."""
        started = time.perf_counter()
        for _ in range(count):
            self.conn.request("GET", uri, headers={"Accept": ACCEPT})
            self.conn.getresponse().read()
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    info = EmulatorInfo.from_env()
    control = Control(info)
    client = RawClient(info)
    base = f"/api/atlas/v2/groups/{info.group_id}/clusters/{info.list_cluster}/backup/restoreJobs"
    pages = -(-info.list_jobs // 500)
    listing_uris = [
        f"{base}?pageNum={page}&itemsPerPage=500&includeCount=true" for page in range(1, pages + 1)
    ]
    job_id = control("pending_jobs", count=1, ready_after=3600.0)[0]
    job_uri = f"/api/atlas/v2/groups/{info.group_id}/clusters/{info.wait_cluster}/backup/restoreJobs/{job_id}"
    listing, gets, challenges, cpu_listing, cpu_get = [], [], [], [], []
    batch = 500
    for index in range(args.runs + 1):
        prepared = [(uri, client.headers(uri, 1)[0]) for uri in listing_uris]
        before = control("cpu")
        started = time.perf_counter()
        for uri, headers in prepared:
            client.loop(uri, [headers])
        seconds = time.perf_counter() - started
        cpu_after_listing = control("cpu")
        get_headers = client.headers(job_uri, batch)
        get_seconds, _ = client.loop(job_uri, get_headers)
        cpu_after_gets = control("cpu")
        challenge_seconds = client.challenges(job_uri, 100)
        log(
            f"  emulator cost run {index + 1}/{args.runs + 1}: listing {seconds:.3f}s, {batch / get_seconds:.0f} GET/s"
        )
        if index:
            listing.append(seconds)
            gets.append(get_seconds / batch)
            challenges.append(challenge_seconds / 100)
            cpu_listing.append(cpu_after_listing - before)
            cpu_get.append((cpu_after_gets - cpu_after_listing) / batch)
    control.close()
    rows = [
        Row(
            "E1",
            f"emulator floor: list {info.list_jobs:,} jobs, raw pre-authorised loop ({pages} pages)",
            median(listing),
            "s",
            None,
            "n/a",
            "reference for 3b",
            None,
            runs=args.runs,
            note=f"emulator CPU {median(cpu_listing):.2f} s per listing",
        ),
        Row(
            "E2",
            "emulator floor: one authorised GET of a restore job (what a trigger poll costs the server)",
            1000 * median(gets),
            "ms",
            None,
            "n/a",
            "reference for 5",
            None,
            runs=args.runs,
            note=(
                f"{1 / median(gets):.0f} requests/s on one connection; emulator CPU "
                f"{1000 * median(cpu_get):.2f} ms each; a 401 challenge: {1000 * median(challenges):.2f} ms"
            ),
        ),
    ]
    emit(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
