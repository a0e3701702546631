#!/usr/bin/env python3
# Atlas — scripts
# SPDX-License-Identifier: Apache-2.0
#
# Usage: scripts/postman-run.py [--collection FILE] [--environment FILE] [--base-url URL]
#                               [--set KEY=VALUE]... [--openapi FILE] [--check-scripts]
#
# Runs every request of a Postman v2.1 collection in order, the way `newman run` would, for machines
# where newman cannot be installed. Postman's JavaScript sandbox is not reproduced: the collection's
# scripts are recognised and carried out by equivalent Python, and any script line this runner does
# not understand fails the run instead of being skipped. See docs/api/README.md.
#
# Exit status: 0 when every request answered below 500 and passed its tests, 1 otherwise, 2 on a
# collection this runner cannot carry out.

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "docs", "api")


class Unsupported(Exception):
    """A script or request shape the runner cannot carry out faithfully."""


# MARK: Variables


class Variables:
    """Postman's scopes flattened: collection variables, then the environment, then --set values.
    `pm.environment.set` writes here too, so later requests see it, as in a collection run."""

    def __init__(self, collection, environment, overrides):
        self.values = {}
        for entry in collection.get("variable", []):
            self.values[entry["key"]] = str(entry.get("value", ""))
        for entry in (environment or {}).get("values", []):
            if entry.get("enabled", True):
                self.values[entry["key"]] = str(entry.get("value", ""))
        self.values.update(overrides)

    def get(self, key):
        return self.values.get(key, "")

    def set(self, key, value):
        self.values[key] = "" if value is None else str(value)

    def replace(self, text):
        """`{{name}}` substitution with Postman's dynamic variables; an unknown name is left as is,
        as Postman does."""

        def substitute(match):
            name = match.group(1)
            if name == "$guid":
                return str(uuid.uuid4())
            if name == "$timestamp":
                return str(int(time.time()))
            if name == "$randomInt":
                return str(int.from_bytes(os.urandom(2), "big") % 1001)
            return self.values.get(name, match.group(0))

        return re.sub(r"\{\{([^{}]+)\}\}", substitute, text)


# MARK: Scripts


def script_lines(item, listen):
    lines = []
    for event in item.get("event", []):
        if event.get("listen") == listen:
            source = event.get("script", {}).get("exec", [])
            lines.extend(source if isinstance(source, list) else source.split("\n"))
    return lines


def is_login_script(lines):
    text = "\n".join(lines)
    return "pm.sendRequest" in text and "/auth/token" in text and "authToken" in text


def is_stripe_signing_script(lines):
    text = "\n".join(lines)
    return "CryptoJS.HmacSHA256" in text and "stripeSecret" in text and "stripeSignature" in text


def jwt_expired(token, now):
    """The login script's rule: an atl_ API key never expires; a JWT whose `exp` is missing,
    unreadable or within 30 s is expired."""
    if token.startswith("atl_"):
        return False
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return not isinstance(claims.get("exp"), (int, float)) or claims["exp"] * 1000 < now * 1000 + 30000
    except (IndexError, ValueError):
        return True


JS_PATH = r"((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)"
TEST_STATUS = re.compile(r'^pm\.test\("([^"]*)",\s*\(\)\s*=>\s*pm\.response\.to\.have\.status\((\d{3})\)\);$')
TEST_EQL = re.compile(r'^pm\.test\("([^"]*)",\s*\(\)\s*=>\s*pm\.expect\(pm\.response\.json\(\)' + JS_PATH + r'\)\.to\.eql\((.+)\)\);$')
TEST_ONE_OF = re.compile(r'^pm\.test\("([^"]*)",\s*\(\)\s*=>\s*pm\.expect\(pm\.response\.code\)\.to\.be\.oneOf\((\[[\d,\s]*\])\)\);$')
SET_FROM_JSON = re.compile(r'^pm\.(?:environment|collectionVariables)\.set\("([^"]+)",\s*pm\.response\.json\(\)' + JS_PATH + r'\);$')
SET_LITERAL = re.compile(r'^pm\.(?:environment|collectionVariables)\.set\("([^"]+)",\s*("(?:[^"\\]|\\.)*")\);$')


