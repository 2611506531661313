"""Notices (通知) with receipts (回执): domain and texts."""
