"""Every word a chat user sees, and the command words, kept in one place for review."""

from __future__ import annotations

# --- Command words (the first of each is the one shown in help) -----------------
CMD_HELP = ("帮助", "菜单", "help", "功能", "命令")
CMD_WHOAMI = ("我是谁", "我的信息", "whoami")
CMD_SET_SECRETARY = ("设为书记", "设为组织委员", "设置书记")
CMD_SET_ADMIN = ("设为管理员",)
CMD_SET_MEMBER = ("取消书记", "取消管理员", "设为党员")
CMD_SET_GROUP = ("分组", "设置党小组")

# --- Roles and help ---------------------------------------------------------------------
ROLE_NAMES = {"member": "党员", "secretary": "书记/组织委员", "admin": "管理员"}

HELP_HEADER = "【学习驿站】您好，{name}！可以对我说："
HELP_LINE = "· {word} — {summary}"
HELP_FOOTER = "在群里发命令时可以先 @我；说“帮助”随时查看本菜单。"
HELP_SHORT = "没听懂这句话呢。发送“帮助”可以查看我能做的事。"

SUMMARY_HELP = "查看可用命令"
SUMMARY_WHOAMI = "查看我的身份、角色和党小组"
SUMMARY_SET_SECRETARY = "把某人设为书记/组织委员，如：设为书记 @张三"
SUMMARY_SET_ADMIN = "把某人设为管理员，如：设为管理员 @张三"
SUMMARY_SET_MEMBER = "把某人恢复为普通党员，如：设为党员 @张三"
SUMMARY_SET_GROUP = "调整党小组，如：分组 @张三 执法党小组"

EXAMPLE_SET_SECRETARY = "设为书记 @张三"
EXAMPLE_SET_ADMIN = "设为管理员 @张三"
EXAMPLE_SET_MEMBER = "设为党员 @张三"
EXAMPLE_SET_GROUP = "分组 @张三 {group}"
EXAMPLE_GROUP_NAME = "第一党小组"
LIST_SEPARATOR = "、"
NONE_LISTED = "（无）"

WHOAMI = "{name}，您的角色是{role}，所在支部：{branch}，党小组：{group}。"
NO_GROUP = "未分组"

# --- Refusals and errors ----------------------------------------------------------------
NOT_ALLOWED = "抱歉，“{word}”需要{role}权限。如需办理，请联系支部书记。"
GENERIC_ERROR = "抱歉，刚才处理出了点问题，请稍后再试一次。"
CHAT_NOT_BOUND = "本群还没有绑定党支部，暂时无法使用。请管理员在配置中绑定本群。"
NEED_MENTION = "请在命令后 @ 要设置的同志，例如：{example}"
MEMBER_NOT_FOUND = "没有找到“{name}”，请确认姓名与群内显示一致。"
MEMBER_AMBIGUOUS = "支部里有多位“{name}”，请联系管理员处理。"
ROLE_SET = "已将{name}设为{role}。"
ROLE_UNCHANGED = "{name}已经是{role}了。"
ROLE_PINNED = "{name}的{role}身份写在配置文件里，需在配置中修改。"
ROLE_SELF_DEMOTE = "不能取消自己的管理员身份，请另一位管理员操作。"
GROUP_SET = "已将{name}调整到{group}。"
GROUP_UNKNOWN = "没有找到党小组“{group}”。本支部的党小组有：{groups}。"
GROUP_NEED_NAME = "请写明党小组名称，例如：分组 @张三 {example}"

# --- Simulator UI -----------------------------------------------------------------------
SIM_TITLE = "学习驿站 · 模拟群聊"
SIM_BOT_NAME_FALLBACK = "学习驿站"
SIM_UNKNOWN_CHAT = "没有这个群。"
SIM_BAD_REQUEST = "请求格式不正确：{reason}"
