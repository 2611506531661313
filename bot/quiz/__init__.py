"""Quizzes: the question bank, answer parsing, 每日一题 / 抢答 / 竞赛, leaderboards, 错题本 and 搜题."""
