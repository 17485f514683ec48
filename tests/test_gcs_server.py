"""gcsfs's non-autocommit (resumable) uploads through Airflow's ObjectStoragePath, against a real GCS server.

The server is gcp-storage-emulator on loopback (``tests/gcs_server.py``); the file system is
attached to Airflow as ``gs`` with conn id ``atlas_test_gcs`` (the ``gcs_object_storage``
fixture). Each test holds on Airflow 3.x and 2.11.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from tests.conftest import GCS_TEST_CONN_ID

MIB = 2**20
#: One gcsfs block; the 20 MiB file below spans two of them and a remainder.
BLOCK_SIZE = 8 * MIB
#: Not a multiple of 256 KiB (GCS's chunk unit), so the commit carries a final partial chunk.
LARGE_FILE_SIZE = 20 * MIB + 12_345
#: Above 256 KiB, so closing the file sends one chunk to the server before the discard.
SMALL_FILE_SIZE = 600_000


def object_storage_path(*parts: str) -> Any:
    """Return ``ObjectStoragePath("gs://PARTS...", conn_id="atlas_test_gcs")``."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    return ObjectStoragePath("gs://" + "/".join(parts), conn_id=GCS_TEST_CONN_ID)


def write_in_pieces(file: Any, data: bytes, piece: int = 3 * MIB) -> None:
    """Write ``data`` to ``file`` ``piece`` bytes at a time, as a streamed download would."""
    for start in range(0, len(data), piece):
        file.write(data[start : start + piece])


def fresh_info(file_system: Any, path: Any) -> dict[str, Any]:
    """Return the object's resource from the server, not from gcsfs's listing cache."""
    file_system.invalidate_cache()
    info: dict[str, Any] = file_system.info(path.path)
    return info


def test_a_gs_path_with_the_conn_id_reaches_the_attached_file_system(gcs_object_storage, gcs_bucket):
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    by_argument = object_storage_path(gcs_bucket, "prefix", "a.txt")
    by_userinfo = ObjectStoragePath(f"gs://{GCS_TEST_CONN_ID}@{gcs_bucket}/prefix/a.txt")

    by_argument.write_bytes(b"through Airflow")

    assert by_argument.fs is gcs_object_storage
    assert by_userinfo.fs is gcs_object_storage
    assert by_userinfo.read_bytes() == b"through Airflow"
    assert gcs_object_storage.cat(f"{gcs_bucket}/prefix/a.txt") == b"through Airflow"
    assert [child.name for child in object_storage_path(gcs_bucket, "prefix").iterdir()] == ["a.txt"]


def test_an_uncommitted_upload_larger_than_a_block_is_invisible_until_commit(gcs_object_storage, gcs_bucket):
    data = os.urandom(LARGE_FILE_SIZE)
    folder = object_storage_path(gcs_bucket, "snapshots")
    target = folder / "rs0.tar.gz"

    upload = target.open("wb", autocommit=False, block_size=BLOCK_SIZE)
    write_in_pieces(upload, data)
    upload.close()
    sent_before_commit = upload.offset
    visible_before_commit = target.exists()
    listed_before_commit = gcs_object_storage.find(f"{gcs_bucket}/")
    upload.commit()

    assert sent_before_commit >= 2 * BLOCK_SIZE  # the blocks went to the server before the commit
    assert not visible_before_commit
    assert listed_before_commit == []
    gcs_object_storage.invalidate_cache()
    assert target.exists()
    assert [child.name for child in folder.iterdir()] == ["rs0.tar.gz"]
    assert fresh_info(gcs_object_storage, target)["size"] == LARGE_FILE_SIZE
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_discarded_upload_leaves_no_object_and_cancels_its_session(
    gcs_server, gcs_object_storage, gcs_bucket
):
    target = object_storage_path(gcs_bucket, "snapshots", "rs0.tar.gz")

    upload = target.open("wb", autocommit=False)
    upload.write(b"x" * SMALL_FILE_SIZE)
    upload.close()
    session_url = upload.location
    upload.discard()

    gcs_object_storage.invalidate_cache()
    assert not target.exists()
    assert gcs_object_storage.find(f"{gcs_bucket}/") == []
    status, _ = gcs_server.request("PUT", session_url)
    assert status == 404  # the session is gone: nothing more can be uploaded into it


