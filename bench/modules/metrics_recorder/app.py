"""Records one metric per call (the bench's recorder): nothing else, so the difference is the cost."""

from trafi_sdk import Module, Request, Response, metrics

module = Module("metrics-recorder")
requests = metrics.counter("requests_total")
work_duration = metrics.histogram("work_duration_seconds")


@module.get("/noop")
def noop(request: Request) -> Response:
    return Response.text("ok")


@module.get("/counter")
def counter(request: Request) -> Response:
    requests.inc(route="counter")
    return Response.text("ok")


@module.get("/histogram")
def histogram(request: Request) -> Response:
    work_duration.observe(0.004, route="histogram")
    return Response.text("ok")
