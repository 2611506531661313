"""WeCom callback crypto: SHA1 signatures, AES-256-CBC framing (wechatpy's), XML and JSON safety, parsing, replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import struct
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast
from xml.etree import ElementTree

from cryptography.hazmat.primitives.ciphers import Cipher as AesCipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
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
    parts = [token.encode(), timestamp.encode(), nonce.encode(), encrypted.encode()]
    parts.sort()
    return hashlib.sha1(b"".join(parts)).hexdigest()


def check_signature(token: str, timestamp: str, nonce: str, encrypted: str, given: str) -> None:
    """Refuse a request whose msg_signature does not match, comparing in constant time."""
    expected = signature(token, timestamp, nonce, encrypted)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise CallbackRejected(403, "bad msg_signature")


def check_timestamp(timestamp: str, now: datetime, tolerance_seconds: int) -> None:
    """Refuse a timestamp further than tolerance_seconds from now (a replayed or forged request)."""
    # isascii: str.isdigit() also accepts '²' and other digits int() refuses.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise CallbackRejected(400, "timestamp is not a number")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise CallbackRejected(403, "stale timestamp")


# Base64 as WeCom writes a ciphertext (AES blocks: a multiple of 4 characters, no line breaks).
_CIPHERTEXT = re.compile(r"[A-Za-z0-9+/]+={0,2}\Z")


def ciphertext(value: object) -> str:
    """The Encrypt/encrypt field of an envelope, refused (400) unless it is base64: only then is it signed over."""
    if not isinstance(value, str) or not value:
        raise CallbackRejected(400, "no ciphertext in the body")
    if len(value) % 4 or _CIPHERTEXT.match(value) is None:
        raise CallbackRejected(400, "ciphertext is not base64")
    return value


# WeCom's framing: the message length as 4 bytes in network order; PKCS#7 padding to 32-byte blocks.
_LENGTH = struct.Struct(">I")
_BLOCK = 32


class Cipher:
    """AES-256-CBC as WeCom frames it: random(16) + length(4) + message + receive id, PKCS#7 padded to 32.

    The receive id is the corp id for the app callback and "" for the AI bot (智能机器人); wechatpy's
    PrpCrypto compares it exactly, so an empty id works as documented. Decryption is wechatpy's; encryption frames
    the message here with one AES object for the key (IV: the key's first 16 bytes, as WeCom has it): wechatpy's
    framing converts and pads in Python, half of a reply's encryption.
    """

    def __init__(self, encoding_aes_key: str, receive_id: str) -> None:
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        self._prp = PrpCrypto(key)
        self._aes = AesCipher(algorithms.AES(key), modes.CBC(key[:16]))
        self.receive_id = receive_id
        self._receive_id = receive_id.encode()

    def encrypt(self, plaintext: str) -> str:
        """plaintext framed and encrypted, as base64: random(16B) + msg_len(4B, network order) + msg + receive id
        (企业微信 加解密方案说明, developer.work.weixin.qq.com/document/path/91144, which calls the prefix a
        "16个字节的随机字符串": 16 random ASCII characters, drawn from `secrets`, as WeCom's own samples make it)."""
        message = plaintext.encode()
        framed = b"".join((_random_prefix(), _LENGTH.pack(len(message)), message, self._receive_id))
        padding = _BLOCK - len(framed) % _BLOCK  # a whole block when it fits exactly (PKCS#7)
        encryptor = self._aes.encryptor()  # a CBC context encrypts one message
        sealed = encryptor.update(framed + bytes((padding,)) * padding) + encryptor.finalize()
        return base64.b64encode(sealed).decode()

    def decrypt(self, encrypted: str) -> str:
        """The plaintext; 403 if it was made for another receive id (corp), 400 if it does not decrypt."""
        try:
            return self._prp.decrypt(encrypted, self.receive_id)
        except InvalidCorpIdException:
            raise CallbackRejected(403, "message is for another receive id (corp id)") from None
        except Exception:  # bad base64, block length, padding, length prefix or UTF-8: all mean tampering
            raise CallbackRejected(400, "ciphertext does not decrypt") from None


def _random_prefix() -> bytes:
    return secrets.token_hex(8).encode()


# A document may only be `<xml>…`, optionally after an XML declaration: no DOCTYPE, so no entities at all
# (entity bombs and XXE need a DTD, and a DTD may only stand before the root element).
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]{0,200}\?>\s*)?<xml>")


