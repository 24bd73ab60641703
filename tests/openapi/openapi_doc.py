"""Loading docs/openapi.yaml and resolving its references: what the document validator
(validate_document.py) and the response checker (check_responses.py) share.

Runs with Debian's python3-yaml and python3-jsonschema (4.10). OpenAPI 3.0 schema objects are
not plain JSON Schema (`nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum`, our
`x-propertyNames`): `json_schema_document` translates them into JSON Schema draft 7, the
dialect everything here validates with. Pure functions over a loaded document; no state of
its own.
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


# What schema objects are validated with, once translated by json_schema (draft 7: the first
# with `propertyNames` and numeric `exclusiveMinimum`; like OpenAPI 3.0 it ignores the
# siblings of `$ref`).
SchemaValidator = jsonschema.Draft7Validator

# Keywords whose values are data, not schemas: never translated.
_DATA_KEYWORDS = ("enum", "default", "example", "x-example")


def json_schema(node):
    """An OpenAPI 3.0 schema object (and everything below it) as JSON Schema draft 7:
    `nullable: true` adds "null" to `type` (an `enum` allows null only when it lists it, as
    OpenAPI 3.0.3 says); `exclusiveMinimum: true` with `minimum` becomes the numeric form
    (likewise for maximum); `x-propertyNames` (OpenAPI 3.0 has no `propertyNames`) becomes
    `propertyNames`. Anything that is not a schema passes through unchanged."""
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in _DATA_KEYWORDS:
            out[key] = value
        elif key == "properties" and isinstance(value, dict):  # names, not keywords
            out[key] = {name: json_schema(v) for name, v in value.items()}
        else:
            out[key] = json_schema(value)
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(out.get(exclusive), bool):
            if out.pop(exclusive) and bound in out:
                out[exclusive] = out.pop(bound)
    if "x-propertyNames" in out:
        out["propertyNames"] = out.pop("x-propertyNames")
    return out


def schema_validator(document, schema, drop_required=False):
    """A validator of the OpenAPI 3.0 schema object `schema`, resolving `#/…` references
    inside `document`; both are translated by json_schema first.
    drop_required: the read was projected with `fields`, so no property is required."""
    document, schema = json_schema(document), json_schema(schema)
    if drop_required:
        document = without_required(document)
        schema = without_required(schema)
    resolver = jsonschema.RefResolver(base_uri="", referrer=document)
    return SchemaValidator(schema, resolver=resolver, format_checker=jsonschema.FormatChecker())


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
    """Path templates matching `path`, concrete ones first (OpenAPI 3.0.3 §4.7.8)."""
    matches = [t for t in document.get("paths", {}) if path_regex(t).match(path)]
    return sorted(matches, key=lambda t: t.count("{"))
