"""Social handles (issue 12): a bare "@name" and a name after a social network are HANDLE;
a profile link stays URL, a handle after a chat app stays CHAT_ID, an e-mail stays EMAIL."""

from __future__ import annotations

import pytest

from streams.detectors import redact_text, scan


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start:f.end]) for f in scan(text)]


@pytest.mark.parametrize("text, handle", [
    ("liên hệ fb.com/nguyen.van.an hoặc @nguyenvanan", "@nguyenvanan"),
    ("Ket ban kenh tiktok @bao.nguyen.55 nhe", "@bao.nguyen.55"),
    ("Tag @chaiwat.thongdee in your review", "@chaiwat.thongdee"),
    ("แม่ค้าคะ แท็ก@somjai.shop ด้วยนะคะ", "@somjai.shop"),
    ("Xem video review ở fb phuong1993", "phuong1993"),
    ("fb: lan.tran92", "lan.tran92"),
    ("twitter: somchai_j", "somchai_j"),
    ("add facebook nguyenlan.hcm nha", "nguyenlan.hcm"),
])
def test_when_a_social_handle_is_written_then_it_is_a_handle(text, handle):
    assert ("HANDLE", handle) in found(text), found(text)


@pytest.mark.parametrize("text, kind, value", [
    ("liên hệ fb.com/nguyen.van.an hoặc @nguyenvanan", "URL", "fb.com/nguyen.van.an"),  # a link stays URL
    ("facebook.com/lan.tran.92", "URL", "facebook.com/lan.tran.92"),
    ("https://www.tiktok.com/@lan.shop", "URL", "https://www.tiktok.com/@lan.shop"),
    ("IG: lan.tran", "CHAT_ID", "lan.tran"),  # after a chat app's name: CHAT_ID
    ("Telegram: @minh_nguyen", "CHAT_ID", "@minh_nguyen"),
    ("Email: lan.tran@gmail.com", "EMAIL", "lan.tran@gmail.com"),  # never a handle
    ("mail 0912345678@gmail.com", "EMAIL", "0912345678@gmail.com"),
])
def test_when_a_handle_is_a_link_a_chat_id_or_an_email_then_that_kind_wins(text, kind, value):
    assert (kind, value) in found(text)
    assert not [v for k, v in found(text) if k == "HANDLE" and v in value]


@pytest.mark.parametrize("text", [
    "Đặt 3 cái @150k nha", "Buy 2 @$12", "mua 2 @ 50k", "hẹn @ 10h nhé", "@all shop nghỉ Tết", "#ootd #fyp sale",
    "Follow fb shop nhé", "tiktok live tối nay", "fb của shop", "size x l", "Inbox fanpage để được tư vấn",
])
def test_when_an_at_sign_or_a_network_name_is_no_handle_then_nothing_is_a_handle(text):
    assert [v for k, v in found(text) if k == "HANDLE"] == []


def test_when_a_handle_is_redacted_then_it_becomes_its_placeholder():
    assert redact_text("liên hệ @nguyenvanan nhé")[0] == "liên hệ [HANDLE] nhé"
