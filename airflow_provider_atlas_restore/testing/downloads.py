"""The snapshot download links the emulator hands out: ``/backup/download/{token}/{file}``.

Private-endpoint links (``privateDownloadDeliveryUrls``) are served at
``/backup/private/{endpointId}/{token}/{file}``, the route ``private_download``.

Like the real bearer links they need no authentication. A link answers 404 while its job is
not ready (or was cancelled, failed or removed) and 410 once the job expired or, with
single-use links, once the whole archive has been sent. A transfer that breaks off does not
use the link up, so a client can resume it with ``Range``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from airflow_provider_atlas_restore.testing.records import ServedDownload
from airflow_provider_atlas_restore.testing.routes import Answer, Request
from airflow_provider_atlas_restore.testing.state import Store
from airflow_provider_atlas_restore.testing.switches import Settings
from airflow_provider_atlas_restore.testing.tarball import Tarball, tarball

__all__ = ["Downloads", "archive_answer", "plain_answer"]

_RANGE_RE = re.compile(r"^bytes=(\d+)-(\d*)$")


def plain_answer(status: int, text: str) -> Answer:
    """Answer a link that cannot be served: plain text, as the storage behind real links does.

    :param status: HTTP status.
    :param text: the body.
    """
    return Answer(status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode())


def _limited(archive: Tarball, start: int, size: int) -> Iterator[bytes]:
    sent = 0
    for chunk in archive.iter_bytes(start):
        if sent + len(chunk) >= size:
            yield chunk[: size - sent]
            return
        sent += len(chunk)
        yield chunk


def archive_answer(
    req: Request, archive: Tarball, filename: str, on_complete: Callable[[], None] | None
) -> Answer:
    """Answer ``GET`` or ``HEAD`` of an archive, honouring a single ``Range`` (206, 416).

    :param req: the request.
    :param archive: the archive to serve.
    :param filename: the name ``Content-Disposition`` gives.
    :param on_complete: called just before the archive's last byte is written.
    """
    headers = {
        "Content-Type": "application/gzip",
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    start, end = 0, archive.length - 1
    status = 200
    found = _RANGE_RE.match(req.headers.get("Range", "").strip())
    if found:
        start = int(found.group(1))
        end = min(end, int(found.group(2))) if found.group(2) else end
        if start >= archive.length or end < start:
            headers["Content-Range"] = f"bytes */{archive.length}"
            return Answer(416, headers)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{archive.length}"
    size = end - start + 1
    answer = Answer(status, headers, stream=iter(()), length=size)
    if req.method != "HEAD":
        answer.stream = _limited(archive, start, size)
        if end == archive.length - 1:
            answer.on_complete = on_complete
    return answer


class Downloads:
    """Serve download links from the store.

    :param store: emulator state.
    :param settings: run-time switches (``single_use_links``).
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def handle(self, req: Request) -> Answer:
        """Answer ``GET`` or ``HEAD`` of a download link, honouring a single ``Range``.

        :param req: the request.
        """
        with self.store.lock:
            link = self.store.links.get(req.params["token"])
            if (
                link is None
                or link.filename != req.params["filename"]
                or link.endpoint_id != req.params.get("endpoint_id")  # a private link only on its path
            ):
                return plain_answer(404, "Not Found")
            state = link.job.state(self.store.clock.now())
            if state == "expired":
                return plain_answer(410, "This download link has expired.")
            if state != "ready":
                return plain_answer(404, "Not Found")
            if link.used and self.settings.single_use_links:
                return plain_answer(410, "This download link has already been used.")
        archive = tarball(link.archive_name, link.size, link.mtime)
        return archive_answer(req, archive, link.filename, lambda: self._mark_used(link))

    def _mark_used(self, link: ServedDownload) -> None:
        with self.store.lock:
            link.used = True
