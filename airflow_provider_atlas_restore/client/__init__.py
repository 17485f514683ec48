"""
Sending requests to Atlas: the connection's settings, authentication, retries and transport.

Shared by the hook (``requests``), the triggers (``httpx``) and the snapshot download.
"""
