"""Trust: Sigstore signing and verification, publisher policy, PEP 740, OSV gate, audit log.

Importing this package costs nothing: every submodule pulls in its own heavy
dependencies (sigstore, cryptography, an HTTP client) only when it is imported.
"""
