"""`trafi`: the command line. Thin: every command calls the host's library API."""
