"""Tools for extension authors: generating a new extension project from the template."""