# WeCom's documents are flat: `<xml>`, then elements that each hold one CDATA section or plain text. For exactly
# that shape a pattern reads the same fields as ElementTree in a third of the time (ElementTree builds a parser and
# a tree for every document). Anything else goes to ElementTree: nesting, attributes, comments,
# references, a `]` anywhere (so no `]]>` split across sections), a carriage return (XML normalises line ends),
# characters XML forbids, a tag that repeats, a prolog.
_CDATA_CHARS = r"[^\]\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*"
_TEXT_CHARS = r"[^\]<&\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_FLAT_FIELD = re.compile(rf"<({_NAME})>(?:<!\[CDATA\[({_CDATA_CHARS})\]\]>|({_TEXT_CHARS}))</\1>")
# The document is `<xml>`, then fields each after optional whitespace, then `</xml>`: read in one pass, field by field
# (a field's end is unambiguous: its content holds no `]` and no `<`).
_FLAT_NEXT = re.compile(rf"[ \t\n]*{_FLAT_FIELD.pattern}")
_FLAT_END = re.compile(r"[ \t\n]*</xml>[ \t\n]*\Z")


def flat_fields(document: str) -> dict[str, str] | None:
    """The fields of a flat document as ElementTree reads them (text, "" when empty); None: not that shape."""
    if not document.startswith("<xml>"):
        return None
    fields: dict[str, str] = {}
    position, count = len("<xml>"), 0
    while (found := _FLAT_NEXT.match(document, position)) is not None:
        tag, cdata_text, text = found.groups()
        fields[tag] = cdata_text or text or ""
        position, count = found.end(), count + 1
    if _FLAT_END.match(document, position) is None:
        return None
    return fields if len(fields) == count else None


def parse_envelope(body: bytes) -> dict[str, str]:
    """The child elements of a callback's outer `<xml>` envelope (Encrypt, ToUserName, AgentID)."""
    if not _XML_START.match(body):
        raise CallbackRejected(400, "body is not a plain <xml> document (DOCTYPE or other prolog refused)")
    try:
        fields = flat_fields(body.decode())
    except UnicodeDecodeError:
        fields = None  # ElementTree says what is wrong with it
    if fields is not None:
        return fields
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
    """wechatpy's `parse_message`, with ElementTree (or, for a flat message, flat_fields) making the dict.

    wechatpy builds that dict with xmltodict, a pure-Python SAX handler: three times the cost of ElementTree,
    and a tenth of a callback's whole budget. The dict is the same shape (children by tag, repeated tags as a
    list, text stripped, None when empty); the message and event classes, and so every field's conversion, are
    wechatpy's. A document wechatpy would refuse is refused: CallbackRejected for a prolog (check_inner_xml),
    else ElementTree.ParseError, KeyError or ValueError.
    """
    fields = flat_fields(plaintext)  # a flat document starts with `<xml>`: it passes check_inner_xml
    if fields is not None:
        data: dict[str, Any] | str | None = {tag: text.strip() or None for tag, text in fields.items()}
    else:
        check_inner_xml(plaintext)
        data = _element_dict(_tree(plaintext))
    if not isinstance(data, dict):
        raise ValueError("message has no fields")
    kind = _plain(data["MsgType"]).lower()
    if kind == "event":
        return EVENT_TYPES.get(_plain(data["Event"]).lower(), UnknownMessage)(data)
    return MESSAGE_TYPES.get(kind, UnknownMessage)(data)


def _plain(value: object) -> str:
    """A type field's text (wechatpy fails on an empty, repeated or attributed one: so do we)."""
    if not isinstance(value, str):
        raise ValueError("MsgType or Event is not plain text")
    return value


