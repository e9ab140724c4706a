"""GET /api/openapi.json is generated from the route table and the module definitions: it lists
every route the server registers, with its permission, and a schema per module that matches the
module's definition."""
import requests


def test_openapi_covers_every_route_and_module(server):
    doc = requests.get(server.url("/api/openapi.json"), headers={"Authorization": "none"}, timeout=10).json()
    assert doc["openapi"] == "3.1.0"
    routes = requests.get(server.url("/api/v1/system/routes"), timeout=10).json()["routes"]
    assert len(routes) > 30
    seen = 0
    for rt in routes:
        op = doc["paths"][rt["path"]][rt["method"].lower()]
        assert op["operationId"] == rt["name"]
        assert op["x-sifa-permission"] == rt["permission"]
        params = [p["name"] for p in op["parameters"] if p["in"] == "path"]
        assert params == [seg[1:-1] for seg in rt["path"].split("/") if seg.startswith("{")]
        assert all(p["in"] in ("path", "query") for p in op["parameters"])
        assert ("requestBody" in op) == rt["json_body"]
        assert (op.get("security") == []) == (rt["permission"] == "public")
        seen += 1
    assert seen == sum(len(v) for v in doc["paths"].values())  # nothing documented that is not served

    # the query of an export: its format (the rest are the list's filters)
    export = doc["paths"]["/api/v1/modules/{code}/records/export"]["get"]
    fmt = [p for p in export["parameters"] if p["name"] == "format"]
    assert fmt and fmt[0]["in"] == "query" and fmt[0]["schema"]["enum"] == ["xlsx", "csv"]
    # the org filters, which are not fields: org (exact) and org_under (a subtree), list and export alike
    for path in ("/api/v1/modules/{code}/records", "/api/v1/modules/{code}/records/export"):
        query = {p["name"]: p for p in doc["paths"][path]["get"]["parameters"] if p["in"] == "query"}
        assert {"org", "org_under"} <= set(query), path
        assert query["org_under"]["schema"] == {"type": "string"}

    modules = requests.get(server.url("/api/v1/modules"), timeout=10).json()["modules"]
    schemas = doc["components"]["schemas"]
    for m in modules:
        s = schemas[m["code"]]
        assert s["title"] == m["name"]
        assert list(s["properties"]) == [f["code"] for f in m["fields"]]
        assert s["required"] == [f["code"] for f in m["fields"] if f["required"]]
        for f in m["fields"]:
            p = s["properties"][f["code"]]
            assert p["title"] == f["name"]
            assert p.get("x-sifa-personal", False) == f["personal"]
            if f["type"] == "enum":
                assert p["enum"] == [c["code"] for c in f["codes"]["items"]]
                assert p["x-sifa-labels"] == [c["label"] for c in f["codes"]["items"]]
            if f["type"] == "date":
                assert p["format"] == "date"
    assert {r["$ref"].rsplit("/", 1)[1] for r in schemas["ModuleRecord"]["oneOf"]} == {m["code"] for m in modules}
    assert schemas["mediation_case"]["properties"]["amount"]["minimum"] == 0
    assert schemas["mediation_case"]["properties"]["parties"]["type"] == "array"
