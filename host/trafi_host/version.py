"""Versions the host reports and checks modules against."""

# The version module manifests' `trafi` ranges are checked against.
HOST_VERSION = "0.1.0"
# The newest WIT world (`trafi:host/module@<version>`) this host serves.
WIT_VERSION = "0.3.0"
# Every world version this host can still run, newest first.
SUPPORTED_WIT_VERSIONS = ("0.3.0", "0.2.0", "0.1.0")
# The world of a manifest that names none: the first release, so an existing
# manifest's meaning never changes when a newer world ships.
DEFAULT_WIT_VERSION = "0.1.0"
