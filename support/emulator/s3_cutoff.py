"""A download cut off part-way: a test affordance. Imported by server.py for its side effects.

An S3 object tagged `emulator:cut-off` (PutObject's x-amz-tagging, or PutObjectTagging) answers
a GET (signed, or through a presigned URL) with its full Content-Length but only the first half
of its bytes (or the first N bytes, when the tag's value is a number N), then closes the
connection: what a client sees when a transfer breaks. `curl -f` fails (exit 18, "transfer
closed with ... bytes remaining"); an SDK's GetObject throws. HEAD and ranged GETs are left
alone.
"""

from moto.s3.responses import S3Response

CUT_TAG = "emulator:cut-off"

_original_key_response = S3Response.key_response


def _cut_at(value, size):
    return int(value) if value.strip().isdigit() else size // 2


def key_response(self, request, full_url, headers):
    status, response_headers, body = _original_key_response(self, request, full_url, headers)
    if request.method != "GET" or status != 200 or not isinstance(body, (bytes, str)):
        return status, response_headers, body
    try:
        bucket = self.parse_bucket_name_from_url(request, full_url)
        key = self.backend.get_object(bucket, self.parse_key_name())
        tags = self.backend.get_object_tagging(key).get("Tags", [])
    except Exception:  # not an object read: leave the answer as it is
        return status, response_headers, body
    value = next((t["Value"] for t in tags if t["Key"] == CUT_TAG), None)
    if value is None:
        return status, response_headers, body
    data = body.encode() if isinstance(body, str) else body
    cut = min(_cut_at(value, len(data)), len(data))
    response_headers = dict(response_headers)
    for name in list(response_headers):
        if name.lower() in ("content-length", "connection"):
            response_headers.pop(name)
    response_headers["Content-Length"] = str(len(data))
    # The server closes the connection after the short body, so the client sees it end early.
    # A body given as an iterator keeps the Content-Length above (werkzeug sets it from bytes).
    response_headers["Connection"] = "close"
    return status, response_headers, iter([data[:cut]])


S3Response.key_response = key_response
