"""How Shopee's error answers are read: rate limiting, an access token to refresh, or a refusal."""

import pytest

from connectors.base import Action
from connectors.shopee.answers import classify


@pytest.mark.parametrize("status, message", [(200, ""), (200, "Request is too frequent."), (403, "whatever"),
                                             (429, "Too many requests, please try again later")])
def test_error_too_frequent_is_rate_limiting_whatever_the_status_and_the_message(status, message):
    outcome = classify(status, {}, {"request_id": "r", "error": "error_too_frequent", "message": message})
    assert outcome.action is Action.RATE_LIMITED and outcome.code == "error_too_frequent"


@pytest.mark.parametrize("error, message", [("error_auth", "Invalid access_token."),
                                            ("error_auth", "invalid access_token"),
                                            ("invalid_acceess_token", "Invalid access_token.")])
def test_an_access_token_shopee_no_longer_accepts_is_refreshed(error, message):
    outcome = classify(403, {}, {"request_id": "r", "error": error, "message": message})
    assert outcome.action is Action.REFRESH_TOKEN


@pytest.mark.parametrize("message", ["Invalid partner_id.", "Invalid code.", ""])
def test_other_authorisation_errors_are_refusals_not_refreshes(message):
    assert classify(403, {}, {"request_id": "r", "error": "error_auth", "message": message}).action is Action.FAIL


def test_an_order_window_shopee_refuses_is_a_refusal():
    answer = {"request_id": "r", "error": "order.order_list_invalid_time", "message": "Start time must be earlier than end time."}
    assert classify(200, {}, answer).action is Action.FAIL
