"""Each redaction action on its own: tables of value -> result."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from schemas import TRANSFORMS
from streams.actions import (ACTIONS, ActionConfigError, ActionContext, ActionError, DropAction, EncryptAction,
                             GeneraliseAction, KeepAction, MaskAction, PseudonymAction, ScanAction, pseudonymise)
from pipeline_core.keystore import LocalKeyStore, SecretKey

KEY = SecretKey(bytes(range(32)))
CTX = ActionContext(pseudonym_key=KEY, marketplace="SHOPEE")


# ---------------------------------------------------------------- the registry
def test_registry_has_one_action_per_name_and_covers_every_schema_transform():
    assert set(ACTIONS) == {"drop", "mask", "pseudonym", "generalise", "encrypt", "scan", "keep"}
    assert TRANSFORMS <= set(ACTIONS)
    assert all(action.name == name for name, action in ACTIONS.items())


@pytest.mark.parametrize("name, params, problem", [
    ("mask", {"keep_last": 9}, "keep_last"),
    ("mask", {"keep": 3}, "no parameter keep"),
    ("mask", {"mask_char": "7"}, "mask_char"),
    ("generalise", {"to": "street"}, "to must be"),
    ("generalise", {"to": "network", "ipv4_prefix": 32}, "R8"),
    ("generalise", {"to": "network", "ipv6_prefix": 64}, "R8"),
    ("pseudonym", {"scope": "shop"}, "scope"),
    ("pseudonym", {"length": 8}, "length"),
    ("drop", {"keep_last": 1}, "takes no parameter"),
])
def test_when_a_rule_gives_bad_parameters_then_the_action_refuses_it(name, params, problem):
    with pytest.raises(ActionConfigError, match=problem):
        ACTIONS[name].from_rule("phone", params)


# ---------------------------------------------------------------- drop, keep
def test_when_dropped_then_nothing_is_kept():
    assert DropAction(kind="person_name").apply("Nguyễn Thị Lan", CTX) is None


def test_when_kept_then_the_value_is_a_copy():
    lines = ["a", "b"]
    kept = KeepAction(kind="none").apply(lines, CTX)
    assert kept == lines and kept is not lines


# ---------------------------------------------------------------- mask
@pytest.mark.parametrize("value, keep_last, expected", [
    ("0912345678", 3, "*******678"),
    ("+84 912 345 678", 3, "********678"),
    ("081-234-5678", 3, "*******678"),
    ("๐๘๑๒๓๔๕๖๗๘", 3, "*******678"),   # Thai digits
    ("1111", 4, "1111"),
    ("4111 1111 1111 1234", 4, "************1234"),
    ("12", 3, "12"),
    ("0912345678", 0, "**********"),
    ("no digits here", 3, None),
    ("", 3, None),
])
def test_when_masked_then_only_the_last_digits_remain(value, keep_last, expected):
    assert MaskAction(kind="phone", keep_last=keep_last).apply(value, CTX) == expected


def test_when_masked_then_no_letter_or_separator_survives():
    masked = MaskAction(kind="phone", keep_last=3).apply("call Lan +84 (912) 345-678 ext", CTX)
    assert re.fullmatch(r"\**678", masked)


# ---------------------------------------------------------------- pseudonym
def _ps(kind="customer_id", scope="marketplace", normalise="strip", key=KEY, marketplace="SHOPEE", value="b9000"):
    ctx = ActionContext(pseudonym_key=key, marketplace=marketplace)
    return PseudonymAction(kind=kind, scope=scope, normalise=normalise).apply(value, ctx)


def test_when_pseudonymised_then_the_result_is_a_prefixed_hmac_and_not_the_value():
    result = _ps()
    assert re.fullmatch(r"ps_[0-9a-f]{32}", result) and "9000" not in result


@pytest.mark.parametrize("change, same", [
    ({}, True),
    ({"value": " b9000 "}, True),                        # normalised
    ({"marketplace": "shopee"}, True),                   # scope is case-insensitive
    ({"value": "b9001"}, False),
    ({"marketplace": "LAZADA"}, False),                  # ids are unique per marketplace only
    ({"kind": "tracking_id"}, False),                    # kinds are domain-separated
    ({"key": SecretKey(b"k" * 32)}, False),
    ({"scope": "global"}, False),
])
def test_when_inputs_change_then_the_pseudonym_changes_only_as_expected(change, same):
    assert (_ps(**change) == _ps()) is same


def test_when_scope_is_global_then_the_marketplace_does_not_matter_and_case_folding_applies():
    a = _ps(kind="email", scope="global", normalise="casefold", marketplace="SHOPEE", value="Lan.Nguyen@Gmail.com")
    b = _ps(kind="email", scope="global", normalise="casefold", marketplace="LAZADA", value="lan.nguyen@gmail.com ")
    assert a == b == pseudonymise(KEY.reveal(), "email", "", "lan.nguyen@gmail.com")


@pytest.mark.parametrize("ctx, problem", [
    (ActionContext(marketplace="SHOPEE"), "pseudonym key"),
    (ActionContext(pseudonym_key=KEY), "marketplace"),
])
def test_when_the_context_lacks_what_a_pseudonym_needs_then_it_fails_closed(ctx, problem):
    with pytest.raises(ActionError, match=problem):
        PseudonymAction(kind="customer_id", scope="marketplace").apply("b9000", ctx)


def test_when_a_key_is_printed_then_its_bytes_are_not():
    assert "SecretKey(***)" == repr(KEY) == str(KEY) and "\\x00\\x01" not in repr(KEY)


# ---------------------------------------------------------------- generalise
@pytest.mark.parametrize("value, expected", [
    ("TP. Hồ Chí Minh", "Hồ Chí Minh"),
    ("Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
    ("HCM", "Hồ Chí Minh"),
    ("TP.HCM", "Hồ Chí Minh"),
    ("Ho Chi Minh City", "Hồ Chí Minh"),
    ("Hà Nội", "Hà Nội"),
    ("Ha Noi", "Hà Nội"),
    ("Tỉnh Bình Dương", "Bình Dương"),
    ("Khánh Hoà", "Khánh Hòa"),                        # the other tone-mark placement
    ("Thừa Thiên Huế", "Huế"),
    ("กรุงเทพฯ", "กรุงเทพมหานคร"),
    ("กทม.", "กรุงเทพมหานคร"),
    ("Bangkok", "กรุงเทพมหานคร"),
    ("จังหวัดเชียงใหม่", "เชียงใหม่"),
    ("จ.จันทบุรี", "จันทบุรี"),
    ("Chonburi", "ชลบุรี"),
    ("Quận 3", None),                                  # a district is not a province
    ("245 Nam Kỳ Khởi Nghĩa", None),                   # a street never passes
    ("เขตจตุจักร", None),
    ("", None),
])
def test_when_a_region_is_generalised_then_it_becomes_its_canonical_province(value, expected):
    assert GeneraliseAction(kind="location_region", to="province").apply(value, CTX) == expected


@pytest.mark.parametrize("value, expected", [
    ("113.161.45.12", "113.161.45.0/24"),
    (" 171.96.12.34 ", "171.96.12.0/24"),
    ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
    ("fe80::1%eth0", "fe80::/48"),
    ("::ffff:113.161.45.12", "113.161.45.0/24"),       # IPv4-mapped is IPv4
    ("113.161.45", None),
    ("not an address", None),
])
def test_when_an_ip_is_generalised_then_it_becomes_its_network(value, expected):
    assert GeneraliseAction(kind="ip_address", to="network").apply(value, CTX) == expected


@pytest.mark.parametrize("value, expected", [
    ("1990-04-17", "1990"),
    ("1990", "1990"),
    (date(1990, 4, 17), 1990),
    ("17/04/1990", None),
    (None, None),
])
def test_when_a_birth_date_is_generalised_then_only_the_year_remains(value, expected):
    assert GeneraliseAction(kind="date_of_birth", to="year").apply(value, CTX) == expected


# ---------------------------------------------------------------- scan
def test_when_scanned_then_the_scanner_replaces_text_and_findings_are_counted():
    ctx = ActionContext(scanner=lambda text: (text.replace("0912345678", "[PHONE]"), Counter(phone=1)))
    assert ScanAction(kind="free_text").apply("gọi 0912345678", ctx) == "gọi [PHONE]"
    assert ctx.found == Counter(phone=1)


@pytest.mark.parametrize("scanner", [None, lambda text: text, lambda text: (None, Counter())])
def test_when_no_usable_scanner_then_scanning_fails_closed(scanner):
    with pytest.raises(ActionError):
        ScanAction(kind="free_text").apply("gọi 0912345678", ActionContext(scanner=scanner))


# ---------------------------------------------------------------- encrypt
def test_when_encrypted_then_the_subjects_key_opens_it_and_the_plaintext_is_not_visible(tmp_path):
    store = LocalKeyStore.in_dir(tmp_path)
    sealed = EncryptAction(kind="email").apply("lan@example.com", ActionContext(keystore=store, subject="shopee:1"))
    assert b"lan@example.com" not in sealed
    assert store.open("shopee:1", sealed) == b"lan@example.com"


@pytest.mark.parametrize("ctx", [ActionContext(subject="shopee:1"), ActionContext(keystore=object())])
def test_when_encrypting_without_key_store_or_subject_then_it_fails_closed(ctx):
    with pytest.raises(ActionError):
        EncryptAction(kind="email").apply("lan@example.com", ctx)