def test_an_empty_uncommitted_upload_commits_to_an_empty_object(gcs_object_storage, gcs_bucket):
    target = object_storage_path(gcs_bucket, "empty.bin")

    upload = target.open("wb", autocommit=False)
    upload.close()
    upload.commit()

    gcs_object_storage.invalidate_cache()
    assert target.read_bytes() == b""


def test_metadata_given_at_open_is_stored_with_the_object(gcs_object_storage, gcs_bucket):
    target = object_storage_path(gcs_bucket, "snapshots", "rs0.tar.gz")
    metadata = {"restore-job-id": "6a7948342c88faeba59eb866", "replica-set": "rs0"}

    upload = target.open("wb", autocommit=False, block_size=BLOCK_SIZE, metadata=metadata)
    write_in_pieces(upload, os.urandom(LARGE_FILE_SIZE))
    upload.close()
    upload.commit()

    assert fresh_info(gcs_object_storage, target)["metadata"] == metadata


def test_setxattrs_after_commit_adds_the_sha256_and_keeps_the_metadata_given_at_open(
    gcs_object_storage, gcs_bucket
):
    data = os.urandom(SMALL_FILE_SIZE)
    sha256 = hashlib.sha256(data).hexdigest()
    target = object_storage_path(gcs_bucket, "snapshots", "rs0.tar.gz")

    upload = target.open("wb", autocommit=False, metadata={"snapshot-id": "6a79468a2c88faeba59de489"})
    upload.write(data)
    upload.close()
    upload.commit()
    returned = target.fs.setxattrs(target.path, sha256=sha256)

    expected = {"snapshot-id": "6a79468a2c88faeba59de489", "sha256": sha256}
    assert returned == expected
    assert fresh_info(gcs_object_storage, target)["metadata"] == expected


def test_setxattrs_with_none_deletes_that_key(gcs_object_storage, gcs_bucket):
    target = object_storage_path(gcs_bucket, "a.bin")
    target.write_bytes(b"a")
    target.fs.setxattrs(target.path, sha256="0" * 64, replica_set="rs0")

    target.fs.setxattrs(target.path, replica_set=None)

    assert fresh_info(gcs_object_storage, target)["metadata"] == {"sha256": "0" * 64}


# --- the emulator as installed: the gaps tests/gcs_server.py fills are still there ---------------


@pytest.fixture(scope="module")
def plain_gcs_server() -> Any:
    """Return the emulator exactly as installed (no filled gaps), on another loopback port."""
    pytest.importorskip("gcp_storage_emulator", reason="gcp-storage-emulator is not installed")
    pytest.importorskip("gcsfs", reason="gcsfs is not installed")
    from tests.gcs_server import GcsEmulatorServer

    server = GcsEmulatorServer(fill_gaps=False).start()
    yield server
    server.stop()


def test_the_emulator_as_installed_cannot_cancel_a_resumable_upload(plain_gcs_server):
    bucket = plain_gcs_server.create_bucket("atlas-plain-cancel")
    upload = plain_gcs_server.file_system().open(f"{bucket}/a.bin", "wb", autocommit=False)
    upload.write(b"x" * SMALL_FILE_SIZE)
    upload.close()

    status, _ = plain_gcs_server.request("DELETE", upload.location)

    assert status == 501  # gcsfs's discard() would retry this for half a minute, then raise


def test_the_emulator_as_installed_replaces_custom_metadata_on_patch(plain_gcs_server):
    bucket = plain_gcs_server.create_bucket("atlas-plain-patch")
    file_system = plain_gcs_server.file_system()
    with file_system.open(f"{bucket}/a.bin", "wb", metadata={"snapshot-id": "s"}) as upload:
        upload.write(b"a")

    file_system.setxattrs(f"{bucket}/a.bin", sha256="0" * 64)

    file_system.invalidate_cache()
    assert file_system.info(f"{bucket}/a.bin")["metadata"] == {"sha256": "0" * 64}
