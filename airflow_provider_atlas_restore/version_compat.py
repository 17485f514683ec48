"""
Which Airflow this process runs on, for the few places where 2.11 and 3.x really differ.

The provider's own code needs no such switch: ``airflow.providers.common.compat`` maps every
import onto both. What remains (how ``dag.test()`` leaves XCom behind, in ``testing/dag_runs.py``;
how the tests read log output, in ``tests/conftest.py``) branches on this one flag, always
imported from here, so a search for it finds every switch. Importing this module imports Airflow.
"""

from __future__ import annotations

from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

__all__ = ["AIRFLOW_V_3_0_PLUS"]
