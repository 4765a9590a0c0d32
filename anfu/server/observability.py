"""Prometheus metrics at `GET /metrics` and structured JSON logs with personal data masked.

Metrics (prometheus-client, one registry per app so two apps in one process never mix):
- `anfu_http_requests_total{method, route, status}` and `anfu_http_request_duration_seconds`
  (histogram) per route template (`/api/v1/conversations/{conversation_id}`, never the raw
  path: no ids, no personal data, bounded label sets; a method HTTP does not define is
  `other`);
- `anfu_turns_analysed_total`, `anfu_alerts_raised_total` (supervisor alert deliveries of the
  ladder, counted per alert raised, not per recipient);
- `anfu_ws_subscribers` (connected WebSockets), `anfu_live_queue_depth` (messages waiting in
  subscribers' queues), `anfu_turn_queue_depth` (live turns waiting for the turn executor).

The turn and alert counters wrap the app's `TurnService.add_turn` and `Hub.publish_alert` on
this app's instances (no module-level state), so the service modules stay free of metrics code.

JSON logs: `JsonFormatter` writes one object per line (`ts`, `level`, `logger`, `message`,
extra fields, `exc`); records are masked by `anfu.pii.logging` when made, and the formatter
masks the final line again, so a handler configured elsewhere cannot leak either.
`configure_json_logging()` puts it on the root logger and on uvicorn's loggers
(`anfu serve --log-format json`, or `ANFU_LOG_FORMAT=json`).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# the `method` label: HTTP's methods; anything a caller invents counts as "other", so no caller
# can add time series
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("anfu_http_requests", "HTTP requests", ("method", "route", "status"),
                                registry=self.registry)
        self.latency = Histogram("anfu_http_request_duration_seconds", "HTTP request latency",
                                 ("method", "route"), buckets=BUCKETS, registry=self.registry)
        self.turns = Counter("anfu_turns_analysed", "Turns stored and analysed", registry=self.registry)
        self.alerts = Counter("anfu_alerts_raised", "Escalation alerts raised to supervisors", registry=self.registry)
        self.subscribers = Gauge("anfu_ws_subscribers", "Connected WebSocket subscribers", registry=self.registry)
        self.live_queue = Gauge("anfu_live_queue_depth", "Messages waiting in subscribers' queues",
                                registry=self.registry)
        self.turn_queue = Gauge("anfu_turn_queue_depth", "Live turns waiting for the turn executor",
                                registry=self.registry)

    def attach(self, ctx: Any) -> None:
        """Gauges read the app context at scrape time; counters wrap the turn service and hub."""
        hub = ctx.hub
        self.subscribers.set_function(lambda: hub.subscribers)

        def live_depth() -> float:
            with hub._lock:
                return float(sum(s.queue.qsize() for s in hub._subs))
        self.live_queue.set_function(live_depth)
        queue = getattr(ctx.executor, "_work_queue", None)
        self.turn_queue.set_function(lambda: float(queue.qsize()) if queue is not None else 0.0)

        add_turn = ctx.turns.add_turn

        def counted_add_turn(*args: Any, **kwargs: Any) -> Any:
            result = add_turn(*args, **kwargs)
            self.turns.inc()
            return result
        ctx.turns.add_turn = counted_add_turn

        publish_alert = hub.publish_alert

        def counted_publish_alert(*args: Any, **kwargs: Any) -> int:
            self.alerts.inc()
            return publish_alert(*args, **kwargs)
        hub.publish_alert = counted_publish_alert

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (after routing)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None)
            if template is not None:  # a route of a prefixed router knows only its own part
                segments, own = scope["path"].split("/"), template.split("/")
                if len(segments) > len(own):
                    template = "/".join(segments[:len(segments) - len(own) + 1]) + template
            else:
                template = "/static" if scope["path"].startswith("/static/") else "unmatched"
            method = scope.get("method", "GET")
            method = method if method in METHODS else "other"
            self.metrics.requests.labels(method, template, str(status["code"])).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


def install(app: Any, ctx: Any) -> Metrics:
    """Add the metrics middleware and `GET /metrics` to `app`."""
    metrics = Metrics()
    metrics.attach(ctx)
    app.state.metrics = metrics

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # type: ignore[arg-type]
    return metrics


# JSON logs ------------------------------------------------------------------------------------
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from ..pii.logging import mask_log_text, mask_record

        mask_record(record)
        out: dict[str, Any] = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = value
        if record.exc_text:
            out["exc"] = record.exc_text
        return mask_log_text(json.dumps(out, ensure_ascii=False, default=str))


def configure_json_logging(level: int = logging.INFO) -> None:
    """One JSON handler on the root logger; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
