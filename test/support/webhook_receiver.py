"""A merchant's system receiving Paystream's webhooks, verifying every message with the Standard Webhooks
reference library (PyPI `standardwebhooks`), not with Paystream's own code.

    python webhook_receiver.py <port>

POST /hook/<any>  a delivery to that path (one per endpoint): 204 when its signature verifies with the path's
                  secret, 400 otherwise (recorded either way)
POST /_secret     {"path": "/hook/…", "secret": "whsec_…"}: the secret deliveries to that path are verified with
POST /_fail       {"status": 503}: answer that to every delivery until POST /_recover
GET  /_received   what arrived, in order: verified or not, the raw body and headers (for a second verifier)
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

state = {'secrets': {}, 'fail': None, 'received': []}
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status, body=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != '/_received':
            return self._answer(404)
        with lock:
            return self._answer(200, state['received'])

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get('content-length') or 0))
        if self.path == '/_secret':
            body = json.loads(raw)
            state['secrets'][body['path']] = body['secret']
            return self._answer(204)
        if self.path == '/_fail':
            state['fail'] = json.loads(raw).get('status', 503)
            return self._answer(204)
        if self.path == '/_recover':
            state['fail'] = None
            return self._answer(204)
        if not self.path.startswith('/hook/'):
            return self._answer(404)
        if state['fail']:
            return self._answer(state['fail'])
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            secret = state['secrets'].get(self.path)
            if secret is None:
                raise WebhookVerificationError('no secret for this path')
            message = Webhook(secret).verify(raw, headers)
            verified, error = True, None
        except WebhookVerificationError as err:
            message, verified, error = None, False, str(err)
        with lock:
            state['received'].append({
                'path': self.path,
                'id': headers.get('webhook-id'),
                'verified': verified,
                'error': error,
                'type': message and message.get('type'),
                'orderId': message and message.get('data', {}).get('orderId'),
                'body': raw.decode(),
                'headers': {k: headers[k] for k in ('webhook-id', 'webhook-timestamp', 'webhook-signature') if k in headers},
            })
        return self._answer(204 if verified else 400)


ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), Receiver).serve_forever()
