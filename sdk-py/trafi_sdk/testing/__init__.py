"""Test a module's handlers in milliseconds: no build, no host, the host's behaviour.

    from trafi_sdk.testing import ModuleHarness

    def test_counts_hits():
        hello = ModuleHarness("modules/hello")
        assert hello.get("/v1/hits").json()["hits"] == 1
        assert hello.get("/v1/hits").json()["hits"] == 2
        assert hello.get("/v1/hits", tenant="other").json()["hits"] == 1

`ModuleHarness` loads the module from its folder and runs its handlers in this
process against in-memory fakes of the host's capabilities: kv, config, log,
events, services (`link` another harness), the commerce core (seed it with
`records`), the module database (SQLite in memory, the module's migrations
applied) and metrics. The fakes refuse what the host refuses, with its errors
and limits: no `kv` permission is `AccessDenied`, a 2 MB value `LimitExceeded`,
an undeclared metric `InvalidArgument`. What they cannot show: the component's
own limits (memory cap, deadline, fuel), outgoing HTTP (`fetch` is not faked),
and a build (componentize-py finds imports a lazy import would miss): build
and `trafi module add` for those. See docs/sdk.md#testing.
"""

from . import records
from ._db import FakeDb
from ._fakes import EmittedEvent, FakeCommerce, FakeKv, FakeMetrics, LogRecord
from ._harness import HandlerResponse, ModuleHarness

__all__ = [
    "EmittedEvent",
    "FakeCommerce",
    "FakeDb",
    "FakeKv",
    "FakeMetrics",
    "HandlerResponse",
    "LogRecord",
    "ModuleHarness",
    "records",
]
