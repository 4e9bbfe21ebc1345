"""What the service directory costs with many partners' services: importing a feed file of N
services (ORUK 3.0), then the feed's pages (first, middle, last), one service, services near a
postcode, and the public directory page, through the whole Flask stack. Prints the import's
seconds and median / p95 ms per request, on SQLite and PostgreSQL (a throwaway database).

    .venv/bin/python bench/directory.py [--services 5000] [--requests 30] [--only sqlite]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, migrated_app, on_each_backend  # noqa: E402

TEMPLATE = ROOT / "tests" / "fixtures" / "oruk-import" / "partner-3.0.json"


def _feed(n: int) -> Path:
    """A feed file of n services shaped like the test fixture's, with fresh ids."""
    base = json.loads(TEMPLATE.read_text())["contents"]
    contents = []
    for i in range(n):
        doc = copy.deepcopy(base[i % len(base)])
        doc["id"] = str(uuid.uuid4())
        doc["name"] = f"{doc['name']} {i:05d}"
        org = dict(doc["organization"], id=str(uuid.uuid4()) if i % 10 == 0 else
                   doc["organization"]["id"])
        doc["organization"], doc["organization_id"] = org, org["id"]
        for sal in doc["service_at_locations"]:
            sal["service_id"] = doc["id"]
        contents.append(doc)
    path = Path(tempfile.mkdtemp(prefix="bench-feed-")) / "feed.json"
    path.write_text(json.dumps({"total_items": n, "total_pages": 1, "page_number": 1,
                                "size": n, "first_page": True, "last_page": True,
                                "empty": False, "contents": contents}))
    return path


def _near(rt, feed: Path) -> tuple[str, str]:
    """(label, path) of the services-near-a-postcode query: within 5 km of the postcode of
    the feed's first location when the profile knows where its district is (directory
    postcode_districts), else every service at a location in that postcode district."""
    postcode = next(a["postal_code"] for doc in json.loads(feed.read_text())["contents"]
                    for sal in doc["service_at_locations"]
                    for a in (sal.get("location") or {}).get("addresses", [])
                    if a.get("postal_code"))
    outward = postcode.split()[0]
    if outward in rt.profile.directory.postcode_districts:
        return "near a postcode", (f"/oruk/service_at_locations?postcode={quote(postcode)}"
                                   "&proximity=5000&per_page=50")
    print(f"profile {rt.profile.id} does not know where {outward} is (directory "
          "postcode_districts): services in the district are measured, not near it")
    return "postcode district", f"/oruk/service_at_locations?postcode={outward}&per_page=50"


def _time(client, path: str, requests: int) -> tuple[float, float]:
    client.get(path)  # warm
    took = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    took.sort()
    return statistics.median(took), took[int(len(took) * 0.95) - 1]


def run(name: str, url: str, services: int, requests: int) -> None:
    from triage.services.directory import importer

    app = migrated_app(url)
    rt = app.extensions["triage"]
    feed = _feed(services)
    start = time.perf_counter()
    loaded = importer.load(rt, feed)
    took = time.perf_counter() - start
    print(f"{name}: imported {loaded.services} services in {took:.1f} s "
          f"({took / loaded.services * 1000:.2f} ms each)")
    client = app.test_client()
    pages = client.get("/oruk/services?per_page=50").json["total_pages"]
    middle = max(1, pages // 2)  # page numbers start at 1
    some = client.get(f"/oruk/services?per_page=50&page={middle}").json["contents"][0]["id"]
    for label, path in (
            ("feed page 1", "/oruk/services?per_page=50"),
            ("feed middle page", f"/oruk/services?per_page=50&page={middle}"),
            ("feed last page", f"/oruk/services?per_page=50&page={pages}"),
            ("feed search", "/oruk/services?search=food&per_page=50"),
            ("one service", f"/oruk/services/{some}"),
            _near(rt, feed),
            ("directory page", "/services"),
            ("directory search", "/services?search=debt")):
        median, p95 = _time(client, path, requests)
        print(f"{name}: {label:18} median {median:7.1f} ms  p95 {p95:7.1f} ms")
    rt.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    on_each_backend(args.only, lambda name, url: run(name, url, args.services, args.requests))


if __name__ == "__main__":
    main()
