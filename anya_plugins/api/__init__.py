"""The public Python API: one object per concern, each taking its settings as arguments.

Import the names from :mod:`anya_plugins` (``from anya_plugins import Installer``); the
modules here are where they live. Every object is built from a :class:`Configuration`
the caller makes (nothing is read from the user's files unless the caller asks with
:meth:`Configuration.from_user`), and every call returns frozen records: dataclasses, or
on a command's start-up path (:class:`Configuration`, search hits, the ``[sources]``
settings) :class:`~anya_plugins.metadata.frozen.Frozen` records, which compare, hash and
print alike and copy with ``record.replace(field=value)`` instead of
``dataclasses.replace``.
"""
