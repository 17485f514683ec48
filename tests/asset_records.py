"""Read back what Airflow recorded for an asset: its events and the DAG runs its events queued (3.x and 2.11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_atlas_restore.version_compat import AIRFLOW_V_3_0_PLUS


def _tables() -> tuple[Any, Any, Any, Any]:
    """Return (asset model, its name column, event model, queue model): Assets on 3.x, Datasets on 2.11."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel

        return AssetModel, AssetModel.name, AssetEvent, AssetDagRunQueue
    from airflow.models.dataset import DatasetDagRunQueue, DatasetEvent, DatasetModel

    return DatasetModel, DatasetModel.uri, DatasetEvent, DatasetDagRunQueue


def _asset_id_column(table: Any) -> Any:
    return table.asset_id if AIRFLOW_V_3_0_PLUS else table.dataset_id


def asset_events(name: str, run_id: str) -> list[dict[str, Any]]:
    """
    Return the extra of each event the run ``run_id`` emitted for the asset named ``name``.

    :param name: the asset's name as written (its URI on 2.11, where a Dataset has no name).
    :param run_id: the producing DAG run.
    """
    from airflow.utils.session import create_session

    model, name_column, event, _ = _tables()
    with create_session() as session:
        rows = (
            session.query(event)
            .join(model, _asset_id_column(event) == model.id)
            .filter(name_column == _stored(name), event.source_run_id == run_id)
            .all()
        )
        return [dict(row.extra or {}) for row in rows]


def queued_dag_ids(name: str) -> set[str]:
    """
    Return the DAGs queued to run by an event of the asset named ``name`` (the scheduler's asset queue).

    :param name: the asset's name as written (its URI on 2.11).
    """
    from airflow.utils.session import create_session

    model, name_column, _, queue = _tables()
    with create_session() as session:
        rows = (
            session.query(queue.target_dag_id)
            .join(model, _asset_id_column(queue) == model.id)
            .filter(name_column == _stored(name))
            .all()
        )
        return {row.target_dag_id for row in rows}


def _stored(name: str) -> str:
    """Return how the metadata database keeps ``name``: as written on 3.x; as a normalised Dataset URI on 2.11."""
    if AIRFLOW_V_3_0_PLUS:
        return name
    from airflow.providers.common.compat.assets import Asset

    return str(Asset(name).uri)  # 2.11 keeps the URI only, normalised (``s3://b/r/`` is ``s3://b/r``)


def store_dag_files(folder: Path, bundle_name: str) -> None:
    """
    Do what the DAG processor does before any run: parse the DAG files of ``folder`` and store them.

    That also stores the assets (Datasets on 2.11) their tasks name: Airflow records an outlet's
    event only for an asset it knows. On 3.x ``dag.test()`` stores the DAG it runs; 2.11's does not.

    :param folder: the DAG folder (a configured bundle on 3.x).
    :param bundle_name: its bundle's name (3.x).
    """
    from airflow.utils.session import create_session

    if AIRFLOW_V_3_0_PLUS:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

        with create_session() as session:
            DagBundlesManager().sync_bundles_to_db(session=session)
        bag = BundleDagBag(dag_folder=str(folder), bundle_path=folder, bundle_name=bundle_name)
        sync_bag_to_db(bag, bundle_name, None)
    else:
        from airflow.models.dagbag import DagBag

        DagBag(dag_folder=str(folder), include_examples=False).sync_to_db()


def parse_and_unpause(folder: Path, bundle_name: str, dag_id: str) -> None:
    """
    Do what the DAG processor and a user do before any run: store the DAGs of ``folder``, then unpause ``dag_id``.

    Airflow queues runs only for unpaused consumers, and new DAGs start paused.

    :param folder: the DAG folder (a configured bundle on 3.x).
    :param bundle_name: its bundle's name (3.x).
    :param dag_id: the consumer DAG to unpause.
    """
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    store_dag_files(folder, bundle_name)
    with create_session() as session:
        session.query(DagModel).filter(DagModel.dag_id == dag_id).update({DagModel.is_paused: False})
