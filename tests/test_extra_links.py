"""The "Atlas restores" extra link: URL shape, storage through XCom, and where it is attached."""

from __future__ import annotations

from unittest import mock

import pytest

from airflow_provider_atlas_restore.exceptions import AtlasInputError
from airflow_provider_atlas_restore.extra_links import LINK_XCOM_KEY, AtlasRestoresLink, backup_page_url
from airflow_provider_atlas_restore.operators.restore_job_lifecycle import AtlasCreateRestoreJobOperator
from airflow_provider_atlas_restore.operators.restore_jobs import AtlasListRestoreJobsOperator
from airflow_provider_atlas_restore.sensors.restore_job import AtlasRestoreJobSensor


def test_backup_page_url_points_at_the_clusters_backup_tab():
    assert backup_page_url("https://cloud.mongodb.com", "6a793f6b2c88faeba59bae37", "Cluster0") == (
        "https://cloud.mongodb.com/v2/6a793f6b2c88faeba59bae37#/clusters/backup/Cluster0"
    )


def test_persist_stores_the_url_in_xcom():
    ti = mock.Mock()

    AtlasRestoresLink.persist(
        {"ti": ti}, base_url="https://cloud.mongodb.com/", group_id="a" * 24, cluster_name="C-1"
    )

    ti.xcom_push.assert_called_once_with(
        key=LINK_XCOM_KEY, value=f"https://cloud.mongodb.com/v2/{'a' * 24}#/clusters/backup/C-1"
    )


@pytest.mark.parametrize(
    ("group_id", "cluster_name", "parameter"),
    [("a" * 24, 5, "cluster_name"), ("a" * 24, "a b", "cluster_name"), (b"a" * 24, "C-1", "group_id")],
)
def test_persist_refuses_a_bad_name_or_id_and_stores_nothing(group_id, cluster_name, parameter):
    ti = mock.Mock()

    with pytest.raises(AtlasInputError, match=parameter):
        AtlasRestoresLink.persist(
            {"ti": ti}, base_url="https://cloud.mongodb.com/", group_id=group_id, cluster_name=cluster_name
        )
    assert ti.xcom_push.call_args_list == []


def test_get_link_reads_the_stored_url():
    with mock.patch(
        "airflow_provider_atlas_restore.extra_links.XCom.get_value", return_value="https://x/v2/g#/b"
    ) as get:
        assert AtlasRestoresLink().get_link(mock.Mock(), ti_key=mock.sentinel.key) == "https://x/v2/g#/b"
    get.assert_called_once_with(key=LINK_XCOM_KEY, ti_key=mock.sentinel.key)


@pytest.mark.parametrize(
    "operator_class", [AtlasListRestoreJobsOperator, AtlasCreateRestoreJobOperator, AtlasRestoreJobSensor]
)
def test_list_create_and_sensor_tasks_carry_the_link(operator_class):
    assert [link.name for link in operator_class.operator_extra_links] == ["Atlas restores"]
