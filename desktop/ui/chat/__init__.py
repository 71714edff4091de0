"""Talking to one agent: the session (history, sends, streams), composer, approvals, drafts."""
