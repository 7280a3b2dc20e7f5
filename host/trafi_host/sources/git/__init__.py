"""Modules from a git repository, fetched with the system `git` client.

One job per module: `spec` reads and checks what the user typed, `runner`
runs git safely under one deadline, and `fetch` brings one commit's tree into
a folder and guards what lands on disk. The names other code imports are
re-exported here.
"""

from .fetch import FetchedGit, fetch_git
from .spec import GitSourceError, GitSpec, parse_git_spec

__all__ = ["FetchedGit", "GitSourceError", "GitSpec", "fetch_git", "parse_git_spec"]
