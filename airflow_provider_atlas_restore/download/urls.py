"""Download links: bearer secrets to mask, to fetch only over https, with a session that sends no credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow_provider_atlas_restore.client.requests_transport import NoCredentials, plain_session
from airflow_provider_atlas_restore.download.destination import DownloadLink
from airflow_provider_atlas_restore.exceptions import AtlasDownloadError, InsecureDownloadLinkError
from airflow_provider_atlas_restore.masking import mask_link

if TYPE_CHECKING:
    import requests

    from airflow_provider_atlas_restore.client.config import AtlasConnectionConfig

__all__ = [
    "InsecureDownloadLinkError",
    "NoCredentials",
    "check_link_scheme",
    "download_session",
    "link_scheme",
    "mask_link",
]


def link_scheme(link: DownloadLink, url: str) -> str:
    """
    Return the lowercased scheme of ``url``, or raise a download error naming the file, not the link.

    :param link: the link being downloaded, for the message.
    :param url: the URL (the link or a redirect from it).
    """
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # such as an unclosed "[" in the host: the text is never shown, it may be secret
        raise AtlasDownloadError(
            f"Download of {link.file_name} failed: its link is not a valid URL. Nothing was written."
        ) from None


def check_link_scheme(link: DownloadLink, url: str, *, allow_http: bool) -> None:
    """
    Refuse ``url`` (the link or a redirect from it) unless it is https, or http where allowed.

    :param link: the link being downloaded, for the message.
    :param url: the URL to check.
    :param allow_http: accept plain http (a local emulator only).
    """
    scheme = link_scheme(link, url)
    if scheme == "https" or (scheme == "http" and allow_http):
        return
    if scheme == "http":
        raise InsecureDownloadLinkError(
            f"Refusing to download {link.file_name} over plain http: Atlas download links are "
            "https. Only for a local emulator, allow http with allow_http=True on the operator "
            "or the connection extra allow_http_downloads=true."
        )
    raise InsecureDownloadLinkError(
        f"Refusing to download {link.file_name}: its link is not an https URL (scheme {scheme or 'none'!r})."
    )


def download_session(config: AtlasConnectionConfig) -> requests.Session:
    """
    Return a plain session for bearer download links: the connection's TLS and proxies, no credentials.

    :param config: the Atlas connection's settings.
    """
    session = plain_session(config)
    # The archive is already gzip: ask for it as stored, never re-encoded in transit.
    session.headers["Accept-Encoding"] = "identity"
    return session
