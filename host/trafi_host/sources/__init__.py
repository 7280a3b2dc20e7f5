"""Where modules come from: local folders, packed archives, git repositories and npm registries."""
