"""Talking to package indexes: settings, the simple API, mirrors and failover, the download cache.

Nothing here is imported at host start-up. ``settings`` and ``cache`` import no HTTP client;
urllib3 loads with ``http`` and the modules that use it (``mirrors``, ``simple``, ``download``).
"""
