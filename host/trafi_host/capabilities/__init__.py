"""Host capabilities: one folder each (grant model, checks, per-instance state, host
functions), composed in one ordered list, `ALL`. See `base.py` for the shape."""

from .base import Capability, InstanceFacts, PermissionSection, host_error, hostcall
from .call import CallContext, bind_call, current_call
from .registry import ALL, Capabilities, host_capabilities, permission_items, permissions_model

__all__ = [
    "ALL",
    "CallContext",
    "Capabilities",
    "Capability",
    "InstanceFacts",
    "PermissionSection",
    "bind_call",
    "current_call",
    "host_capabilities",
    "host_error",
    "hostcall",
    "permission_items",
    "permissions_model",
]
