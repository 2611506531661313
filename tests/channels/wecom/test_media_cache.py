"""A picture is uploaded once and its media_id reused while WeCom keeps it (3 days), per corp / per AI bot."""

from tests.channels.wecom.conftest import AIBOT_CHAT
from tests.channels.wecom.test_images import png, push_image
from tests.channels.wecom.test_longconn import start_long_connection, wait_for, ws  # noqa: F401 - fixtures


async def test_the_same_picture_to_many_members_is_uploaded_once(wecom):
    image = png(4)
    for user in ("m1", "m2", "m3"):
        await push_image(wecom, "user", user, "本周积分榜", image)
    await wecom.drain_outbox()
    assert wecom.fake.uploads == 1
    pictures = [r for r in wecom.fake.received if r.msgtype == "image"]
    assert sorted((r.target, r.image) for r in pictures) == [("m1", image), ("m2", image), ("m3", image)]
    await push_image(wecom, "user", "m4", "另一张", png(5))
    await wecom.drain_outbox()
    assert wecom.fake.uploads == 2  # other bytes, another upload


async def test_a_media_id_is_not_reused_near_the_end_of_its_three_days(wecom):
    image = png(4)
    await push_image(wecom, "user", "m1", "本周积分榜", image)
    await wecom.drain_outbox()
    wecom.clock.advance(days=2, hours=13)
    await push_image(wecom, "user", "m2", "本周积分榜", image)
    await wecom.drain_outbox()
    assert wecom.fake.uploads == 2
    assert [r.image for r in wecom.fake.received if r.msgtype == "image"] == [image, image]


async def test_a_cached_media_id_wecom_no_longer_knows_is_uploaded_again(wecom):
    image = png(4)
    await push_image(wecom, "user", "m1", "本周积分榜", image)
    await wecom.drain_outbox()
    wecom.fake.media.clear()  # WeCom forgot it early
    wecom.fake.media_uploaded.clear()
    wecom.clock.advance(hours=1)
    await push_image(wecom, "user", "m2", "本周积分榜", image)
    await wecom.drain_outbox()
    assert wecom.fake.uploads == 2
    assert sorted(r.target for r in wecom.fake.received if r.msgtype == "image") == ["m1", "m2"]


async def test_the_long_connection_uploads_a_picture_once(start_long_connection, ws):  # noqa: F811
    wecom = await start_long_connection()
    await ws.wait_subscribed()
    image = png(4)
    await push_image(wecom, "chat", AIBOT_CHAT, "本周积分榜", image)
    await push_image(wecom, "chat", "wrOtherGroup", "本周积分榜", image)
    await wecom.drain_outbox()
    await wait_for(lambda: len([s for s in ws.pushes() if s.body.get("msgtype") == "image"]) == 2)
    assert len(ws.media) == 1
    wecom.clock.advance(days=3)
    await push_image(wecom, "chat", AIBOT_CHAT, "本周积分榜", image)
    await wecom.drain_outbox()
    await wait_for(lambda: len([s for s in ws.pushes() if s.body.get("msgtype") == "image"]) == 3)
    assert len(ws.media) == 2
