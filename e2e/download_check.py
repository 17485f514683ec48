"""Checks of the downloaded snapshot archive against what the ``download`` task reported."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

from example_dag import DOWNLOAD_TASK
from failure import E2EFailure
from run_context import Run


def check_download(run: Run) -> list[str]:
    """Compare the downloaded files with the download task's XCom; return one line per file."""
    files = run.api.xcom(run.run_id, DOWNLOAD_TASK)
    if not isinstance(files, list) or len(files) != 1:
        raise E2EFailure(f"expected one downloaded file in the XCom of {DOWNLOAD_TASK}, got {files!r}")
    lines = []
    for entry in files:
        path = Path(entry["path"])
        if path.parent.resolve() != run.destination.resolve():
            raise E2EFailure(f"{path} is not in the destination folder {run.destination}")
        if not path.is_file():
            raise E2EFailure(f"{path} (from the XCom of {DOWNLOAD_TASK}) does not exist")
        size = path.stat().st_size
        digest = sha256_of(path)
        if size != entry["bytes"] or digest != entry["sha256"]:
            raise E2EFailure(
                f"{path}: {size} bytes, sha256 {digest}; "
                f"the XCom says {entry['bytes']} bytes, sha256 {entry['sha256']}"
            )
        if not run.settings.download_size <= size < run.settings.download_size + 1024:
            raise E2EFailure(f"{path}: {size} bytes, the emulator serves ~{run.settings.download_size}")
        members = read_tarball(path)
        lines.append(f"{path.name}: {size:,} bytes, sha256 {digest[:16]}..., {members} tar members read")
    return lines


def sha256_of(path: Path) -> str:
    """The sha256 of the file at ``path``, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_tarball(path: Path) -> int:
    """Read every member of a ``.tar.gz`` to its end (gzip CRC and length included)."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                stream = archive.extractfile(member)
                if stream is not None:
                    while stream.read(1 << 20):
                        pass
    except (tarfile.TarError, OSError, EOFError) as error:
        raise E2EFailure(f"{path} is not a readable .tar.gz: {error}") from error
    if not members:
        raise E2EFailure(f"{path} is an empty archive")
    return len(members)
