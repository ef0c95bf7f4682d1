"""The registry: the index layout (``index-config/``), the embedded devpi-server and its plugin.

Nothing here is imported by the host; devpi and HTTP code load only on the registry's paths.
"""
