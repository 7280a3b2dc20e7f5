"""docs/security.md states the API's limits with the values the code enforces."""

from __future__ import annotations

import re

from tests.conftest import REPO
from trafi_host.api.request_limits import DEFAULT_MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS
from trafi_host.commerce import models
from trafi_host.commerce.service import WRITE_ATTEMPTS
from trafi_host.db import DatabaseBusy
from trafi_host.db.engine import SQLITE_BUSY_TIMEOUT_MS
from trafi_host.runtime.body_caps import LIST_U8_CEILING, MAX_ONE_COPY_BODY_BYTES, ONE_COPY_DEFAULT

DOC = REPO / "docs" / "security.md"


def _section() -> str:
    found = re.search(r"## The HTTP API's limits\n(.*?)\n## ", DOC.read_text(), re.S)
    assert found is not None, "docs/security.md lost its section on the API's limits"
    return " ".join(found.group(1).split())


def test_every_limit_is_documented_with_its_value() -> None:
    section = _section()
    expected = {
        "request headers": f"at most {MAX_HEADERS}, at most {MAX_HEADER_BYTES} bytes",
        "module body, 0.1/0.2": f"a module of world 0.1/0.2 | {LIST_U8_CEILING.request} bytes",
        "module body, 0.3.0": f"`host.maxRequestBytes`: {ONE_COPY_DEFAULT.request} bytes (8 MiB) by default, "
        f"at most {MAX_ONE_COPY_BODY_BYTES}",
        "other bodies": f"| body, every other route (commerce) | {DEFAULT_MAX_BODY_BYTES} bytes",
        "price": f"0 to {models.MAX_PRICE_CENTS}",
        "quantity": f"1 to {models.MAX_QUANTITY}, at most {models.MAX_ORDER_LINES} lines",
        "total": f"at most {models.MAX_TOTAL_CENTS}",
        "busy timeout": f"the {SQLITE_BUSY_TIMEOUT_MS} ms busy timeout",
        "attempts": f"{WRITE_ATTEMPTS} attempts in all",
        "retry after": f"`Retry-After: {DatabaseBusy.retry_after_seconds}`",
    }
    missing = {what: text for what, text in expected.items() if text not in section}
    assert not missing, missing
