"""`consent grant|withdraw`: the record written, and clear refusals that never repeat the subject."""

from __future__ import annotations

from argparse import Namespace

import pytest

from powersell.consent_commands import change_record
from pipeline_core.errors import ConfigError


def args(subject, purpose, scope=None, action="grant", subject_type=None, proof="TICKET-9"):
    return Namespace(subject=subject, purpose=purpose, scope=scope, action=action, subject_type=subject_type,
                     source="support", proof=proof, legal_basis="consent", at="2026-11-29T08:00:00Z")


@pytest.mark.parametrize("given, key, status, subject_type", [
    (args("shopee:42", "connection"), "shopee:42|SHOP_DATA_CONNECTION|shopee", "GRANTED", "SHOP"),
    (args("lazada:7", "marketing", action="withdraw"), "lazada:7|MARKETING_CONTACT|", "WITHDRAWN", "SHOP"),
    (args("shopee:42", "sharing", "swiftship"), "shopee:42|THIRD_PARTY_SHARING|swiftship", "GRANTED", "SHOP"),
    (args("ps_abc", "marketing"), "ps_abc|MARKETING_CONTACT|", "GRANTED", "BUYER"),
    (args("acct-9", "embedded", "youtube", subject_type="seller_account"), "acct-9|EMBEDDED_CONTENT|youtube", "GRANTED",
     "SELLER_ACCOUNT"),
])
def test_when_a_change_is_given_then_the_record_is_keyed_by_subject_purpose_and_scope(given, key, status, subject_type):
    got_key, record = change_record(given)
    assert (got_key, record["status"], record["subject_type"], record["source"]) == (key, status, subject_type, "SUPPORT")


@pytest.mark.parametrize("given, message", [
    (args("shopee:42", "sharing"), "--scope is required"),
    (args("shopee:42", "sharing", "unknown-partner"), "unknown partner"),
    (args("shopee:42", "embedded", "tiktok"), "unknown vendor"),
    (args("shopee:42", "marketing", "x"), "takes no --scope"),
    (args("buyer-123", "marketing", subject_type="buyer"), "keyed pseudonym"),
    (args("someone@example.vn", "marketing"), "cannot tell what kind of subject"),
    (args("shopee:42", "connection", proof=""), "--proof must name the proof"),
    (args("shopee:42", "marketing", action="withdraw", proof="  "), "--proof must name the proof"),
    (args("shopee:42", "connection", "lazada"), "does not match the subject's marketplace"),
    (args("tiktok_shop:9", "connection", "shopee", action="withdraw"), "does not match the subject's marketplace"),
])
def test_when_a_change_is_wrong_then_it_is_refused_without_repeating_the_subject(given, message):
    with pytest.raises(ConfigError, match=message) as caught:
        change_record(given)
    assert given.subject not in str(caught.value)
