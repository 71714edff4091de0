"""Letta Desktop: a desktop client that lets Letta agents see."""

__version__ = "0.1.0"
APP_NAME = "Letta Desktop"
APP_ID = "letta-desktop"
ORG_NAME = "Letta Desktop"
