"""Text sent as WeCom markdown shows as written: what members typed (names, notice bodies) cannot format it.

[doc] The markdown WeCom renders (群机器人配置说明, developer.work.weixin.qq.com/document/path/91770; 发送应用消息
附录 "支持的markdown语法", path/90236): 标题 "# …" at a line's start, 加粗 "**bold**", 链接 "[text](url)", 行内代码
"`code`", 引用 "> …", 字体颜色 "<font color=\"info\">…</font>", and in a robot's text/markdown "<@userid>" to @ a
member ("机器人的text/markdown类型消息支持在content中使用<@userid>扩展语法来@群成员"). The AI bot's stream answers and
pushes are markdown too (智能机器人长连接, path/101463). No escape character is documented, so a zero-width space
(U+200B) goes where it breaks a construct: the text looks the same, and a member's "<@all>" or link stays plain text.
yizhan's own texts (the texts modules) use no markdown, so the whole text is defused and mentions are added after.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_LINE_START = re.compile(r"(?m)^([ \t]*)([#>])")
_DOUBLE_STAR = re.compile(r"\*(?=\*)")


def escape(text: str) -> str:
    """text with WeCom's markdown constructs broken by zero-width spaces (visible characters unchanged)."""
    text = text.replace("<", "<" + ZWSP)  # <font …>, <@userid>
    text = text.replace("](", "]" + ZWSP + "(")  # [text](url)
    text = _DOUBLE_STAR.sub("*" + ZWSP, text)  # **bold**
    text = text.replace("`", "`" + ZWSP)  # `code`
    return _LINE_START.sub(lambda m: m.group(1) + ZWSP + m.group(2), text)  # "# title", "> quote"


def mention(user_id: str) -> str:
    """A robot markdown @-mention of a member by userid."""
    return f"<@{user_id}>"
