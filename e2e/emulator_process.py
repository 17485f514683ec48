"""The bundled Atlas emulator as a subprocess: starting it, the connection to it, its request log."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

from loopback import LOOPBACK, loopback_url
from processes import Component, Components
from timing import Deadline, wait_for

EMULATOR_PUBLIC_KEY = "e2e-public-key"
EMULATOR_PRIVATE_KEY = "e2e-private-0000-1111-2222-333344445555"
#: A create request the emulator answered 200, in its ``--verbose`` log.
_CREATED = re.compile(r'"POST \S*/backup/restoreJobs(?:\?\S*)? HTTP/1\.1" 200 ')
#: A GET of one restore job the emulator answered 200; group 1 is the job's id.
_JOB_READ = re.compile(r'"GET \S*/backup/restoreJobs/([0-9a-f]{24})(?:\?\S*)? HTTP/1\.1" 200 ')


@dataclass
class Emulator:
    """The Atlas emulator process and what it printed."""

    component: Component
    port: int
    group_id: str
    #: The connection URI of the emulator's service account, when it was started with one.
    service_account_uri: str | None = None

    @property
    def url(self) -> str:
        """The emulator's base URL."""
        return loopback_url(self.port)

    def connection_json(self) -> str:
        """The ``mongodb_atlas_default`` connection, pointing at the emulator (plain http)."""
        return json.dumps(
            {
                "conn_type": "mongodb_atlas",
                "host": LOOPBACK,
                "port": self.port,
                "login": EMULATOR_PUBLIC_KEY,
                "password": EMULATOR_PRIVATE_KEY,
                "extra": {"scheme": "http", "group_id": self.group_id, "allow_http_downloads": True},
            }
        )

    def count_job_polls(self, job_id: str) -> int:
        """How many GETs of the restore job the emulator has answered 200 (its ``--verbose`` log)."""
        return self.jobs_read().count(job_id)

    def jobs_read(self) -> list[str]:
        """The id of each restore job read (a GET answered 200), one entry a GET, oldest first."""
        return _JOB_READ.findall(self.component.log_path.read_text(errors="replace"))

    def count_jobs_created(self) -> int:
        """How many create requests the emulator has answered 200: the restore jobs it started."""
        return len(_CREATED.findall(self.component.log_path.read_text(errors="replace")))


def start_emulator(
    components: Components,
    deadline: Deadline,
    *,
    ready_after: float,
    download_size: int,
    service_account: bool = False,
) -> Emulator:
    """Start the emulator (on a port of its choosing) and wait until it says where it listens.

    With ``service_account``, the emulator also accepts a service account (a random client
    secret) and the returned emulator holds its connection URI.
    """
    argv = [
        sys.executable,
        "-m",
        "airflow_provider_atlas_restore.testing",
        "serve",
        f"--host={LOOPBACK}",
        "--port=0",
        "--seed=demo",
        f"--ready-after={ready_after:g}",
        f"--download-size={download_size}",
        f"--public-key={EMULATOR_PUBLIC_KEY}",
        f"--private-key={EMULATOR_PRIVATE_KEY}",
        "--verbose",  # one log line per request: shows when the triggerer polls
    ]
    if service_account:
        argv.append("--service-account")
    component = components.start("emulator", argv)

    def printed() -> tuple[int, str, str | None] | None:
        port = group_id = account_uri = None
        for line in component.log_path.read_text(errors="replace").splitlines():
            if line.startswith("Atlas emulator listening on "):
                port = int(line.rsplit(":", 1)[1])
            elif line.startswith("project "):
                group_id = line.split()[1].rstrip(":")
            elif line.startswith("export AIRFLOW_CONN_MONGODB_ATLAS_SERVICE_ACCOUNT="):
                account_uri = line.split("=", 1)[1].strip("'")
        if not port or not group_id or (service_account and not account_uri):
            return None
        return port, group_id, account_uri

    port, group_id, account_uri = wait_for(
        "the Atlas emulator to listen",
        printed,
        timeout=30,
        deadline=deadline,
        components=components,
        interval=0.1,
    )
    return Emulator(component, port, group_id, account_uri)
