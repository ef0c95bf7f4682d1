"""Installing extensions as one transaction: resolve, download, verify, then install."""
