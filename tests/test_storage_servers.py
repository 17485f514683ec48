"""The real S3 servers the object-storage tests run against (tests/storage_servers.py) do what they claim."""

from __future__ import annotations

import random
import socket

import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath

from tests.conftest import define_aws_connection
from tests.storage_servers import (
    CountingProxy,
    MotoS3Server,
    MotoS3ServerWithIam,
    S3Credentials,
    object_keys,
    unfinished_uploads,
)

#: s3fs's smallest part: S3 refuses smaller parts except the last.
PART_SIZE = 5 * 2**20


def some_bytes(size: int, seed: int = 14) -> bytes:
    """Return ``size`` reproducible bytes that do not compress."""
    return random.Random(seed).randbytes(size)


def test_object_written_through_object_storage_path_is_on_the_server(s3_server, s3_bucket, aws_connection):
    path = ObjectStoragePath(f"s3://{s3_bucket}/snapshots/one.tar.gz", conn_id=aws_connection)
    path.write_bytes(b"snapshot bytes")

    client = s3_server.client()
    assert object_keys(client, s3_bucket) == ["snapshots/one.tar.gz"]
    assert client.get_object(Bucket=s3_bucket, Key="snapshots/one.tar.gz")["Body"].read() == b"snapshot bytes"
    assert ObjectStoragePath(
        f"s3://{s3_bucket}/snapshots/one.tar.gz", conn_id=aws_connection
    ).read_bytes() == (b"snapshot bytes")


def test_connection_in_uri_form_reaches_the_server(s3_server, s3_bucket, monkeypatch):
    define_aws_connection(monkeypatch, "atlas_test_s3_uri", s3_server.connection_uri())
    s3_server.client().put_object(Bucket=s3_bucket, Key="written-by-boto3", Body=b"from boto3")

    path = ObjectStoragePath(f"s3://{s3_bucket}/written-by-boto3", conn_id="atlas_test_s3_uri")

    assert path.read_bytes() == b"from boto3"
    assert path.fs.endpoint_url == s3_server.endpoint_url


def test_non_autocommit_file_is_invisible_until_committed(s3_server, s3_bucket, aws_connection):
    path = ObjectStoragePath(f"s3://{s3_bucket}/final/whole.bin", conn_id=aws_connection)
    content = some_bytes(PART_SIZE + 1000)
    client = s3_server.client()

    upload = path.fs.open(path.path, "wb", autocommit=False, block_size=PART_SIZE)
    upload.write(content)
    upload.close()

    assert object_keys(client, s3_bucket) == []
    assert [started["Key"] for started in unfinished_uploads(client, s3_bucket)] == ["final/whole.bin"]

    upload.commit()

    assert object_keys(client, s3_bucket) == ["final/whole.bin"]
    assert unfinished_uploads(client, s3_bucket) == []
    assert client.get_object(Bucket=s3_bucket, Key="final/whole.bin")["Body"].read() == content


def test_discarded_non_autocommit_file_leaves_no_object_and_no_unfinished_upload(
    s3_server, s3_bucket, aws_connection
):
    path = ObjectStoragePath(f"s3://{s3_bucket}/final/broken.bin", conn_id=aws_connection)
    client = s3_server.client()

    upload = path.fs.open(path.path, "wb", autocommit=False, block_size=PART_SIZE)
    upload.write(some_bytes(2 * PART_SIZE + 1000))  # two parts are on the server before close
    upload.close()
    assert len(unfinished_uploads(client, s3_bucket)) == 1
    upload.discard()

    assert object_keys(client, s3_bucket) == []
    assert unfinished_uploads(client, s3_bucket) == []


def test_counting_proxy_counts_an_uploads_bytes_once(
    s3_server, s3_bucket, s3_counting_proxy, aws_counting_connection
):
    size = 2 * PART_SIZE + 12345
    content = some_bytes(size)
    path = ObjectStoragePath(f"s3://{s3_bucket}/counted.bin", conn_id=aws_counting_connection)
    s3_counting_proxy.reset()

    with path.fs.open(path.path, "wb", block_size=PART_SIZE) as upload:
        upload.write(content)

    # Five requests (start, three parts, complete): their headers are all the overhead (2.7 KiB here).
    assert size <= s3_counting_proxy.bytes_to_server <= size + 8 * 1024
    assert s3_counting_proxy.bytes_to_client < 8 * 1024
    assert s3_server.client().head_object(Bucket=s3_bucket, Key="counted.bin")["ContentLength"] == size

    s3_counting_proxy.reset()
    assert path.read_bytes() == content
    assert size <= s3_counting_proxy.bytes_to_client <= size + 8 * 1024
    assert s3_counting_proxy.bytes_to_server < 8 * 1024


