"""The shipped workspace build (api/workspace/dist) is the build of the sources next to it, self-contained,
and served with a strict Content-Security-Policy.

dist/build-manifest.json (written by `npm run build`, api/workspace/scripts/manifest.mjs) holds the sha256 of
the sources it was built from and of every file it produced; both are recomputed here without node.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

WORKSPACE = Path(__file__).resolve().parent.parent / "api" / "workspace"
DIST = WORKSPACE / "dist"
# The same list as api/workspace/scripts/manifest.mjs.
SOURCE_FILES = ("index.html", "package.json", "package-lock.json", "vite.config.js")
REBUILD = "cd api/workspace && npm ci && npm run build"


def sources_sha256() -> str:
    """sha256 over the sorted sources, each as its path (relative, /-separated) + NUL + its bytes."""
    paths = [p.relative_to(WORKSPACE).as_posix() for p in (WORKSPACE / "src").rglob("*") if p.is_file()]
    paths += [f for f in SOURCE_FILES if (WORKSPACE / f).is_file()]
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.encode() + b"\0" + (WORKSPACE / path).read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = DIST / "build-manifest.json"
    assert path.is_file(), f"the workspace is not built ({path} missing): run `{REBUILD}`"
    return json.loads(path.read_text())


def test_the_shipped_build_is_the_build_of_the_sources(manifest):
    assert manifest["sources_sha256"] == sources_sha256(), (
        f"api/workspace sources changed since dist/ was built: run `{REBUILD}` and commit dist/")


def test_every_built_file_is_listed_with_its_hash(manifest):
    shipped = {p.relative_to(DIST).as_posix() for p in DIST.rglob("*") if p.is_file()} - {"build-manifest.json"}
    assert shipped == set(manifest["files"]), f"dist/ differs from its manifest: run `{REBUILD}`"
    for name, sha in manifest["files"].items():
        assert hashlib.sha256((DIST / name).read_bytes()).hexdigest() == sha, f"dist/{name} was changed by hand"
    assert "index.html" in shipped and any(n.startswith("assets/") and n.endswith(".js") for n in shipped)


def test_index_html_loads_only_shipped_files(manifest):
    html = (DIST / "index.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert refs, html
    for ref in refs:
        if ref.startswith("data:"):
            continue
        assert ref.startswith("/") and not ref.startswith("//"), f"index.html loads {ref} from elsewhere"
        assert ref.lstrip("/") in manifest["files"], f"index.html loads {ref}, which is not in dist/"
    assert not re.search(r"https?://|//cdn|<script(?![^>]*\bsrc=)[^>]*>", html), \
        "index.html holds an absolute URL or an inline script (the CSP forbids inline scripts)"


def test_no_asset_fetches_from_another_host(manifest):
    """Stylesheets import nothing remote; scripts name no CDN. (The browser test checks real requests.)"""
    for name in manifest["files"]:
        body = (DIST / name).read_text(errors="replace")
        if name.endswith(".css"):
            assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", body), f"{name} loads a remote resource"
        for cdn in ("//cdn", "unpkg.com", "jsdelivr", "googleapis", "cdnjs", "gstatic"):
            assert cdn not in body, f"{name} mentions {cdn}"


def test_the_workspace_is_served_with_a_strict_policy(app):
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and b'<div id="root">' in page.data
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp and "connect-src 'self'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-cache"
    script = re.search(r'src="(/assets/[^"]+\.js)"', page.get_data(as_text=True)).group(1)
    asset = client.get(script)
    assert asset.status_code == 200 and "javascript" in asset.headers["Content-Type"]
    assert "immutable" in asset.headers["Cache-Control"] and "max-age=31536000" in asset.headers["Cache-Control"]
    assert asset.headers["Content-Security-Policy"] == csp
    assert client.get("/assets/nope.js").status_code == 404
    assert client.get("/assets/../build-manifest.json").status_code == 404
    # The app is public; its data is not.
    assert client.get("/api/v1/tasks").status_code == 401
