"""Talking to package indexes: settings, the simple API, mirrors and failover, the download cache.

Nothing here is imported at host start-up. ``settings`` and ``cache`` import no HTTP client;
``http`` imports neither transport until a client is made: ``http.client``
(``transport_stdlib``) with the client, urllib3 (``transport_pooled``) with the first request
of a client made ``pooled=True`` or of one that needs TLS inside a proxy's TLS.
"""
