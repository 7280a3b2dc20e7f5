"""A module's declared routes, as the host uses them: matching, permissions, versions, conflicts."""
