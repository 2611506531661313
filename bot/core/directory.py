"""What this process knows of who is who: identities, members, chats, units, and where quizzes are live.

The directory is a cache, never the truth: the group commit (bot/core/groupcommit.py) reads again, inside its
transaction, the members and chats each decision relied on and the quizzes that could take an answer, and sends a
message whose grounds changed through its handler in that transaction instead. It learns from every commit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import intent
from bot.core.message import Message
from bot.core.models import Branch, Chat, Member, MemberIdentity, UnitKind
from bot.quiz.answers import may_answer

# A quiz session that may take answers: chat id, member id (practice), is a 每日一题, has a blank question.
BusyQuiz = tuple[int | None, int | None, bool, bool]


@dataclass(frozen=True)
class MemberCard:
    id: int  # 0: a newcomer, registered when the message is written
    branch_id: int
    role: str
    display_name: str


@dataclass(frozen=True)
class ChatCard:
    id: int
    branch_id: int


@dataclass(frozen=True)
class BranchCard:
    id: int
    key: str
    name: str
    kind: str = UnitKind.BRANCH
    ancestor_path: str = "/"


class Directory:
    """Identities, members, chats and branches as this process last saw them (loaded at start, then learnt)."""

    def __init__(self) -> None:
        self.identities: dict[tuple[str, str], int] = {}
        self.members: dict[int, MemberCard] = {}
        self.chats: dict[tuple[str, str], ChatCard] = {}
        self.branches: dict[int, BranchCard] = {}
        self.loaded = False

    async def load(self, session: AsyncSession) -> None:
        for b in await session.execute(select(Branch.id, Branch.key, Branch.name, Branch.kind, Branch.ancestor_path)):
            self.branches[b.id] = BranchCard(b.id, b.key, b.name, b.kind, b.ancestor_path)
        for c in await session.execute(select(Chat.id, Chat.branch_id, Chat.channel, Chat.platform_chat_id)):
            self.chats[(c.channel, c.platform_chat_id)] = ChatCard(c.id, c.branch_id)
        for m in await session.execute(select(Member.id, Member.branch_id, Member.role, Member.display_name)):
            self.members[m.id] = MemberCard(m.id, m.branch_id, m.role, m.display_name)
        for i in await session.execute(
            select(MemberIdentity.channel, MemberIdentity.platform_user_id, MemberIdentity.member_id)
        ):
            self.identities[(i.channel, i.platform_user_id)] = i.member_id
        self.loaded = True

    def rename(self, member_id: int, name: str) -> None:
        """A member's display name changed outside a message (a channel's contacts): keep the hint current."""
        card = self.members.get(member_id)
        if card is not None:
            self.members[member_id] = dataclasses.replace(card, display_name=name)

    def branch_by_key(self, key: str) -> BranchCard | None:
        return next((b for b in self.branches.values() if b.key == key), None)

    def learn(self, learned: Learned) -> None:
        """Remember what a handler's transaction resolved for a message (once it committed)."""
        msg, branch, chat, member = learned
        if branch is not None:
            self.branches[branch.id] = branch
        if chat is not None and msg.chat_id is not None:
            self.chats[(msg.channel, msg.chat_id)] = chat
        if member is not None:
            self.members[member.id] = member
            self.identities[(msg.channel, msg.sender_id)] = member.id

    def refresh(
        self,
        members: dict[int, MemberCard | None],
        chats: dict[int, ChatCard | None],
        registered: dict[tuple[str, str], MemberCard],
    ) -> None:
        """Apply what a committed transaction read again (None: gone) and the newcomers it registered.

        An unchanged card is kept (the pipeline keys its objects by it); a chat that changed or is gone is
        forgotten: the next message there is resolved in the transaction and teaches the directory again.
        """
        for member_id, current in members.items():
            if current is None:
                self.members.pop(member_id, None)
            elif self.members.get(member_id) != current:
                self.members[member_id] = current
        known = {card.id: card for card in self.chats.values() if card.id in chats}
        stale = {chat_id for chat_id, current in chats.items() if current is None or current != known.get(chat_id)}
        if stale:
            self.chats = {key: card for key, card in self.chats.items() if card.id not in stale}
        for key, card in registered.items():
            self.identities[key] = card.id
            self.members[card.id] = card


# What a message resolved to, as cards (read from the ORM objects while their transaction is open).
Learned = tuple[Message, BranchCard | None, ChatCard | None, MemberCard | None]


def cards_of(msg: Message, branch: Branch | None, chat: Chat | None, member: Member | None) -> Learned:
    return (
        msg,
        BranchCard(branch.id, branch.key, branch.name, branch.kind, branch.ancestor_path) if branch else None,
        ChatCard(chat.id, chat.branch_id) if chat else None,
        MemberCard(member.id, member.branch_id, member.role, member.display_name) if member else None,
    )


@dataclass(frozen=True)
class QuizGate:
    """What the quizzes live in one chat (or in a member's 错题 practice) may take as an answer."""

    any_text: bool = False  # a 抢答/竞赛/practice with a blank question: any text
    marked_text: bool = False  # a 每日一题 blank: text marked as an answer or addressed to the bot

    def admits(self, text: str, addressed: bool) -> bool:
        """Whether text could be an answer here (a 抢答 of choice questions cannot take '收到' or '帮助')."""
        any_text = self.any_text and intent.may_be_blank_answer(text)  # '哈哈这题好难' is not a blank's answer
        return may_answer(text, any_text=any_text, marked_text=self.marked_text, addressed=addressed)

    def rules_out(self, text: str) -> bool:
        """Whether text certainly answers none of these quizzes: they have no 填空 (free text), and it is shaped as no
        choice's or 对/错's answer (what answers.parse would take of it for any such question)."""
        blank = self.any_text or self.marked_text
        return not blank and not may_answer(text, any_text=False, marked_text=False, addressed=False)


def gates(busy: list[BusyQuiz]) -> tuple[dict[int, QuizGate], dict[int, QuizGate]]:
    """Per chat id and per member id (practice), the gate of the quizzes that may take answers there."""
    chats: dict[int, QuizGate] = {}
    members: dict[int, QuizGate] = {}
    for chat_id, member_id, daily, blank in busy:
        for place, key in ((chats, chat_id), (members, member_id)):
            if key is None:
                continue
            gate = place.get(key, QuizGate())
            place[key] = QuizGate(gate.any_text or (blank and not daily), gate.marked_text or (blank and daily))
    return chats, members
