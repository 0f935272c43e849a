"""``vppcomp kibana import``: the request Kibana 8.x's saved-objects import
API documents (multipart ``file``, ``kbn-xsrf``, ``overwrite=true``, space
prefix), made to a loopback server that records it."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vppcomp.cli import main
from vppcomp.exporter.shipper import kibana


@pytest.fixture
def kibana_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
            ok = self.headers.get("kbn-xsrf") is not None
            answer = json.dumps({"success": ok, "successCount": 9 if ok else 0}).encode()
            self.send_response(200 if ok else 400)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_import_posts_every_saved_object(kibana_server: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = kibana_server
    assert main(["kibana", "import", "--url", url, "--space", "ops"]) == 0
    (request,) = seen
    assert request["path"] == "/s/ops/api/saved_objects/_import?overwrite=true"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["kbn-xsrf"]
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + request["body"]
    )
    (part,) = list(message.iter_parts())
    assert part.get_param("name", header="content-disposition") == "file"
    sent = [json.loads(line) for line in part.get_content().splitlines() if line]
    expected = kibana.saved_objects(kibana.default_files())
    assert sent == expected
    assert {o["type"] for o in sent} == {"index-pattern", "search", "lens", "dashboard"}


def test_a_bad_ndjson_line_is_a_clear_error(tmp_path: Any) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"id": "a"}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad\.ndjson:2: not JSON"):
        kibana.saved_objects([bad])
