"""The extension contract: taxonomy, features, platforms and host-API range. Pure data."""
