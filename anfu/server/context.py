"""What one app instance holds: settings, store, analyzer, authenticator, live hub, and the
service layer's turn service and complaint desk."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..pipeline import Analyzer
from ..security import Authenticator
from ..settings import Settings
from ..store import Store
from ..service.container import Services
from ..service.desk import TicketDesk
from ..service.live import Hub
from ..service.turns import TurnService


@dataclass
class AppContext:
    settings: Settings
    store: Store
    analyzer: Analyzer
    auth: Authenticator
    hub: Hub
    turns: TurnService
    # Live turns run on a few dedicated threads: dozens of threads contending for the GIL and
    # the SQLite write lock make every turn slower than a short queue does.
    executor: ThreadPoolExecutor
    desk: TicketDesk
    services: Services
    turn_workers: int  # the executor's threads (`ANFU_TURN_WORKERS`; each may hold a pooled database connection)
