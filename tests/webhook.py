"""A real webhook receiver on loopback for notify's deliveries (tests and benchmarks)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import free_port


class Webhook:
    """Answers 500 to the first ``fail_first`` requests, each after ``delay`` seconds; keeps every
    request as (lower-cased headers, body with ``_failed``). Stop it with ``server.shutdown()``."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0) -> None:
        self.hits: list[tuple[dict[str, str], dict]] = []
        self.fail_left = fail_first
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                failing = hook.fail_left > 0
                hook.fail_left -= failing
                hook.hits.append(
                    ({k.lower(): v for k, v in self.headers.items()}, body | {"_failed": failing})
                )
                time.sleep(delay)
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def bodies(self) -> list[dict]:
        return [body for _, body in self.hits]
