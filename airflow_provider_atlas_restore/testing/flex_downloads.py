"""The flex ``snapshotUrl`` links: ``/backup/flex/{token}/{snapshotId}.tgz`` (route ``flex_snapshot_file``).

Served like the dedicated download links (:mod:`.downloads`): no Atlas credentials, ``Range``
and ``HEAD``, the same faults, a real ``.tgz`` of the snapshot's size. The spec says a
``snapshotUrl`` "remains active for four hours", so unlike a dedicated link it is not single-use
(``single_use_links`` does not apply): it answers until its four hours on the emulator clock are
over, then 410; 404 when unknown or its job was removed.
"""

from __future__ import annotations

from airflow_provider_atlas_restore.testing.downloads import archive_answer, plain_answer
from airflow_provider_atlas_restore.testing.flex_records import FlexSnapshotLink
from airflow_provider_atlas_restore.testing.routes import Answer, Request
from airflow_provider_atlas_restore.testing.state import Store
from airflow_provider_atlas_restore.testing.switches import Settings
from airflow_provider_atlas_restore.testing.tarball import Tarball, tarball

__all__ = ["FlexDownloads", "flex_archive"]


def flex_archive(link: FlexSnapshotLink) -> Tarball:
    """Return the archive a ``snapshotUrl`` serves (tests hash it to know the sha256).

    :param link: the link.
    """
    return tarball(link.archive_name, link.size, link.mtime)


class FlexDownloads:
    """Serve flex ``snapshotUrl`` links from the store.

    :param store: emulator state.
    :param settings: run-time switches.
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def handle(self, req: Request) -> Answer:
        """Answer ``GET`` or ``HEAD`` of a ``snapshotUrl``, honouring a single ``Range``.

        :param req: the request.
        """
        with self.store.lock:
            link = self.store.flex.links.get(req.params["token"])
            if link is None or link.filename != req.params["filename"]:
                return plain_answer(404, "Not Found")
            if self.store.clock.now() >= link.expires_at:
                return plain_answer(410, "This download link has expired.")
        return archive_answer(req, flex_archive(link), link.filename, None)
