"""The weekly study day (学习日) and 学习打卡: domain, models and texts."""
