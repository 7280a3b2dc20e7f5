"""`trafi dev`: modules served from their source through the dev runtime, reloaded on save."""
