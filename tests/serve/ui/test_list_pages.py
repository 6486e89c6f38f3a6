"""The lists pages: lists with kinds and counts, a list's items, add (checked against the kind), remove with a
reason, CSV import (all lines or none), restore; the audit trail; CSRF on every form."""

from __future__ import annotations

import re

import pytest

from tests.serve.ui.conftest import csrf_of, log_in


@pytest.fixture
def lists_client(ui_client):
    """bob (analyst) logged in; an IP list `proxies` with one range."""
    from serve.rules_store.records import NewItem

    store = ui_client.app.state.rules.store
    store.create_list("proxies", "ip", author="root", description="open proxies")
    store.add_items("proxies", [NewItem("10.0.0.0/8", "known proxy range")], author="root")
    log_in(ui_client, "bob")
    return ui_client


def values(html: str) -> list[str]:
    return re.findall(r'data-value="([^"]+)"', html)


def test_the_lists_page_shows_each_list_with_its_kind_and_item_count_and_creates_one(lists_client) -> None:
    page = lists_client.get("/ui/lists").text
    row = page[page.index('data-list="proxies"'):]
    assert "@proxies" in row and "<td>ip</td>" in row and '<td class="num">1</td>' in row

    answer = lists_client.post("/ui/lists/create", data={"csrf_token": csrf_of(page), "name": "stolen_cards",
                                                        "kind": "card_fingerprint", "description": "reported"})
    assert "list stolen_cards (card_fingerprint) created" in answer.text
    bad = lists_client.post("/ui/lists/create", data={"csrf_token": csrf_of(page), "name": "Bad Name",
                                                     "kind": "ip"})
    assert bad.status_code == 422 and "lower-case letters" in bad.text and 'value="Bad Name"' in bad.text


def test_an_item_added_from_the_page_is_stored_in_its_normal_form_with_reason_author_and_expiry(lists_client) -> None:
    token = csrf_of(lists_client.get("/ui/lists/proxies").text)

    answer = lists_client.post("/ui/lists/proxies/add", data={"csrf_token": token, "value": "192.168.7.9/16",
                                                             "reason": "ticket 12",
                                                             "expires_at": "2099-01-01T00:00:00Z"})

    assert "proxies: 192.168.0.0/16 added (version 3)" in answer.text
    assert values(answer.text) == ["10.0.0.0/8", "192.168.0.0/16"]
    row = answer.text[answer.text.index('data-value="192.168.0.0/16"'):]
    assert "ticket 12" in row and "bob" in row and "2099-01-01 00:00 UTC" in row


def test_an_item_not_of_the_lists_kind_is_refused_beside_the_form_keeping_what_was_typed(lists_client) -> None:
    token = csrf_of(lists_client.get("/ui/lists/proxies").text)

    answer = lists_client.post("/ui/lists/proxies/add", data={"csrf_token": token, "value": "300.1.1.1",
                                                             "reason": "typo"})
    past = lists_client.post("/ui/lists/proxies/add", data={"csrf_token": token, "value": "1.2.3.4",
                                                           "expires_at": "2001-01-01T00:00:00Z"})
    local = lists_client.post("/ui/lists/proxies/add", data={"csrf_token": token, "value": "1.2.3.4",
                                                            "expires_at": "2099-01-01T00:00"})  # as the API: refused

    assert answer.status_code == 422 and 'class="refused"' in answer.text and "300.1.1.1" in answer.text
    assert 'name="value" value="300.1.1.1"' in answer.text
    assert past.status_code == 422 and "not in the future" in past.text
    assert local.status_code == 422 and "expires: not an RFC 3339 time" in local.text
    assert values(answer.text) == ["10.0.0.0/8"]


def test_removing_an_item_records_why_and_keeps_its_span_in_the_history(lists_client) -> None:
    token = csrf_of(lists_client.get("/ui/lists/proxies").text)

    answer = lists_client.post("/ui/lists/proxies/remove", data={"csrf_token": token, "value": "10.0.0.0/8",
                                                                "why": "range reassigned"})

    assert "proxies: 10.0.0.0/8 removed (version 3)" in answer.text and values(answer.text) == []
    audit = answer.text[answer.text.index('id="audit"'):]
    assert "range reassigned" in audit and "removed: 10.0.0.0/8 (1)" in audit
    everything = lists_client.get("/ui/lists/proxies?removed=true").text
    assert 'class="removed"' in everything and "10.0.0.0/8" in everything
    absent = lists_client.post("/ui/lists/proxies/remove", data={"csrf_token": token, "value": "10.0.0.0/8"})
    assert "Not removed" in absent.text


def test_a_csv_import_adds_every_line_or_none_from_a_file_or_pasted_text(lists_client) -> None:
    token = csrf_of(lists_client.get("/ui/lists/proxies").text)

    good = lists_client.post("/ui/lists/proxies/import", data={"csrf_token": token, "why": "feed"},
                             files={"csv_file": ("p.csv", b"value,reason\n1.2.3.4,feed\n5.6.7.0/24,feed\n",
                                                 "text/csv")})
    bad = lists_client.post("/ui/lists/proxies/import", data={"csrf_token": token,
                                                             "csv": "value\n8.8.8.8\n300.1.1.1\n"})

    assert "CSV imported (version 3; 3 items, were 1)" in good.text
    assert values(good.text) == ["10.0.0.0/8", "1.2.3.4/32", "5.6.7.0/24"]
    assert bad.status_code == 422 and "line 3" in bad.text and "300.1.1.1" in bad.text
    assert "8.8.8.8" not in values(bad.text)


def test_a_list_can_be_restored_to_an_earlier_version(lists_client) -> None:
    token = csrf_of(lists_client.get("/ui/lists/proxies").text)
    lists_client.post("/ui/lists/proxies/remove", data={"csrf_token": token, "value": "10.0.0.0/8"})

    answer = lists_client.post("/ui/lists/proxies/restore", data={"csrf_token": token, "version": "2"})

    assert "version 2 restored as version 4" in answer.text and values(answer.text) == ["10.0.0.0/8"]


def test_list_forms_without_the_csrf_token_are_refused(lists_client) -> None:
    answers = [lists_client.post("/ui/lists/proxies/add", data={"value": "9.9.9.9"}),
               lists_client.post("/ui/lists/proxies/remove", data={"value": "10.0.0.0/8"}),
               lists_client.post("/ui/lists/create", data={"name": "x", "kind": "ip", "csrf_token": "forged"})]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert values(lists_client.get("/ui/lists/proxies").text) == ["10.0.0.0/8"]
