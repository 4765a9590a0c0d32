"""The application layer: what Anfu does, apart from how it is reached.

REST routes, the WebSockets, the web pages, the mail watcher and the helpdesk connectors all
call these modules; none of them holds workflow logic of its own. This package imports
neither FastAPI nor SQLAlchemy (tests/test_layering.py): it talks to the database through
`anfu.store` and to connected clients through `anfu.service.live.Hub`.

- `turns`: one turn through the service (ingest → analyse → store → events), and the one
  owner of a conversation's escalation level (the ladder never goes down).
- `waiting`: the scheduler that raises the "customer waiting" alert on time.
- `live`: the hub that fans alerts, turns and control notices out to WebSockets.
- `supervision`: join and take over; `conversations`: assign, transfer, claim, close.
- `presend`: the pre-send check of a draft with the conversation's context.
- `desk`: tickets, SLA, follow-up (回访), CSAT, the 四个不漏 ledger.
- `alerts`: the supervisor alerts (ladder steps) with acknowledgement and assignment.
- `webhooks`: signed outgoing deliveries of events to registered URLs.
- `replies`: the canned-reply library (话术库), every entry checked before it is saved.
- `staff`, `reports`: accounts and teams; the analytics report with the boards' filters.
- `container.Services`: all of the above wired together once per app.
"""
