"""[wecom] configuration: disabled by default, secrets from the environment, never in a repr."""

import pytest

from bot.core.config import ConfigError, parse_config
from tests.channels.wecom.conftest import AES_KEY
from tests.conftest import ROOT


def test_shipped_config_has_wecom_off():
    from bot.core.config import load_config

    assert load_config(ROOT / "config.toml", env={}).wecom.enabled is False


def test_secrets_come_from_the_environment_and_stay_out_of_repr():
    env = {
        "YIZHAN_WECOM_ENABLED": "true",
        "YIZHAN_WECOM_CORP_ID": "wwcorp",
        "YIZHAN_WECOM_AGENT_ID": "1000002",
        "YIZHAN_WECOM_APP_SECRET": "s3cret-app",
        "YIZHAN_WECOM_CALLBACK_TOKEN": "s3cret-token",
        "YIZHAN_WECOM_ENCODING_AES_KEY": AES_KEY,
        "YIZHAN_WECOM_ROBOT_WEBHOOKS": "g1=s3cret-key1, g2=s3cret-key2",
    }
    config = parse_config({}, env=env)
    assert config.wecom.app_secret == "s3cret-app" and config.wecom.encoding_aes_key == AES_KEY
    assert config.wecom.robot_keys() == {"g1": "s3cret-key1", "g2": "s3cret-key2"}
    assert "s3cret" not in repr(config) and AES_KEY not in repr(config)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"encoding_aes_key": "short"}, "[wecom] encoding_aes_key: must be the 43-character EncodingAESKey"),
        ({"robot_webhooks": ["g1"]}, "[wecom] robot_webhooks: each entry must look like"),
        ({"robot_webhooks": ["g1=a", "g1=b"]}, "[wecom] robot_webhooks: chat id 'g1' is listed twice"),
        ({"api_base_url": "qyapi.weixin.qq.com"}, "[wecom] api_base_url: must start with https://"),
        ({"reply_budget_seconds": 5.0}, "[wecom] reply_budget_seconds: must be more than 0 and at most 4.5"),
        ({"enabled": True}, "[wecom] enabled: nothing to connect"),
        ({"enabled": True, "app_secret": "x"}, "[wecom] agent_id: app_secret is set"),
        ({"enabled": True, "callback_token": "t", "corp_id": "c"}, "[wecom] callback_token: the app callback needs"),
        ({"enabled": True, "aibot_token": "t"}, "[wecom] aibot_token: the AI bot needs both"),
        ({"enabled": True, "appchats": ["c1"], "robot_webhooks": ["g=k"]}, "[wecom] appchats: pushing to app group"),
    ],
)
def test_bad_wecom_config_is_one_line_naming_the_key(section, expected):
    with pytest.raises(ConfigError) as err:
        parse_config({"wecom": section}, env={})
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)


def test_a_bad_webhook_entry_is_not_echoed():
    with pytest.raises(ConfigError) as err:
        parse_config({"wecom": {"robot_webhooks": ["secret-key-without-chat"]}}, env={})
    assert "secret-key" not in str(err.value)
