"""Where modules come from: local folders and packed archives (git and npm arrive later)."""
