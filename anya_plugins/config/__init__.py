"""Configuration in layers: schema defaults, the user file, the environment and ``--config``."""
