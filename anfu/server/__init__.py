"""The HTTP and WebSocket service (the only package that imports FastAPI, Starlette and
uvicorn). Build it with `create_app(settings)`; `anfu serve` runs it with uvicorn."""

from .app import create_app

__all__ = ["create_app"]
