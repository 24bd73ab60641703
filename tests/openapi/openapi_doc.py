"""Loading docs/openapi.yaml and resolving its references: what the document validator
(validate_document.py) and the response checker (check_responses.py) share.

Runs with Debian's python3-yaml and python3-jsonschema (4.10, JSON Schema 2020-12, the dialect
of OpenAPI 3.1 schemas). Pure functions over a loaded document; no state of its own.
"""

import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as missing:
    sys.exit(f"{missing}: the OpenAPI checks need Debian's python3-jsonschema and python3-yaml "
             "(scripts/install-deps --test-tools), run with /usr/bin/python3")


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def pointer_get(document, ref):
    """The node a local reference (`#/components/…`) names; KeyError if there is none."""
    if not ref.startswith("#/"):
        raise KeyError(f"{ref}: only local references are used in this document")
    node = document
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            raise KeyError(f"{ref}: no {key!r}")
    return node


def deref(document, node):
    """Follows `$ref` of a Reference Object (not of a schema) until a real object."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise KeyError(f"{ref}: reference cycle")
        seen.add(ref)
        node = pointer_get(document, ref)
    return node


def schema_validator(document, schema, drop_required=False):
    """A 2020-12 validator of `schema`, resolving `#/…` references inside `document`.
    drop_required: the read was projected with `fields`, so no property is required."""
    if drop_required:
        document = without_required(document)
        schema = without_required(schema)
    resolver = jsonschema.RefResolver(base_uri="", referrer=document)
    return jsonschema.Draft202012Validator(
        schema, resolver=resolver, format_checker=jsonschema.FormatChecker())


def without_required(node):
    if isinstance(node, dict):
        return {k: without_required(v) for k, v in node.items() if k != "required"
                or not isinstance(v, list)}
    if isinstance(node, list):
        return [without_required(v) for v in node]
    return node


METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def path_regex(template):
    """`/a/{x}/b` → a regex matching one concrete path (a parameter is one non-empty segment)."""
    parts = re.split(r"(\{[^/{}]+\})", template)
    out = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile("^" + out + "$")


def match_path(document, path):
    """Path templates matching `path`, concrete ones first (OpenAPI 3.1 §4.8.8)."""
    matches = [t for t in document.get("paths", {}) if path_regex(t).match(path)]
    return sorted(matches, key=lambda t: t.count("{"))
