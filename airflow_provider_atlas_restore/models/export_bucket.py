"""An export bucket as Atlas describes it (``_id``, not ``id``), and where an export in it can be read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_atlas_restore.models.xcom_fields import text_field

#: The Airflow object storage scheme of each bucket provider (``ObjectStoragePath`` reads them).
OBJECT_STORAGE_SCHEMES = {"AWS": "s3", "GCP": "gs", "AZURE": "abfs"}


@dataclass(frozen=True)
class ExportBucket:
    """
    A typed view of one export bucket; ``raw`` keeps every field Atlas sent.

    :param raw: the bucket as Atlas returned it.
    """

    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> ExportBucket:
        """Wrap one bucket from an API answer; missing and unknown fields are tolerated."""
        return cls(raw=raw)

    @property
    def id(self) -> str | None:
        """Return the bucket id: Atlas sends it as ``_id`` (``id`` is read too)."""
        return text_field(self.raw, "_id") or text_field(self.raw, "id")

    @property
    def bucket_name(self) -> str | None:
        """Return the S3 bucket, GCS bucket or Azure container name."""
        return text_field(self.raw, "bucketName")

    @property
    def cloud_provider(self) -> str | None:
        """Return ``AWS``, ``AZURE`` or ``GCP``."""
        return text_field(self.raw, "cloudProvider")

    @property
    def region(self) -> str | None:
        """Return the AWS region (only the GET of one bucket has it)."""
        return text_field(self.raw, "region")

    def object_storage_uri(self, prefix: str | None) -> str | None:
        """
        Return ``s3://bucket/prefix`` (``gs://``, ``abfs://``) for an export's prefix, or ``None``.

        ``None`` when the provider has no Airflow object storage scheme here or a part is missing.

        :param prefix: the export job's ``prefix`` (Atlas sends it without a leading slash).
        """
        scheme = OBJECT_STORAGE_SCHEMES.get(self.cloud_provider or "")
        if scheme is None or not self.bucket_name or not prefix:
            return None
        return f"{scheme}://{self.bucket_name}/{prefix.lstrip('/')}"
