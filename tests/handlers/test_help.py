"""帮助 / 菜单 and the router's handling of unmatched text."""

from bot import texts


async def test_help_lists_member_commands(bot):
    data = await bot.say("帮助", user="u01")
    [reply] = data["replies"]
    assert reply["text"].startswith(texts.HELP_HEADER.format(name="张伟"))
    assert texts.HELP_LINE.format(word="帮助", summary=texts.SUMMARY_HELP) in reply["text"]
    # An ordinary member is not offered admin commands.
    assert "设为书记" not in reply["text"]
    transcript = await bot.transcript()
    assert [line["text"] for line in transcript] == ["帮助", reply["text"]]


async def test_help_for_admin_lists_admin_commands(bot):
    data = await bot.say("菜单", user="u00")
    assert texts.HELP_LINE.format(word="设为书记", summary=texts.SUMMARY_SET_SECRETARY) in data["replies"][0]["text"]


async def test_unmatched_group_text_is_ignored(bot):
    data = await bot.say("今天下午的会几点开？", user="u02")
    assert data["replies"] == []
    assert [line["sender"] for line in await bot.transcript()] == ["u02"]


async def test_mention_with_unmatched_text_gets_short_help(bot):
    data = await bot.say("@学习驿站 今天天气怎么样", user="u02")
    assert [r["text"] for r in data["replies"]] == [texts.HELP_SHORT]
