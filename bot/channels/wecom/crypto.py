"""WeCom callback crypto: SHA1 signatures, AES-256-CBC message framing (wechatpy's), XML safety and replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from wechatpy.messages import BaseMessage, UnknownMessage
from wechatpy.work.crypto import PrpCrypto
from wechatpy.work.events import EVENT_TYPES
from wechatpy.work.exceptions import InvalidCorpIdException
from wechatpy.work.messages import MESSAGE_TYPES


class CallbackRejected(Exception):
    """A callback request that must be refused: an HTTP status and a reason for the log (never a secret)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """msg_signature: SHA1 of the four values sorted and concatenated (WeCom's 加解密方案)."""
    parts = sorted(value.encode() for value in (token, timestamp, nonce, encrypted))
    return hashlib.sha1(b"".join(parts)).hexdigest()


def check_signature(token: str, timestamp: str, nonce: str, encrypted: str, given: str) -> None:
    """Refuse a request whose msg_signature does not match, comparing in constant time."""
    expected = signature(token, timestamp, nonce, encrypted)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise CallbackRejected(403, "bad msg_signature")


def check_timestamp(timestamp: str, now: datetime, tolerance_seconds: int) -> None:
    """Refuse a timestamp further than tolerance_seconds from now (a replayed or forged request)."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise CallbackRejected(400, "timestamp is not a number")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise CallbackRejected(403, "stale timestamp")


class _PrpCrypto(PrpCrypto):
    """wechatpy's framing with the 16-byte random prefix drawn from `secrets` rather than `random`."""

    def get_random_string(self) -> str:
        return secrets.token_hex(8)


class Cipher:
    """AES-256-CBC as WeCom frames it: random(16) + length(4) + message + receive id, PKCS#7 padded to 32.

    The receive id is the corp id for the app callback and "" for the AI bot (智能机器人); wechatpy's
    PrpCrypto compares it exactly, so an empty id works as documented.
    """

    def __init__(self, encoding_aes_key: str, receive_id: str) -> None:
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        self._prp = _PrpCrypto(key)
        self.receive_id = receive_id

    def encrypt(self, plaintext: str) -> str:
        return self._prp.encrypt(plaintext, self.receive_id).decode()

    def decrypt(self, encrypted: str) -> str:
        """The plaintext; 403 if it was made for another receive id (corp), 400 if it does not decrypt."""
        try:
            return self._prp.decrypt(encrypted, self.receive_id)
        except InvalidCorpIdException:
            raise CallbackRejected(403, "message is for another receive id (corp id)") from None
        except Exception:  # bad base64, block length, padding, length prefix or UTF-8: all mean tampering
            raise CallbackRejected(400, "ciphertext does not decrypt") from None


# A document may only be `<xml>…`, optionally after an XML declaration: no DOCTYPE, so no entities at all
# (entity bombs and XXE need a DTD, and a DTD may only stand before the root element).
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}\?>\s*)?<xml>")


def parse_envelope(body: bytes) -> dict[str, str]:
    """The child elements of a callback's outer `<xml>` envelope (Encrypt, ToUserName, AgentID)."""
    if not _XML_START.match(body):
        raise CallbackRejected(400, "body is not a plain <xml> document (DOCTYPE or other prolog refused)")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise CallbackRejected(400, "malformed XML") from None
    return {child.tag: child.text or "" for child in root}


def check_inner_xml(plaintext: str) -> None:
    """Apply the same prolog rule to decrypted XML before it is parsed."""
    if not _XML_START.match(plaintext.encode()):
        raise CallbackRejected(400, "decrypted message is not a plain <xml> document")


def parse_message(plaintext: str) -> BaseMessage:
    """wechatpy's `parse_message`, with ElementTree making the dict its message classes read.

    wechatpy builds that dict with xmltodict, a pure-Python SAX handler: three times the cost of ElementTree,
    and a tenth of a callback's whole budget. The dict is the same shape (children by tag, repeated tags as a
    list, text stripped, None when empty); the message and event classes, and so every field's conversion, are
    wechatpy's. Raises ElementTree.ParseError, KeyError or ValueError on a malformed message.
    """
    data = _element_dict(ElementTree.fromstring(plaintext))
    if not isinstance(data, dict):
        raise ValueError("message has no fields")
    kind = str(data["MsgType"]).lower()
    if kind == "event":
        return EVENT_TYPES.get(str(data["Event"]).lower(), UnknownMessage)(data)
    return MESSAGE_TYPES.get(kind, UnknownMessage)(data)


def _element_dict(element: ElementTree.Element) -> dict[str, Any] | str | None:
    if len(element) == 0:
        return (element.text or "").strip() or None
    out: dict[str, Any] = {}
    for child in element:
        value = _element_dict(child) if len(child) else (child.text or "").strip() or None
        if child.tag not in out:
            out[child.tag] = value
        elif isinstance(out[child.tag], list):
            out[child.tag].append(value)
        else:
            out[child.tag] = [out[child.tag], value]
    return out


def cdata(text: str) -> str:
    """Text as XML CDATA; a `]]>` inside is split across two sections (wechatpy does not do this)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def encrypted_xml_reply(cipher: Cipher, token: str, plaintext: str, timestamp: str, nonce: str) -> str:
    """A passive reply for the app callback: the plaintext XML encrypted, signed, in WeCom's envelope."""
    encrypted = cipher.encrypt(plaintext)
    signed = signature(token, timestamp, nonce, encrypted)
    return (
        f"<xml><Encrypt>{cdata(encrypted)}</Encrypt><MsgSignature>{cdata(signed)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )


def encrypted_json_reply(cipher: Cipher, token: str, plaintext: str, timestamp: str, nonce: str) -> str:
    """A passive reply for the AI bot: {"encrypt", "msgsignature", "timestamp", "nonce"}."""
    encrypted = cipher.encrypt(plaintext)
    signed = signature(token, timestamp, nonce, encrypted)
    return json.dumps({"encrypt": encrypted, "msgsignature": signed, "timestamp": timestamp, "nonce": nonce})