def walk(value, path):
    for key, index in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        if key:
            value = value.get(key) if isinstance(value, dict) else None
        else:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
    return value


def run_tests(lines, status, body, variables):
    """Carries out a request's test script; returns (name, passed, detail) per pm.test."""
    results = []
    parsed = None

    def json_body():
        nonlocal parsed
        if parsed is None:
            parsed = json.loads(body.decode("utf-8"))
        return parsed

    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if m := TEST_STATUS.match(line):
            results.append((m.group(1), status == int(m.group(2)), f"status {status}"))
        elif m := TEST_ONE_OF.match(line):
            results.append((m.group(1), status in json.loads(m.group(2)), f"status {status}"))
        elif m := TEST_EQL.match(line):
            try:
                actual = walk(json_body(), m.group(2))
            except ValueError:
                actual = "<body is not JSON>"
            expected = json.loads(m.group(3))
            results.append((m.group(1), actual == expected, f"got {json.dumps(actual)}"))
        elif m := SET_FROM_JSON.match(line):
            try:
                variables.set(m.group(1), walk(json_body(), m.group(2)))
            except ValueError:
                variables.set(m.group(1), None)
        elif m := SET_LITERAL.match(line):
            variables.set(m.group(1), json.loads(m.group(2)))
        else:
            raise Unsupported(f"test script line not understood: {line}")
    return results


def check_scripts_with_node(collection):
    """Syntax-checks every script with `node --check` (each wrapped in a function, as the sandbox
    runs it); skipped when node is absent. Returns a list of failures."""
    node = shutil.which("node")
    if not node:
        return []
    failures = []
    scripts = [("collection", collection)] + [(item["name"], item) for item in requests(collection)]
    with tempfile.TemporaryDirectory() as folder:
        for name, item in scripts:
            for listen in ("prerequest", "test"):
                lines = script_lines(item, listen)
                if not lines:
                    continue
                path = os.path.join(folder, "script.js")
                with open(path, "w") as handle:
                    handle.write("(function () {\n" + "\n".join(lines) + "\n});\n")
                result = subprocess.run([node, "--check", path], capture_output=True, text=True)
                if result.returncode != 0:
                    failures.append(f"{name} ({listen}): {result.stderr.strip()}")
    return failures


# MARK: Requests


def requests(node):
    for item in node.get("item", []):
        if "request" in item:
            yield item
        else:
            yield from requests(item)


def url_of(request):
    url = request["url"]
    return url if isinstance(url, str) else url["raw"]


def auth_header(request, collection, variables):
    auth = request.get("auth") or collection.get("auth")
    if not auth or auth.get("type") == "noauth":
        return None
    if auth.get("type") != "bearer":
        raise Unsupported(f"auth type {auth.get('type')}")
    token = variables.replace(next(e["value"] for e in auth["bearer"] if e["key"] == "token"))
    return f"Bearer {token}" if token else None


def send(method, url, headers, body):
    data = body.encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def login(variables):
    body = json.dumps({"username": variables.get("authUsername"), "password": variables.get("authPassword")})
    status, answer = send("POST", variables.replace("{{baseUrl}}/auth/token"), {"Content-Type": "application/json"}, body)
    if status != 200:
        print(f"  login failed: {status} {answer[:200]!r}")
        return
    grant = json.loads(answer)
    variables.set("authToken", grant["access_token"])
    variables.set("refreshToken", grant["refresh_token"])


def path_of(raw, variables):
    """The request's path with `{{var}}` segments kept as placeholders (for coverage)."""
    path = raw.replace("{{baseUrl}}", "", 1).split("?", 1)[0]
    return path or "/"


