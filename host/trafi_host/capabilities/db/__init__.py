"""The module database capability."""
