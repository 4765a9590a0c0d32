"""Workflow: what happens after analysis (events, tickets, SLA, follow-up)."""
