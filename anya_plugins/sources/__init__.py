"""Talking to package indexes: settings, the simple API, mirrors and failover, the download cache.

Nothing here is imported at host start-up. ``settings`` and ``cache`` import no HTTP client;
``http`` imports neither transport until a client is made: urllib3 (``transport_pooled``)
loads with the first request of a pooled client, ``http.client`` (``transport_stdlib``) with
a client made ``pooled=False`` (search).
"""
