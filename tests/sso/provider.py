"""A small OpenID Connect provider for the tests, run as its own process on a free port.

``python -m tests.sso.provider PORT CLIENT_ID CLIENT_SECRET``. The authorization endpoint
approves at once, as the person set with ``POST /control`` (subject, username, groups),
and ``POST /control`` also picks a misbehaviour (``mode``) to test the engine's refusals,
or rotates the signing key (``rotate_key``).
It signs ID tokens with RS256 (joserfc) and checks the PKCE verifier, the client's
secret and that each code is used once — as a real provider does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

MODES = {
    "ok",
    "error",  # the authorization endpoint answers error=access_denied
    "wrong_nonce",
    "wrong_audience",
    "wrong_issuer",
    "expired",
    "unknown_kid",  # signed with a key the JWKS does not publish
    "tampered",  # a claim changed after signing
    "slow",  # the token endpoint answers after ``delay`` seconds
    "oversized",  # the token answer is megabytes long
    "malformed",  # the token answer is not JSON
    "wrong_state",  # the answer carries another state (altered on its way back)
    "ignore_max_age",  # reuses the earlier auth_time even when asked to authenticate again
}


class Provider:
    def __init__(self, issuer: str, client_id: str, client_secret: str) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger", "alg": "RS256"})
        self.person: dict[str, Any] = {"sub": "sub-1", "preferred_username": "alice", "groups": []}
        self.mode = "ok"
        self.delay = 0.0
        self.codes: dict[str, dict[str, Any]] = {}
        self.auth_time: int | None = None  # the provider's own "session"
        self.lock = threading.Lock()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, query: dict[str, str]) -> str:
        redirect = query["redirect_uri"]
        if query.get("client_id") != self.client_id or query.get("code_challenge_method") != "S256":
            return f"{redirect}?{urlencode({'error': 'invalid_request', 'state': query.get('state', '')})}"
        if self.mode == "error":
            refusal = {"error": "access_denied", "error_description": "Denied", "state": query["state"]}
            return f"{redirect}?{urlencode(refusal)}"
        now = int(time.time())
        fresh = query.get("max_age") == "0" or query.get("prompt") == "login"
        with self.lock:
            if self.auth_time is None or (fresh and self.mode != "ignore_max_age"):
                self.auth_time = now
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": query.get("nonce"),
                "challenge": query["code_challenge"],
                "redirect_uri": redirect,
                "person": dict(self.person),
                "auth_time": self.auth_time,
            }
        state = query["state"] if self.mode != "wrong_state" else f"forged{query['state']}"
        return f"{redirect}?{urlencode({'code': code, 'state': state})}"

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, bytes]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, json.dumps({"error": "invalid_client"}).encode()
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return 400, json.dumps({"error": "invalid_grant"}).encode()
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"] or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, json.dumps({"error": "invalid_grant"}).encode()
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "oversized":
            return 200, b'{"padding": "' + b"x" * (3 * 1024 * 1024) + b'"}'
        if self.mode == "malformed":
            return 200, b"<html>not json</html>"
        now = int(time.time())
        claims = {
            **grant["person"],
            "iss": self.issuer if self.mode != "wrong_issuer" else "https://elsewhere.example",
            "aud": self.client_id if self.mode != "wrong_audience" else "another-client",
            "iat": now,
            "exp": now + 300 if self.mode != "expired" else now - 3600,
            "nonce": grant["nonce"] if self.mode != "wrong_nonce" else "not-the-nonce",
            "auth_time": grant["auth_time"],
        }
        key = self.stranger if self.mode == "unknown_kid" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        if self.mode == "tampered":
            head, payload, signature = id_token.split(".")
            changed = {**claims, "groups": ["admins"], "sub": "someone-else"}
            payload = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
            id_token = f"{head}.{payload}.{signature}"
        answer = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "id_token": id_token}
        return 200, json.dumps(answer).encode()

    def rotate_key(self) -> None:
        """Sign with a new key under a new key id; the JWKS publishes only the new one."""
        kid = f"test-key-{secrets.token_hex(4)}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.key]).as_dict(private=False)


def handler_for(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            return {k: v[0] for k, v in parse_qs(raw).items()}

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._send(200, json.dumps(provider.discovery()).encode())
            elif parts.path == "/jwks":
                self._send(200, json.dumps(provider.jwks()).encode())
            elif parts.path == "/authorize":
                self.send_response(302)
                self.send_header("Location", provider.authorize(query))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts.path == "/last":
                self._send(200, json.dumps({"auth_time": provider.auth_time}).encode())
            else:
                self._send(404, b'{"error": "not_found"}')

        def do_POST(self) -> None:
            if self.path == "/token":
                status, body = provider.token(self._form(), self.headers.get("Authorization"))
                self._send(status, body)
            elif self.path == "/control":
                length = int(self.headers.get("Content-Length") or 0)
                control = json.loads(self.rfile.read(length))
                with provider.lock:
                    provider.person.update(control.get("person", {}))
                    provider.mode = control.get("mode", provider.mode)
                    provider.delay = float(control.get("delay", provider.delay))
                    if "auth_time" in control:  # when the provider's session began
                        provider.auth_time = control["auth_time"]
                    if control.get("rotate_key"):  # a new signing key replaces the old one
                        provider.rotate_key()
                self._send(200, b"{}")
            else:
                self._send(404, b'{"error": "not_found"}')

    return Handler


def main() -> None:
    port, client_id, client_secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    provider = Provider(f"http://127.0.0.1:{port}", client_id, client_secret)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(provider))
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