def _tree(document: str) -> ElementTree.Element:
    """The root element; a document that declares a namespace is refused (xmltodict keeps namespaces as
    attributes, ElementTree resolves them: the two would read it differently, and WeCom never sends one)."""
    parser: ElementTree.XMLPullParser[Any] = ElementTree.XMLPullParser(events=("start", "start-ns"))
    parser.feed(document)
    parser.close()
    root = None
    for event, item in cast(Iterator[tuple[str, Any]], parser.read_events()):
        if event == "start-ns":
            raise ValueError("XML namespaces are not part of a WeCom message")
        if root is None:
            root = item
    if not isinstance(root, ElementTree.Element):
        raise ValueError("no root element")
    return root


def _element_dict(element: ElementTree.Element) -> dict[str, Any] | str | None:
    """As xmltodict reads an element: its text alone, or attributes (@name), children by tag and #text."""
    text = "".join([element.text or "", *(child.tail or "" for child in element)]).strip() or None
    if len(element) == 0 and not element.attrib:
        return text
    out: dict[str, Any] = {f"@{name}": value for name, value in element.attrib.items()}
    for child in element:
        value = _element_dict(child)
        if child.tag not in out:
            out[child.tag] = value
        elif isinstance(out[child.tag], list):
            out[child.tag].append(value)
        else:
            out[child.tag] = [out[child.tag], value]
    if text is not None:
        out["#text"] = text
    return out


# --- JSON (the AI bot) ------------------------------------------------------------------------------------
# WeCom's AI-bot messages are at most four levels deep (mixed → msg_item → item → text); json.loads itself
# recurses once per level and fails with RecursionError (a 500) near the interpreter's limit.
JSON_MAX_DEPTH = 16
_JSON_MARK = re.compile(r'["\[\]{}]')
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# A lone surrogate (only a \ud800-style escape makes one: strict UTF-8 has none) cannot be stored, and NUL
# cannot be stored in PostgreSQL text; neither is in a real message.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def parse_json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """A JSON object read strictly, or CallbackRejected(400): UTF-8 only, at most JSON_MAX_DEPTH levels deep
    (checked by a linear scan before json.loads sees it), no NaN/Infinity, no number beyond Python's digit limit,
    and no string or key holding a lone surrogate or NUL."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackRejected(400, f"{what} is not UTF-8") from None
    _check_depth(raw, what)
    try:
        data = _DECODER.decode(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, an over-long integer, NaN/Infinity
        raise CallbackRejected(400, f"{what} is not valid JSON") from None
    if not isinstance(data, dict):
        raise CallbackRejected(400, f"{what} is not a JSON object")
    if "\\u" not in raw and "\x00" not in raw and _no_surrogate(raw):
        # Without a \u escape every string and key is a piece of raw as it stands: none holds what raw does not.
        return data
    pending: list[object] = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and _UNSTORABLE.search(item):
            raise CallbackRejected(400, f"{what} holds a lone surrogate or NUL")
    return data


def _no_surrogate(text: str) -> bool:
    """Whether text has no lone surrogate (encoding checks that at C speed; _UNSTORABLE takes ten times as long)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_depth(text: str, what: str) -> None:
    if text.count("[") + text.count("{") <= JSON_MAX_DEPTH:
        return  # too few brackets to be too deep (every real message): no scan
    depth, position = 0, 0
    while (mark := _JSON_MARK.search(text, position)) is not None:
        if mark.group() == '"':
            string = _JSON_STRING.match(text, mark.start())
            if string is None:
                raise CallbackRejected(400, f"{what} is not valid JSON")
            position = string.end()
            continue
        depth += 1 if mark.group() in "[{" else -1
        if depth > JSON_MAX_DEPTH:
            raise CallbackRejected(400, f"{what} is nested more than {JSON_MAX_DEPTH} levels deep")
        position = mark.end()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder for all (json.loads with an argument builds a new one for every document).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


# --- identifiers ---------------------------------------------------------------------------------------------
# A WeCom userid is "1~64个字节" (通讯录 成员); chat and message ids are shorter than this in practice, and our
# columns hold 128 characters (an AI-bot message id is stored with a 6-character prefix).
USER_ID_MAX_BYTES = 64
ID_MAX_BYTES = 120


def platform_id(value: object, max_bytes: int = ID_MAX_BYTES) -> str | None:
    """value if it is a non-empty string of at most max_bytes UTF-8 bytes, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return None
    return value if size <= max_bytes else None


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
