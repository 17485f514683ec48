"""
Requests to the Atlas Administration API and the reading of its answers, with no I/O.

Nothing here imports an HTTP client: the sync hook, the triggers' async client and the
download all send what :mod:`.endpoints` builds and read answers with :mod:`.responses`.
"""
