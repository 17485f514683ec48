"""
Defaults that operators need when a DAG file is parsed, in a module that imports nothing.

The operators and the sensor take their default connection id from here rather than from
:class:`~airflow_provider_atlas_restore.hooks.atlas.AtlasHook`, so that importing them does not
import the hook and its HTTP client (``requests``, ``urllib3``) before a task runs.
"""

from __future__ import annotations

#: The ``mongodb_atlas`` connection that hooks, operators and sensors use when given none.
DEFAULT_CONN_ID = "mongodb_atlas_default"

#: Bytes read and written at a time by a snapshot download.
DEFAULT_CHUNK_SIZE = 1 << 20
#: Seconds between two progress lines of a snapshot download.
DEFAULT_PROGRESS_INTERVAL = 5.0
#: A snapshot download's requests per file (the first included; each resume counts).
DOWNLOAD_MAX_ATTEMPTS = 5
#: Seconds before a download's first retry; the wait doubles after each attempt.
DOWNLOAD_INITIAL_WAIT = 1.0
#: The longest wait between two attempts of a download, in seconds.
DOWNLOAD_MAX_WAIT = 30.0
#: The most seconds a download of one file waits between attempts in all.
DOWNLOAD_MAX_TOTAL_WAIT = 600.0
#: Bytes per part of a multipart upload to object storage (s3fs and gcsfs write one part at a time).
DEFAULT_UPLOAD_PART_SIZE = 16 << 20
#: The smallest part S3 accepts (every part but the last).
MIN_UPLOAD_PART_SIZE = 5 << 20
#: The most parts of one S3 multipart upload; the part size grows for files bigger than this many parts.
MAX_UPLOAD_PARTS = 10_000
