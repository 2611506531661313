"""yizhan (学习驿站): a group-chat bot for Party branches."""

__version__ = "0.1.0"
