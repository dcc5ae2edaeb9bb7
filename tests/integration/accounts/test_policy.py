from __future__ import annotations

from bookings.accounts import policy
from bookings.accounts.passwords import MIN_PASSWORD_LENGTH


def test_deny_list_has_a_few_hundred_lower_case_entries():
    words = policy.common_passwords()
    assert len(words) >= 300
    assert all(word == word.lower() for word in words)


def test_common_password_refused_whatever_its_case():
    assert policy.password_problem("PassWord1234") is not None
    assert "common" in policy.password_problem("PassWord1234")


def test_password_one_short_of_minimum_refused():
    assert policy.password_problem("a" * 5 + "b" * (MIN_PASSWORD_LENGTH - 6)) is not None
    assert policy.password_problem("plum orchard") is None


def test_password_over_256_characters_refused():
    assert policy.password_problem("ab" * 128) is None
    assert policy.password_problem("ab" * 128 + "c") is not None


def test_password_same_as_email_refused():
    assert policy.password_problem("Ann.Long@Council.example", email="ann.long@council.example") is not None
    assert policy.password_problem("ann.long@council.example", email="bob.long@council.example") is None


def test_email_validated_without_deliverability_check():
    assert policy.email_problem("ann@council.example") is None
    assert policy.email_problem("ann@") is not None
    assert policy.email_problem("") == "Enter your email address"
