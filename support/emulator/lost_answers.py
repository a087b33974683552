"""Calls whose effect happens but whose answer is lost: a test affordance. Imported by server.py.

On AWS a call can take effect while its answer never reaches the caller (a connection reset, a
timeout, a 500 after the write); the SDK then retries it, and the retry meets the first call's
effect (PutParameter without Overwrite answers ParameterAlreadyExists). To model that, a test
arms a number of lost answers for one API action:

    POST /emulator-api/lose-answer   {"action": "PutParameter", "times": 1}

The next `times` successful calls of that action (any service) run as usual, then answer HTTP
500 InternalFailure instead of their result, which the SDK retries as it retries a lost answer.
Failed calls are answered as they are and do not use up the count. /moto-api/reset disarms.
"""

import json
import threading

from moto.core.responses import BaseResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_armed = {}  # API action name -> answers still to lose
_lock = threading.Lock()

_original_call_action = BaseResponse.call_action


def _lose(action):
    with _lock:
        left = _armed.get(action, 0)
        if left <= 0:
            return False
        _armed[action] = left - 1
        return True


def call_action(self):
    status, headers, body = _original_call_action(self)
    if int(status) < 300 and _lose(self._get_action()):
        body = json.dumps({"__type": "InternalFailure", "message": "emulator: the answer was lost"})
        headers = {"Content-Type": "application/x-amz-json-1.1", "status": "500"}
        return 500, headers, body
    return status, headers, body


BaseResponse.call_action = call_action

_original_app_call = DomainDispatcherApplication.__call__


def _answer(start_response, status, payload):
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def app_call(self, environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/emulator-api/lose-answer" and environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with _lock:
            _armed[str(request["action"])] = int(request.get("times", 1))
        return _answer(start_response, "200 OK", dict(_armed))
    if path.startswith("/moto-api/reset"):
        with _lock:
            _armed.clear()
    return _original_app_call(self, environ, start_response)


DomainDispatcherApplication.__call__ = app_call
