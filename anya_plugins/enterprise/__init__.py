"""The enterprise side: the organisation's policy file and the private registry's credentials."""

POLICY_ENV = "ANYA_ENTERPRISE_POLICY"
"""The environment variable naming the policy file; every layered configuration applies it."""
