"""The extension host: discovery (with its cache), lazy loading with pluggy, failure isolation."""
