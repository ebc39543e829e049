"""/api/docs works on an air-gapped network: every file the page loads is served by the platform."""
import re


def test_swagger_ui_loads_only_files_the_platform_serves(app):
    client = app.test_client()
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {r.rsplit("/", 1)[-1] for r in refs} >= {"swagger-ui.css", "swagger-ui-bundle.js",
                                                   "swagger-ui-standalone-preset.js"}
    assert not [r for r in refs if "//" in r], refs  # nothing from another host
    assert '"validatorUrl": null' in html  # no badge that posts the document to validator.swagger.io
    for ref in refs:
        r = client.get(ref)
        assert r.status_code == 200, ref
        assert len(r.data) > 10_000, ref  # the real file, not an error page
    assert client.get("/api/docs/assets/index.html").status_code == 404  # only what the page needs
    assert client.get("/api/docs/assets/..%2Fswagger_ui_bundle%2F__init__.py").status_code == 404
    spec = re.search(r'url: "([^"]+)"', html).group(1)
    assert client.get(spec).status_code == 200


def test_the_document_says_login_needs_no_token_and_everything_else_does(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert doc["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    # A bearer token, or the workspace's session cookie (writes with the cookie also send X-CSRF-Token).
    assert doc["security"] == [{"bearer": []}, {"session": []}]
    assert doc["components"]["securitySchemes"]["session"] == {"type": "apiKey", "in": "cookie",
                                                               "name": "anjian_session"}
    assert doc["paths"]["/api/v1/auth/session"]["post"]["security"] == []
    assert "security" not in doc["paths"]["/api/v1/tasks"]["get"]  # inherits the bearer requirement
