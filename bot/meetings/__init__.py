"""Meetings (主题党日, 三会一课): domain, models and texts."""
