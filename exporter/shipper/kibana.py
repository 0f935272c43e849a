"""Load the Kibana saved objects (``dashboards/kibana/*.ndjson``) into Kibana.

``POST <kibana>/api/saved_objects/_import?overwrite=true`` with the NDJSON as
a multipart ``file`` and the ``kbn-xsrf`` header, as Kibana 8.x documents
it; the equivalent ``curl`` is in exporter/shipper/README.md.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

KIBANA_DIR = Path(__file__).resolve().parents[2] / "dashboards" / "kibana"


def default_files() -> list[Path]:
    """Every NDJSON file of ``dashboards/kibana``."""
    return sorted(KIBANA_DIR.glob("*.ndjson"))


def saved_objects(files: list[Path]) -> list[dict[str, Any]]:
    """The objects of ``files`` (one JSON object per non-empty line)."""
    objects = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                try:
                    objects.append(json.loads(line))
                except ValueError as error:
                    raise ValueError(f"{path}:{number}: not JSON: {error}") from error
    return objects


def import_objects(
    url: str,
    files: list[Path],
    username: str | None = None,
    password: str | None = None,
    space: str | None = None,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Import ``files`` into Kibana at ``url``; returns Kibana's answer
    (``success``, ``successCount``, ``errors``). Raises ``OSError`` when
    Kibana cannot be reached and ``ValueError`` on an error answer."""
    body = "".join(
        json.dumps(obj, separators=(",", ":")) + "\n" for obj in saved_objects(files)
    ).encode()
    boundary = uuid.uuid4().hex
    payload = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="vppcomp.ndjson"\r\n'
            "Content-Type: application/ndjson\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    prefix = f"/s/{space}" if space else ""
    request = urllib.request.Request(
        f"{url.rstrip('/')}{prefix}/api/saved_objects/_import?overwrite=true",
        data=payload,
        method="POST",
        headers={
            "kbn-xsrf": "vppcomp",
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    if username is not None:
        token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
        request.add_header("authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return dict(json.loads(answer.read()))
    except urllib.error.HTTPError as error:
        raise ValueError(f"Kibana answered {error.code}: {error.read()[:2000]!r}") from error
