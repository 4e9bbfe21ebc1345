"""Every council profile's Open Referral UK 3.0 feed validates against the published schemas
(tests/fixtures/oruk-3.0) the way the official validator checks a feed: `/`, then the first, a
middle and the last page of /services (pages small enough to make at least three), then each
service on those pages; and every page of every other list."""

from __future__ import annotations

from tests.api.test_oruk_feed import (
    PAGE_KEYS,
    SERVICE,
    SERVICE_AT_LOCATION,
    SERVICE_LIST,
    _empty_fields,
    _problems,
)


def _page(client, number: int, per_page: int) -> dict:
    answer = client.get(f"/oruk/services?page={number}&per_page={per_page}")
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert set(body) == PAGE_KEYS, sorted(body)
    assert body["page_number"] == number and body["size"] == per_page
    return body


def test_the_feed_validates_as_the_official_validator_checks_it(app):
    client = app.test_client()
    root = client.get("/oruk/")
    assert root.status_code == 200
    profile = app.extensions["triage"].profile
    assert root.json["version"] == "HSDS-UK-3.0" and root.json["profile"] == profile.id
    assert client.get(root.json["openapi_url"].replace("http://localhost", "")).status_code \
        == 200
    total = _page(client, 1, 50)["total_items"]
    assert total >= 3, "a profile publishes at least three services"
    per_page = max(1, total // 3)  # at least three pages
    first = _page(client, 1, per_page)
    pages = first["total_pages"]
    assert pages >= 3 and first["first_page"] and not first["last_page"]
    middle = _page(client, (pages + 1) // 2, per_page)
    last = _page(client, pages, per_page)
    assert last["last_page"] and not last["empty"] and not middle["first_page"]
    assert len(last["contents"]) == total - (pages - 1) * per_page
    problems, seen = [], []
    for page in (first, middle, last):
        for item in page["contents"]:
            problems += [f"list {item.get('id')}: {p}" for p in _problems(SERVICE_LIST, item)]
            seen.append(item["id"])
            one = client.get(f"/oruk/services/{item['id']}")
            assert one.status_code == 200
            problems += [f"service {item['id']}: {p}" for p in _problems(SERVICE, one.json)]
            problems += [f"service {item['id']}: {p} is sent empty"
                         for p in _empty_fields(one.json)]
            assert one.json["id"] == item["id"] and one.json["name"] == item["name"]
    assert not problems, "\n".join(problems)
    assert len(set(seen)) == len(seen), "a service on two pages"


def test_every_page_of_every_list_is_valid_and_services_at_locations_validate(app):
    client = app.test_client()
    for path in ("/oruk/taxonomies", "/oruk/taxonomy_terms", "/oruk/service_at_locations"):
        first = client.get(f"{path}?per_page=1").json
        assert set(first) == PAGE_KEYS, path
        last = client.get(f"{path}?per_page=1&page={first['total_pages']}").json
        assert last["last_page"], path
    located = client.get("/oruk/service_at_locations?per_page=200").json["contents"]
    problems = [p for item in located for p in _problems(SERVICE_AT_LOCATION, item)]
    assert not problems, "\n".join(problems)
