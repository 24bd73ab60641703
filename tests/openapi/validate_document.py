#!/usr/bin/python3
"""Validates docs/openapi.yaml: against the official OpenAPI 3.0 JSON Schema (a draft-04
schema, from Debian's openapi-specification package:
/usr/share/openapi-specification/schemas/v3.0/schema.json), every schema object, translated
(openapi_doc.json_schema), against the JSON Schema draft 7 meta-schema, and what a schema
validator cannot see: every `$ref` resolves and has no siblings (OpenAPI 3.0 ignores them),
every path template parameter is declared (and every declared path parameter is in the
template), operationIds are present and unique, every component is used, every response
declares `Cache-Control` and `X-Request-Id`, and no response schema has a `value` property (a
token's value never comes back).

    validate_document.py DOCUMENT OFFICIAL_SCHEMA     exit 0 when valid, 1 with the problems
    validate_document.py --self-test DOCUMENT OFFICIAL_SCHEMA
        breaks a copy of the document in each way above and fails unless each is reported
"""

import copy
import json
import re
import sys

import openapi_doc  # first: it explains a missing jsonschema or yaml module

import jsonschema  # noqa: E402


def walk(node, where="#"):
    """Yields (pointer, dict) for every mapping in the document."""
    if isinstance(node, dict):
        yield where, node
        for k, v in node.items():
            yield from walk(v, f"{where}/{str(k).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{where}/{i}")


def deepest(error):
    """A oneOf failure ("not valid under any of the given schemas": a schema object or a
    Reference Object) only names the object; the alternative's error deepest in the document,
    other than a missing `$ref`, says what is wrong with it."""
    candidates = [error]
    stack = list(error.context or [])
    while stack:
        e = stack.pop()
        candidates.append(e)
        stack += e.context or []
    return max(candidates, key=lambda e: (e.validator != "required" or "$ref" not in e.message,
                                          len(e.absolute_path), e is not error))


def operations(document):
    for template, item in document.get("paths", {}).items():
        for method in openapi_doc.METHODS:
            if method in item:
                yield template, method, item, item[method]


def schema_properties_named(document, schema, name, owner="an inline schema", seen=None):
    """Names of the schemas reachable from `schema` that declare a property `name`."""
    seen = set() if seen is None else seen
    found = []
    if isinstance(schema, dict):
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in seen:
                seen.add(ref)
                found += schema_properties_named(
                    document, openapi_doc.pointer_get(document, ref), name, ref, seen)
        if isinstance(schema.get("properties"), dict) and name in schema["properties"]:
            found.append(owner)
        for key, value in schema.items():
            if key != "$ref":
                found += schema_properties_named(document, value, name, owner, seen)
    elif isinstance(schema, list):
        for value in schema:
            found += schema_properties_named(document, value, name, owner, seen)
    return found


def problems_of(document, official):
    problems = []
    validator = jsonschema.Draft4Validator(official)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
        at = "/".join(str(p) for p in error.path)
        problems.append(f"OpenAPI 3.0 schema: at /{at}: {deepest(error).message[:300]}")

    for pointer, node in walk(document):
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                openapi_doc.pointer_get(document, ref)
            except (KeyError, ValueError, IndexError) as e:
                problems.append(f"{pointer}: $ref does not resolve: {e}")
            siblings = sorted(k for k in node if k != "$ref")
            if siblings:
                problems.append(f"{pointer}: $ref has siblings, which OpenAPI 3.0 ignores: "
                                f"{', '.join(siblings)} (wrap the $ref in allOf)")

    for name, schema in document.get("components", {}).get("schemas", {}).items():
        try:
            openapi_doc.SchemaValidator.check_schema(openapi_doc.json_schema(schema))
        except jsonschema.SchemaError as e:
            problems.append(f"components/schemas/{name}: not a JSON Schema: {e.message[:300]}")

    operation_ids = {}
    for template, method, item, operation in operations(document):
        where = f"{method.upper()} {template}"
        in_template = set(re.findall(r"\{([^/{}]+)\}", template))
        declared = set()
        for parameter in item.get("parameters", []) + operation.get("parameters", []):
            try:
                parameter = openapi_doc.deref(document, parameter)
            except KeyError:
                continue  # reported above
            if parameter.get("in") == "path":
                declared.add(parameter.get("name"))
        for missing in sorted(in_template - declared):
            problems.append(f"{where}: path parameter {{{missing}}} is not declared")
        for extra in sorted(declared - in_template):
            problems.append(f"{where}: path parameter {extra} is not in the path")
        operation_id = operation.get("operationId")
        if not operation_id:
            problems.append(f"{where}: no operationId")
        elif operation_id in operation_ids:
            problems.append(f"{where}: operationId {operation_id} is also used by "
                            f"{operation_ids[operation_id]}")
        else:
            operation_ids[operation_id] = where
        for status, response in operation.get("responses", {}).items():
            try:
                response = openapi_doc.deref(document, response)
            except KeyError:
                continue
            headers = response.get("headers", {})
            for header in ("Cache-Control", "X-Request-Id"):
                if header not in headers:
                    problems.append(f"{where} {status}: does not declare the {header} header")
            for media, content in response.get("content", {}).items():
                for owner in schema_properties_named(document, content.get("schema"), "value"):
                    problems.append(f"{where} {status} {media}: {owner} has a property 'value'"
                                    " (a value never comes back)")

    text = json.dumps(document)
    for kind, entries in document.get("components", {}).items():
        if kind == "securitySchemes":
            continue  # named by security requirements, not by references
        for name in entries:
            if f'"#/components/{kind}/{name}"' not in text:
                problems.append(f"components/{kind}/{name} is never used")
    return problems


