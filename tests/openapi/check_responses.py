#!/usr/bin/python3
"""Checks every response the black-box suite received against docs/openapi.yaml.

The black-box harness (tests/blackbox/response_log.h) appends one JSON line per HTTP exchange
to `responses-<pid>.jsonl` files in a directory. For each exchange this finds the path template
and operation (concrete paths before templated ones; a method a path does not support is the
document's `x-unsupported-method-response`, a path it does not list `x-unknown-path-response`,
and the server's own refusals listed in `x-server-refusals` may answer any request), then
checks:
  - the status is declared for that operation,
  - every required header of that response is present, and every declared header present
    has a value its schema allows,
  - the Content-Type is one the response declares (and there is no body when it declares
    none), and the body validates against its schema: the OpenAPI 3.0 schema object
    translated into JSON Schema draft 7 (openapi_doc.json_schema: `nullable`, our
    `x-propertyNames`), formats checked; when the request had a non-empty `fields`, the read
    was projected, so `required` is not enforced (everything else is).
Exempt: exchanges made with raw bytes whose request line does not parse (socket abuse tests:
no method or target to match), and the body of a response to HEAD.

    check_responses.py DOCUMENT RECORD_DIR    exit 1 listing every broken response
    check_responses.py --reset RECORD_DIR     empties (creates) the directory
    check_responses.py --self-test DOCUMENT   exit 1 unless deliberately wrong responses
                                              are all reported and right ones are not
"""

import json
import os
import shutil
import sys
import urllib.parse

import openapi_doc  # first: it explains a missing jsonschema or yaml module

import yaml  # noqa: E402


class Checker:
    def __init__(self, document):
        self.document = document
        self.validators = {}

    def response_for(self, method, path):
        """(where, responses by status) for a request, or raises ValueError."""
        doc = self.document
        refusals = doc.get("x-server-refusals", {})
        templates = openapi_doc.match_path(doc, path)
        if not templates:
            return "unknown path", {"404": doc["x-unknown-path-response"], **refusals}
        for template in templates:
            operation = doc["paths"][template].get(method.lower())
            if operation is not None:
                return f"{method} {template}", {**refusals, **operation["responses"]}
        return (f"{method} {templates[0]} (unsupported method)",
                {"405": doc["x-unsupported-method-response"], **refusals})

    def validator(self, schema, projected):
        key = (json.dumps(schema, sort_keys=True), projected)
        if key not in self.validators:
            self.validators[key] = openapi_doc.schema_validator(
                self.document, schema, drop_required=projected)
        return self.validators[key]

    def problems(self, record):
        """What is wrong with one recorded exchange (empty: nothing, or exempt)."""
        method, target = record.get("method"), record.get("target")
        if method is None or target is None:
            return []  # raw bytes without a request line: exempt
        response = record["response"]
        status = str(response["status"])
        url = urllib.parse.urlsplit(target)
        where, responses = self.response_for(method, url.path)
        declared = responses.get(status)
        if declared is None:
            return [f"{where}: status {status} is not declared "
                    f"(declared: {', '.join(sorted(responses))})"]
        declared = openapi_doc.deref(self.document, declared)
        problems = []
        headers = {}
        for name, value in response["headers"]:
            headers.setdefault(name.lower(), value)
        for name, header in declared.get("headers", {}).items():
            header = openapi_doc.deref(self.document, header)
            value = headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    problems.append(f"{where} {status}: header {name} is missing")
                continue
            schema = header.get("schema", {})
            instance = value
            if schema.get("type") == "integer":
                try:
                    instance = int(value)
                except ValueError:
                    pass
            for error in self.validator(schema, False).iter_errors(instance):
                problems.append(f"{where} {status}: header {name}: {error.message[:200]}")
        problems += self.body_problems(record, where, status, declared, headers, url)
        return problems

    def body_problems(self, record, where, status, declared, headers, url):
        response = record["response"]
        body = response["body"]
        content = declared.get("content", {})
        if record["method"].upper() == "HEAD":
            return []
        if not content:
            return [f"{where} {status}: a body where none is declared"] if body else []
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in content:
            return [f"{where} {status}: Content-Type {media or '(none)'} is not declared "
                    f"({', '.join(content)})"]
        schema = content[media].get("schema", {})
        if media == "application/json" or media.endswith("+json"):
            try:
                instance = json.loads(body)
            except ValueError as e:
                return [f"{where} {status}: the body is not JSON: {e}"]
        elif media.endswith("yaml"):
            try:
                yaml.safe_load(body)
            except yaml.YAMLError as e:
                return [f"{where} {status}: the body is not YAML: {str(e)[:200]}"]
            instance = body
        else:
            instance = body
        fields = urllib.parse.parse_qs(url.query, keep_blank_values=True).get("fields", [""])
        projected = any(f != "" for f in fields)
        return [f"{where} {status}: body at /{'/'.join(str(p) for p in error.path)}: "
                f"{error.message[:300]}"
                for error in self.validator(schema, projected).iter_errors(instance)]