@pytest.mark.parametrize("run", ["first", "second"])
def test_counting_connection_reaches_this_tests_proxy(
    run, s3_bucket, s3_counting_proxy, aws_counting_connection
):
    # The second run gets a new proxy on a new port under the same conn id: a file system cached
    # by the first run would still point at the first, stopped, proxy.
    path = ObjectStoragePath(f"s3://{s3_bucket}/{run}", conn_id=aws_counting_connection)

    path.write_bytes(run.encode())

    assert path.fs.endpoint_url == s3_counting_proxy.endpoint_url
    assert s3_counting_proxy.bytes_to_server > len(run)


def test_fixtures_on_different_servers_never_share_a_file_system(
    s3_server, s3_server_with_iam, aws_connection, aws_read_only_connection, aws_admin_connection
):
    default = ObjectStoragePath("s3://any-bucket/key", conn_id=aws_connection).fs
    read_only = ObjectStoragePath("s3://any-bucket/key", conn_id=aws_read_only_connection).fs
    admin = ObjectStoragePath("s3://any-bucket/key", conn_id=aws_admin_connection).fs

    assert len({id(default), id(read_only), id(admin)}) == 3
    assert default.endpoint_url == s3_server.endpoint_url
    assert read_only.endpoint_url == admin.endpoint_url == s3_server_with_iam.server.endpoint_url


def test_read_only_user_reads_but_cannot_start_a_multipart_upload(
    s3_server_with_iam, iam_s3_bucket, aws_read_only_connection, aws_admin_connection
):
    ObjectStoragePath(f"s3://{iam_s3_bucket}/existing", conn_id=aws_admin_connection).write_bytes(b"old")
    path = ObjectStoragePath(f"s3://{iam_s3_bucket}/existing", conn_id=aws_read_only_connection)
    new = ObjectStoragePath(f"s3://{iam_s3_bucket}/new", conn_id=aws_read_only_connection)

    assert path.read_bytes() == b"old"
    assert [child.name for child in path.parent.iterdir()] == ["existing"]
    upload = new.fs.open(new.path, "wb", autocommit=False)
    upload.write(b"refused")
    with pytest.raises(PermissionError):
        upload.close()

    admin = s3_server_with_iam.admin_client()
    assert object_keys(admin, iam_s3_bucket) == ["existing"]
    assert unfinished_uploads(admin, iam_s3_bucket) == []


def test_iam_server_refuses_an_unknown_key_and_a_write_by_the_read_only_user(
    s3_server_with_iam, iam_s3_bucket
):
    from botocore.exceptions import ClientError

    stranger = s3_server_with_iam.server.client(S3Credentials("unknown-key", "unknown-secret"))
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        stranger.list_objects_v2(Bucket=iam_s3_bucket)
    with pytest.raises(ClientError, match="AccessDenied"):
        s3_server_with_iam.read_only_client().put_object(Bucket=iam_s3_bucket, Key="k", Body=b"x")

    assert object_keys(s3_server_with_iam.admin_client(), iam_s3_bucket) == []


def test_listing_helpers_read_every_page(s3_server, s3_bucket):
    client = s3_server.client()
    keys = [f"folder/{index}" for index in range(5)]
    for key in keys:
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"")
        client.create_multipart_upload(Bucket=s3_bucket, Key=f"{key}.upload")
    client.put_object(Bucket=s3_bucket, Key="elsewhere", Body=b"")

    assert sorted(object_keys(client, s3_bucket, "folder/", page_size=2)) == keys
    uploads = unfinished_uploads(client, s3_bucket, "folder/", page_size=2)
    assert sorted(upload["Key"] for upload in uploads) == [f"{key}.upload" for key in keys]


def test_stopped_server_no_longer_listens_and_removes_its_own_log_folder():
    server = MotoS3Server().start()
    address = ("127.0.0.1", server.port)
    assert server.log_path.is_file()

    server.stop()

    with pytest.raises(ConnectionRefusedError), socket.create_connection(address, timeout=5):
        pass
    assert not server.log_folder.exists()


def test_counting_proxy_stop_closes_its_port(s3_server):
    proxy = CountingProxy(s3_server.port).start()
    address = ("127.0.0.1", proxy.port)

    proxy.stop()

    with pytest.raises(ConnectionRefusedError), socket.create_connection(address, timeout=5):
        pass


def test_iam_server_start_refuses_a_server_that_does_not_enforce(tmp_path, monkeypatch):
    # One unchecked request too many: the admin's check happens before moto starts enforcing.
    monkeypatch.setattr("tests.storage_servers.IAM_SETUP_ACTIONS", 8)

    with pytest.raises(RuntimeError, match="accepted an unknown access key"):
        MotoS3ServerWithIam.start(tmp_path)
