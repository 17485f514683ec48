"""``python -m airflow_provider_atlas_restore.testing serve ...``."""

from __future__ import annotations

import sys

from airflow_provider_atlas_restore.testing.cli import main

if __name__ == "__main__":
    sys.exit(main())
