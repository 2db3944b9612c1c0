"""An existing Open311 client reading a Lianzheng server: `georeport` (PyPI, "Python wrapper for
the Open311 GeoReport v2 API"), unchanged, in both of its output formats. Run by tests/api/run.sh
against the small demo city; exits non-zero on the first thing the client cannot read.

usage: python open311_client.py http://127.0.0.1:PORT/open311/v2
"""

import sys

from georeport import GeoReport

root = sys.argv[1]
for fmt in ("json", "xml"):
    client = GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    services = services if isinstance(services, list) else [services]
    assert services, f"{fmt}: no services"
    codes = [s["service_code"] for s in services]
    for s in services:
        assert s["service_name"] and s["type"] in ("realtime", "batch", "blackbox"), s
        if str(s["metadata"]).lower() == "true":
            definition = client.get_service_definition(s["service_code"])
            assert definition, f"{fmt}: no definition for {s['service_code']}"
    # The last 90 days, as the standard defaults.
    requests = client.get_service_requests()
    requests = requests if isinstance(requests, list) else [requests]
    assert requests, f"{fmt}: the demo city has no service requests in the last 90 days"
    for r in requests:
        assert r["status"] in ("open", "closed"), r
        assert r["service_code"] in codes, r
        assert r["requested_datetime"], r
        for private in ("first_name", "last_name", "email", "phone"):
            assert private not in r, f"{fmt}: {private} exposed: {r}"
    for st in ("open", "closed"):
        got_st = client.get_service_requests(status=st)
        got_st = got_st if isinstance(got_st, list) else [got_st]
        assert all(r["status"] == st for r in got_st), f"{fmt}: status filter {st}"
    one = requests[0]
    got = client.get_service_request(one["service_request_id"])
    got = got[0] if isinstance(got, list) else got
    assert got["service_request_id"] == one["service_request_id"], got
    same_code = client.get_service_requests(service_code=one["service_code"])
    same_code = same_code if isinstance(same_code, list) else [same_code]
    assert all(r["service_code"] == one["service_code"] for r in same_code)
    print(
        f"georeport ({fmt}): {len(services)} services, {len(requests)} requests in the last 90 days "
        f"({sum(1 for r in requests if r['status'] == 'open')} open), "
        f"request {one['service_request_id']} read back, agency {got.get('agency_responsible')}"
    )