def read_records(directory):
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".jsonl"):
            continue
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    yield f"{name}:{number}", json.loads(line)


def check(document, directory):
    checker = Checker(document)
    count, broken = 0, 0
    for origin, record in read_records(directory):
        count += 1
        problems = checker.problems(record)
        if problems:
            broken += 1
            if broken <= 50:
                target = record.get("target", "")[:200]
                print(f"{origin}: {record.get('method')} {target}", file=sys.stderr)
                for problem in problems:
                    print(f"    {problem}", file=sys.stderr)
                print(f"    body: {record['response']['body'][:300]}", file=sys.stderr)
    if count == 0:
        print(f"{directory}: no recorded responses (did the black-box tests run?)",
              file=sys.stderr)
        return 1
    if broken:
        print(f"{broken} of {count} responses break the document", file=sys.stderr)
        return 1
    print(f"{count} responses conform to the document")
    return 0


def self_test(document):
    """Right responses pass, each wrong one is reported."""
    base = "/ai-service/acme/agentic/tokens"
    standard = [["Cache-Control", "no-store"], ["X-Request-Id", "0123456789abcdef"]]
    json_type = [["Content-Type", "application/json"]]
    token = {"id": "openai", "name": "OpenAI key",
             "metadata": {"version": 1, "createdAt": "2026-11-29T03:30:00.123Z",
                          "modifiedAt": "2026-11-29T03:30:00.123Z"}}

    def record(method, target, status, body, headers=None, etag=True):
        extra = [["ETag", '"1"']] if etag else []
        return {"method": method, "target": target,
                "response": {"status": status, "body": body,
                             "headers": standard + json_type + extra if headers is None
                             else headers}}

    def read(body, target=base + "/openai"):
        return record("GET", target, 200, json.dumps(body))

    oauth_headers = standard + json_type + [["Pragma", "no-cache"]]
    access_token = {"access_token": "eyJ.x.y", "token_type": "Bearer", "expires_in": 900,
                    "scope": "ai.agent_read"}

    def oauth(status, body, extra=(), headers=None):
        return {"method": "POST", "target": "/oauth/token",
                "response": {"status": status, "body": json.dumps(body),
                             "headers": (oauth_headers if headers is None else headers)
                             + list(extra)}}

    def oauth_error(error):
        return {"error": error, "error_description": "d"}

    agent = {"id": "a", "name": {"en": "Agent"}, "enabled": True, "userPrompt": "p",
             "llmConfig": {"provider": "emporix_openai", "model": "m"}, "mcpServers": [],
             "metadata": token["metadata"]}
    agent_read = "/ai-service/acme/agentic/agents/a"

    right = {
        "a token read": read(token),
        "a projected read (fields=id)": read({"id": "openai"}, base + "/openai?fields=id"),
        "a list": record("GET", base + "?pageSize=2", 200, json.dumps([token]), etag=False),
        "a 404 with resourceId": record("GET", base + "/x", 404, json.dumps(
            {"resourceId": "x", "code": 404, "status": "Not Found", "message": "no"}), etag=False),
        "an unknown path": record("GET", "/nowhere", 404, json.dumps(
            {"code": 404, "status": "Not Found", "message": "no"}), etag=False),
        "a GET of the item named search": read(dict(token, id="search"), base + "/search"),
        "raw bytes without a request line": {"raw": True, "response": {
            "status": 400, "headers": [], "body": "garbage"}},
        "an access token": oauth(200, access_token),
        "an invalid_client with WWW-Authenticate": oauth(401, oauth_error("invalid_client"), [
            ["WWW-Authenticate", 'Basic realm="token-service", charset="UTF-8"']]),
        "a lockout with Retry-After": oauth(429, oauth_error("temporarily_unavailable"),
                                            [["Retry-After", "30"]]),
        "a 503 at the connection cap": oauth(503, {"code": 503, "status": "Service Unavailable",
                                                   "message": "m"}, headers=standard + json_type),
        "a GET of /oauth/token": record("GET", "/oauth/token", 405, json.dumps(
            {"code": 405, "status": "Method Not Allowed", "message": "no"}),
            headers=standard + json_type + [["Allow", "POST"]]),
        "an agent read": record("GET", agent_read, 200, json.dumps(agent)),
    }
    wrong = {
        "a token read with its value": read(dict(token, value="sk-secret")),
        "a token read without metadata": read({"id": "openai", "name": "OpenAI key"}),
        "a bad timestamp": read(dict(token, metadata=dict(token["metadata"],
                                                          createdAt="2026-11-29"))),
        "a projected read with a value": read({"id": "openai", "value": "sk"},
                                              base + "/openai?fields=id"),
        "an undeclared status": record("GET", base + "/openai", 418, "{}"),
        "a missing Cache-Control": record("GET", base + "/openai", 200, json.dumps(token),
                                          headers=standard[1:] + json_type + [["ETag", '"1"']]),
        "a missing ETag": read(token) | {"response": {
            "status": 200, "body": json.dumps(token), "headers": standard + json_type}},
        "a wrong Content-Type": record("GET", base + "/openai", 200, json.dumps(token),
                                       headers=standard + [["Content-Type", "text/plain"],
                                                           ["ETag", '"1"']]),
        "a 401 with the common error body": record("GET", base, 401, json.dumps(
            {"code": 401, "status": "Unauthorized", "message": "no"}), etag=False),
        "a 404 without resourceId": record("GET", base + "/x", 404, json.dumps(
            {"code": 404, "status": "Not Found", "message": "no"}), etag=False),
        "a 405 without Allow": record("POST", base, 405, json.dumps(
            {"code": 405, "status": "Method Not Allowed", "message": "no"}), etag=False),
        "a 204 with a body": record("DELETE", base + "/openai", 204, "{}", etag=False),
        "an error body with an extra field": record("GET", base, 400, json.dumps(
            {"code": 400, "status": "Bad Request", "message": "m", "trace": "x"}), etag=False),
        "an access token with a refresh token": oauth(200, dict(access_token,
                                                                refresh_token="r")),
        "an access token of type mac": oauth(200, dict(access_token, token_type="mac")),
        "an access token without Pragma": oauth(200, access_token,
                                                headers=standard + json_type),
        "an OAuth 400 with the common error body": oauth(400, {
            "code": 400, "status": "Bad Request", "message": "m"}),
        "an OAuth 400 named invalid_client": oauth(400, oauth_error("invalid_client")),
        "an OAuth error without error_description": oauth(401, {"error": "invalid_client"}),
        "a lockout without Retry-After": oauth(429, oauth_error("temporarily_unavailable")),
        "an OAuth 415 (the endpoint answers 400 invalid_request)": oauth(
            415, oauth_error("invalid_request")),
        "an agent name in a language code x-propertyNames refuses": record(
            "GET", agent_read, 200, json.dumps(dict(agent, name={"EN_us": "Agent"}))),
    }
    checker = Checker(document)
    failures = []
    for name, r in right.items():
        for problem in checker.problems(r):
            failures.append(f"{name} was reported: {problem}")
    for name, r in wrong.items():
        if not checker.problems(r):
            failures.append(f"{name} was not reported")
    # The OpenAPI 3.0 → JSON Schema translation itself (no response schema is nullable).
    nullable = {"type": "string", "nullable": True, "enum": ["a", None]}
    translated = [
        ("nullable accepts null", nullable, None, True),
        ("nullable still checks the enum", nullable, "b", False),
        ("not nullable refuses null", {"type": "string"}, None, False),
        ("exclusiveMinimum: true excludes the bound",
         {"type": "integer", "minimum": 1, "exclusiveMinimum": True}, 1, False),
        ("exclusiveMinimum: false keeps it",
         {"type": "integer", "minimum": 1, "exclusiveMinimum": False}, 1, True),
    ]
    for name, schema, instance, valid in translated:
        if openapi_doc.schema_validator(document, schema).is_valid(instance) != valid:
            failures.append(f"translation: {name} does not hold")
    for failure in failures:
        print(f"self-test: {failure}", file=sys.stderr)
    print(f"self-test: {len(right)} right and {len(wrong)} wrong responses, "
          f"{len(translated)} translations, {len(failures)} misjudged")
    return 1 if failures else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--reset":
        shutil.rmtree(argv[2], ignore_errors=True)
        os.makedirs(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "--self-test":
        return self_test(openapi_doc.load(argv[2]))
    if len(argv) == 3:
        return check(openapi_doc.load(argv[1]), argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
