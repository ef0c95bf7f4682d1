"""Audit: the vulnerability gate (OSV advisories, severity policy), SBOMs and the audit log.

Importing this package costs nothing: each submodule imports its own dependencies
(packaging, cvss, cyclonedx-python-lib, pip-audit, rfc8785) when it is imported.
"""
