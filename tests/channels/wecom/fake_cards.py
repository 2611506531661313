"""The fake WeCom's template cards: what each member sees on each card, taps on them, and updates.

Cards reach the board from every path that carries them (a long-connection push or stream_with_template_card
answer, an AI-bot passive answer, a response_url call); a member can only tap a button (or submit a choice)
that their copy of the card shows; an update replaces the copies of the users it names. Every card and update
is checked against WeCom's documented fields (see bot/core/channels/wecom/cards.py for the doc paths); a card that
breaks them is refused, as WeCom refuses it.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

# task_id: "只能由数字、字母和“_-@”组成，最长 128 字节"
_TASK_ID = re.compile(r"\A[A-Za-z0-9_\-@]{1,128}\Z")
INVALID = 40058  # the fake's errcode for a card that breaks the documented fields


class CardRefused(Exception):
    pass


def check_card(card: dict[str, Any]) -> None:
    """Raise CardRefused unless the TemplateCard keeps to the documented fields of its card_type."""
    kind = card.get("card_type")
    if kind not in ("button_interaction", "vote_interaction"):
        raise CardRefused(f"card_type {kind!r} is not an interactive card we send")
    if not isinstance(card.get("task_id"), str) or not _TASK_ID.match(card["task_id"]):
        raise CardRefused(f"task_id {card.get('task_id')!r}")
    title = card.get("main_title")
    if not isinstance(title, dict) or not title.get("title"):
        raise CardRefused("main_title.title is required")
    if kind == "button_interaction":
        buttons = card.get("button_list")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
            raise CardRefused("button_list: 1 to 6 buttons")
        keys = [b.get("key") for b in buttons]
        if len(set(keys)) != len(keys) or not all(isinstance(k, str) and 0 < len(k.encode()) <= 1024 for k in keys):
            raise CardRefused("button keys: unique, at most 1024 bytes")
        if any(not b.get("text") or b.get("style", 1) not in (1, 2, 3, 4) for b in buttons):
            raise CardRefused("button text required, style 1-4")
        if not set(card) <= {"card_type", "main_title", "sub_title_text", "button_list", "task_id", "source"}:
            raise CardRefused(f"unexpected fields {sorted(card)}")
    else:
        box = card.get("checkbox")
        if not isinstance(box, dict) or not box.get("question_key") or box.get("mode", 0) not in (0, 1):
            raise CardRefused("checkbox: question_key and mode 0|1")
        options = box.get("option_list")
        if not isinstance(options, list) or not 1 <= len(options) <= 20:
            raise CardRefused("checkbox.option_list: 1 to 20 options")
        if any(not o.get("id") or len(o["id"].encode()) > 128 or not o.get("text") for o in options):
            raise CardRefused("option id (≤128 bytes) and text required")
        submit = card.get("submit_button")
        if not isinstance(submit, dict) or not submit.get("text") or not submit.get("key"):
            raise CardRefused("submit_button: text and key required")
        if not set(card) <= {"card_type", "main_title", "checkbox", "submit_button", "task_id", "source"}:
            raise CardRefused(f"unexpected fields {sorted(card)}")


@dataclass
class Posted:
    """A card as posted to a chat."""

    chat: str
    card: dict[str, Any]
    text: str = ""  # the stream text it came with, if any
    members: tuple[str, ...] = ()  # an app card sent to many members at once (touser "a|b"): each has a copy


@dataclass
class CardBoard:
    posted: dict[str, Posted] = field(default_factory=dict)  # task_id -> the card as posted
    views: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (task_id, userid) -> copy
    updates: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def post(self, chat: str, card: dict[str, Any], text: str = "", members: list[str] | None = None) -> None:
        check_card(card)
        if card["task_id"] in self.posted:
            raise CardRefused("task_id used before (同一个机器人不能重复)")
        self.posted[card["task_id"]] = Posted(chat, copy.deepcopy(card), text, tuple(members or ()))

    def update(self, body: dict[str, Any], task_id: str) -> None:
        """update_template_card in the answer to a tap on task_id ([101031])."""
        if body.get("response_type") != "update_template_card":
            raise CardRefused("response_type must be update_template_card")
        card = body.get("template_card")
        if not isinstance(card, dict):
            raise CardRefused("template_card required")
        check_card(card)
        if card["task_id"] != task_id:
            raise CardRefused("the updated card's task_id must be the event's")
        users = body.get("userids")
        if not isinstance(users, list) or not users:
            raise CardRefused("the bot updates the tapper's copy only: userids expected")
        self.updates.append(copy.deepcopy(body))
        for user in users:
            self.views[(task_id, user)] = copy.deepcopy(card)

    def rename_button(self, task_id: str, user: str, name: str) -> None:
        """The app's update (更新点击用户的按钮文案): the tapper's copy shows one button with the new name."""
        card = copy.deepcopy(self.seen_by(task_id, user))
        card["button_list"] = [{"text": name, "key": f"renamed:{task_id}"}]
        self.views[(task_id, user)] = card

    # --- what members see and do ------------------------------------------------------------
    def in_chat(self, chat: str) -> list[dict[str, Any]]:
        return [p.card for p in self.posted.values() if p.chat == chat or chat in p.members]

    def latest(self, chat: str, title_prefix: str = "") -> dict[str, Any]:
        found = [c for c in self.in_chat(chat) if c["main_title"]["title"].startswith(title_prefix)]
        assert found, f"no card {title_prefix!r} in {chat}"
        return found[-1]

    def seen_by(self, task_id: str, user: str) -> dict[str, Any]:
        return self.views.get((task_id, user), self.posted[task_id].card)

    def labels(self, task_id: str, user: str) -> list[str]:
        """The button labels (or the submit button's) on the user's copy."""
        card = self.seen_by(task_id, user)
        if card["card_type"] == "button_interaction":
            return [b["text"] for b in card["button_list"]]
        return [card["submit_button"]["text"]]

    def key_of(self, task_id: str, user: str, label: str) -> str:
        card = self.seen_by(task_id, user)
        if card["card_type"] == "vote_interaction":
            assert card["submit_button"]["text"] == label, f"{user} sees no {label!r} on {task_id}"
            return str(card["submit_button"]["key"])
        keys = [b["key"] for b in card["button_list"] if b["text"] == label]
        assert keys, f"{user} sees no button {label!r} on {task_id}: {self.labels(task_id, user)}"
        return str(keys[0])

    def event(
        self,
        task_id: str,
        user: str,
        label: str,
        chat: str | None,
        *,
        chosen: tuple[str, ...] = (),
        nested: bool = True,
        msg_id: str | None = None,
        bot_id: str = "AIBOTID",
    ) -> dict[str, Any]:
        """The template_card_event of a tap ([101027]): nested under event.template_card_event (the HTTP
        callback's documented form) or flat in event (the long connection SDK's TemplateCardEventData)."""
        card = self.seen_by(task_id, user)
        key = self.key_of(task_id, user, label)
        data: dict[str, Any] = {"card_type": card["card_type"], "event_key": key, "task_id": task_id}
        if card["card_type"] == "vote_interaction":
            ids = {o["id"] for o in card["checkbox"]["option_list"]}
            assert set(chosen) <= ids and chosen, f"choose among {sorted(ids)}"
            assert card["checkbox"].get("mode", 0) == 1 or len(chosen) == 1
            data["selected_items"] = {
                "selected_item": [
                    {"question_key": card["checkbox"]["question_key"], "option_ids": {"option_id": list(chosen)}}
                ]
            }
        body: dict[str, Any] = {
            "msgid": msg_id or f"CARDEVT{next(self._ids)}",
            "create_time": 1_700_000_000,
            "aibotid": bot_id,
            "chattype": "group" if chat else "single",
            "from": {"userid": user},
            "msgtype": "event",
            "event": (
                {"eventtype": "template_card_event", "template_card_event": data}
                if nested
                else {"eventtype": "template_card_event", **data}
            ),
        }
        if chat:
            body["chatid"] = chat
        return body
