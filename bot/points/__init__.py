"""The points ledger (积分): scoring rules, a member's sums, and texts."""