def self_test(document, official):
    """Each breakage must be reported; returns the ones that were not, and how many there are."""
    def broken(change):
        doc = copy.deepcopy(document)
        change(doc)
        return doc

    tokens = "/ai-service/{tenant}/agentic/tokens/{tokenId}"
    schemas = lambda d: d["components"]["schemas"]  # noqa: E731
    cases = {
        "dangling $ref": lambda d: d["paths"][tokens]["get"]["responses"]["200"].update(
            {"$ref": "#/components/responses/NoSuchResponse"}),
        "undeclared path parameter": lambda d: d["paths"][tokens].update(
            {"parameters": d["paths"][tokens]["parameters"][:1]}),
        "duplicate operationId": lambda d: d["paths"][tokens]["put"].update(
            {"operationId": "GET-ai-retrieve-token"}),
        "a value property in a token read": lambda d: schemas(d)["Token"]["properties"].update(
            {"value": {"type": "string"}}),
        "not OpenAPI (unknown field in an operation)": lambda d: d["paths"][tokens]["get"].update(
            {"summry": "typo"}),
        "invalid JSON Schema": lambda d: schemas(d)["Name"].update({"minLength": "one"}),
        "invalid x-propertyNames": lambda d: schemas(d)["LocalizedText"][
            "x-propertyNames"].update({"maxLength": -1}),
        "a $ref with a sibling": lambda d: schemas(d)["Token"]["properties"]["id"].update(
            {"description": "ignored by OpenAPI 3.0"}),
        "an OpenAPI 3.1 type array": lambda d: schemas(d)["TokenWrite"]["properties"][
            "id"].update({"type": ["string", "null"]}),
        "missing Cache-Control header": lambda d: d["components"]["responses"]["TokenRead"][
            "headers"].pop("Cache-Control"),
    }
    baseline = set(problems_of(document, official))
    missed = []
    for name, change in cases.items():
        if not set(problems_of(broken(change), official)) - baseline:
            missed.append(name)
    return missed, len(cases)


def main(argv):
    test = argv[1:2] == ["--self-test"]
    args = argv[2:] if test else argv[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    document = openapi_doc.load(args[0])
    try:
        with open(args[1], encoding="utf-8") as f:
            official = json.load(f)
    except OSError as e:
        print(f"{e}: the official OpenAPI 3.0 schema comes with Debian's openapi-specification "
              "(scripts/install-deps --test-tools)", file=sys.stderr)
        return 2
    if test:
        missed, cases = self_test(document, official)
        for name in missed:
            print(f"self-test: a document with {name} was accepted", file=sys.stderr)
        print(f"self-test: {cases - len(missed)} of {cases} breakages reported")
        return 1 if missed else 0
    problems = problems_of(document, official)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{args[0]}: {len(problems)} problems", file=sys.stderr)
        return 1
    count = sum(1 for _ in operations(document))
    print(f"{args[0]}: valid OpenAPI {document['openapi']}, {count} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