def coverage(collection, openapi_file):
    """Compares the collection's (method, path) pairs with the document's operations; a `{{var}}`
    segment matches any `{param}` segment."""
    with open(openapi_file) as handle:
        document = json.load(handle)
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops if m in methods}

    def shape(path):
        return tuple("*" if re.fullmatch(r"\{\{?[^{}]+\}?\}", s) else s for s in path.split("/"))

    collected = {(item["request"]["method"].upper(), shape(path_of(url_of(item["request"]), None))) for item in requests(collection)}
    missing = sorted(f"{m} {p}" for m, p in documented if (m, shape(p)) not in collected)
    known = {(m, shape(p)) for m, p in documented}
    extra = sorted(f"{m} {'/'.join(s)}" for m, s in collected if (m, s) not in known)
    return missing, extra


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collection", default=os.path.join(DOCS, "atlas.postman_collection.json"))
    parser.add_argument("--environment", default=os.path.join(DOCS, "atlas.postman_environment.json"))
    parser.add_argument("--base-url")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--openapi", help="fail unless the collection covers exactly this document's operations")
    parser.add_argument("--check-scripts", action="store_true", help="syntax-check scripts with node when present")
    arguments = parser.parse_args()

    with open(arguments.collection) as handle:
        collection = json.load(handle)
    environment = None
    if arguments.environment:
        with open(arguments.environment) as handle:
            environment = json.load(handle)
    overrides = dict(entry.split("=", 1) for entry in arguments.set)
    if arguments.base_url:
        overrides["baseUrl"] = arguments.base_url
    variables = Variables(collection, environment, overrides)

    failures = []
    if arguments.openapi:
        missing, extra = coverage(collection, arguments.openapi)
        failures += [f"not in the collection: {entry}" for entry in missing]
        failures += [f"not in the document: {entry}" for entry in extra]
    if arguments.check_scripts:
        failures += [f"script syntax: {entry}" for entry in check_scripts_with_node(collection)]

    collection_prerequest = script_lines(collection, "prerequest")
    if collection_prerequest and not is_login_script(collection_prerequest):
        raise Unsupported("the collection pre-request script is not the login flow")
    count = 0
    for item in requests(collection):
        request = item["request"]
        count += 1
        # Collection pre-request script: log in when the token is empty or expired.
        raw_url = url_of(request)
        if collection_prerequest and path_of(raw_url, variables) != "/auth/token":
            token = variables.get("authToken")
            if not token or jwt_expired(token, time.time()):
                login(variables)
        body = request.get("body", {}).get("raw") if request.get("body") else None
        if request.get("body") and request["body"].get("mode") != "raw":
            raise Unsupported(f"{item['name']}: body mode {request['body'].get('mode')}")
        prerequest = script_lines(item, "prerequest")
        if prerequest:
            if not is_stripe_signing_script(prerequest):
                raise Unsupported(f"{item['name']}: pre-request script not understood")
            body = variables.replace(body or "")
            stamp = int(time.time())
            digest = hmac.new(variables.get("stripeSecret").encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
            variables.set("stripeSignature", f"t={stamp},v1={digest}")
        elif body is not None:
            body = variables.replace(body)
        headers = {}
        for header in request.get("header", []):
            if not header.get("disabled"):
                headers[header["key"]] = variables.replace(header["value"])
        authorization = auth_header(request, collection, variables)
        if authorization and "Authorization" not in headers:
            headers["Authorization"] = authorization
        url = variables.replace(raw_url)
        method = request["method"].upper()
        status, answer = send(method, url, headers, body)
        results = run_tests(script_lines(item, "test"), status, answer, variables)
        verdict = "ok" if status < 500 and all(passed for _, passed, _ in results) else "FAIL"
        print(f"{verdict:4} {status} {method} {url}  ({item['name']})")
        if status >= 500:
            failures.append(f"{item['name']}: {status} {answer[:300]!r}")
        for name, passed, detail in results:
            if not passed:
                print(f"       test failed: {name}: {detail}")
                failures.append(f"{item['name']}: {name}: {detail}; body {answer[:300]!r}")
    print(f"{count} requests, {len(failures)} failures")
    for failure in failures:
        print(f"FAILURE: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Unsupported as error:
        print(f"unsupported collection: {error}", file=sys.stderr)
        sys.exit(2)
