"""The enterprise side: the organisation's policy file and the private registry's credentials."""
