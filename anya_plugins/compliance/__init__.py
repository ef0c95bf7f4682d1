"""Compliance reports: evidence from the server's audit trail, the clients' audit logs, SBOMs
and vulnerability status, mapped to the controls of SOC 2, ISO 27001 and PCI DSS
(``controls.toml``), rendered as JSON, HTML or PDF and mailed each month."""
