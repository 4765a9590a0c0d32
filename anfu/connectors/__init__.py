"""Connectors to helpdesks that centres already run. Each receives the helpdesk's own webhook
payloads, puts the turn through the service layer (`anfu.service.turns.TurnService`: stored,
analysed, ladder alerts to Anfu's supervisors) and writes the conclusions back through the
helpdesk's REST API (httpx; the transport is injectable for tests).

- `chatwoot`: `message_created` / `conversation_*` webhooks → a private note (emotion, reasons,
  top 话术) and labels (emotion, escalation level).
- `zammad`: trigger webhooks (ticket + article) → an internal note and tags.

Connectors sit beside the server: they import the service layer and never FastAPI
(tests/test_layering.py); `anfu/server/routes/connectors.py` only authenticates and hands over.
"""
