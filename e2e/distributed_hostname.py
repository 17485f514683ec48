"""The host name a test worker reports to Airflow: each worker's ``[core] hostname_callable``.

The distributed run's two Celery workers run on one machine, so the real host name would not tell
them apart in the task-instance history. Each worker gets a copy of this module on its
``PYTHONPATH`` and ``ATLAS_E2E_WORKER_HOSTNAME`` in its environment (its task processes inherit
both), and ``AIRFLOW__CORE__HOSTNAME_CALLABLE=distributed_hostname.worker_hostname``.
"""

from __future__ import annotations

import os

WORKER_HOSTNAME_VARIABLE = "ATLAS_E2E_WORKER_HOSTNAME"


def worker_hostname() -> str:
    """Return this worker's name, from ``ATLAS_E2E_WORKER_HOSTNAME``."""
    return os.environ[WORKER_HOSTNAME_VARIABLE]
