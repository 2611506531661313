"""Message handlers: one router per module, listed in priority order in bot/app.py."""
