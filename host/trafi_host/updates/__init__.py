"""Updating, rolling back and health-gating installed modules (docs/updating.md)."""
