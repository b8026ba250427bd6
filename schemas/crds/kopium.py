"""Structural schemas back from kopium-generated Rust bindings (the crates.io `kcr_*` crates
of kube-custom-resources-rs, 0BSD).

kopium turns each version of a CRD's `openAPIV3Schema` into Rust types: one struct per object
schema (a field per property, `Option<T>` unless the property is required, the JSON name in
`#[serde(rename = "...")]` when it is not the Rust one), one enum per string `enum`, and the
root `#[kube(group, version, kind)]` on the spec struct. Reading them back gives, per custom
resource, the properties, their types, which are required, and the enum values; what Rust
types cannot hold (patterns, bounds, formats, CEL rules, descriptions) is not there. Objects
kopium left open (`serde_json::Value`, maps) accept anything, as they did in the CRD.

Standard library only; used by generate.py.
"""

import os
import re

# Rust scalar -> JSON Schema.
SCALARS = {
    "String": {"type": "string"},
    "bool": {"type": "boolean"},
    "f64": {"type": "number"},
    "f32": {"type": "number"},
    "IntOrString": {"type": "string", "x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    "Quantity": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    "Time": {"type": "string"},
    "serde_json::Value": {"x-kubernetes-preserve-unknown-fields": True},
    "Value": {"x-kubernetes-preserve-unknown-fields": True},
}
INTEGERS = {"i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "isize", "usize"}

ITEM = re.compile(r"^pub (struct|enum) (\w+)\s*\{\s*$")
FIELD = re.compile(r"^    pub (?:r#)?(\w+): (.+),\s*$")
VARIANT = re.compile(r"^    (?:r#)?(\w+),\s*$")
RENAME = re.compile(r'rename = "((?:[^"\\]|\\.)*)"')
KUBE = re.compile(r'#\[kube\(group = "([^"]+)", version = "([^"]+)", kind = "([^"]+)"')
STATUS = re.compile(r'#\[kube\(status = "(\w+)"\)\]')


def parse(text):
    """(items, roots): items maps a type name to ("struct", [(json name, rust type, optional)])
    or ("enum", [values]); roots lists (group, version, kind, spec type, status type)."""
    items, roots = {}, []
    pending_kube, pending_status = None, None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = KUBE.match(line)
        if m:
            pending_kube = m.groups()
        m = STATUS.match(line)
        if m:
            pending_status = m.group(1)
        m = ITEM.match(line)
        if not m:
            i += 1
            continue
        what, name = m.groups()
        body, attrs = [], []
        i += 1
        while i < len(lines) and lines[i] != "}":
            entry = lines[i]
            if entry.strip().startswith("#["):
                attrs.append(entry.strip())
            elif what == "struct" and FIELD.match(entry):
                field, ty = FIELD.match(entry).groups()
                rename = next((RENAME.search(a).group(1) for a in attrs if a.startswith("#[serde(") and RENAME.search(a)), None)
                flatten = any("flatten" in a for a in attrs if a.startswith("#[serde("))
                has_default = any(re.search(r"\bdefault\b", a) for a in attrs if a.startswith("#[serde("))
                body.append((rename or field, ty, ty.startswith("Option<") or has_default, flatten))
                attrs = []
            elif what == "enum" and VARIANT.match(entry):
                variant = VARIANT.match(entry).group(1)
                rename = next((RENAME.search(a).group(1) for a in attrs if a.startswith("#[serde(") and RENAME.search(a)), None)
                body.append(rename if rename is not None else variant)
                attrs = []
            elif entry.strip() and not entry.strip().startswith("//"):
                # A form this reader does not know (a tuple variant...): the type stays open.
                body = None
                while i < len(lines) and lines[i] != "}":
                    i += 1
                break
            i += 1
        items[name] = (what, body)
        if what == "struct" and pending_kube:
            roots.append((*pending_kube, name, pending_status))
            pending_kube, pending_status = None, None
        i += 1
    return items, roots


def split_generic(ty):
    """`Vec<Option<X>>` -> ("Vec", "Option<X>"); `BTreeMap<String, X>` -> ("BTreeMap", "X")."""
    head, _, rest = ty.partition("<")
    inner = rest[:-1]
    if head in ("BTreeMap", "HashMap"):
        inner = inner.split(",", 1)[1].strip()
    return head, inner


def schema_of(ty, items, seen):
    ty = ty.strip()
    if "<" in ty and ty.endswith(">"):
        head, inner = split_generic(ty)
        if head in ("Option", "Box"):
            return schema_of(inner, items, seen)
        if head == "Vec":
            return {"type": "array", "items": schema_of(inner, items, seen)}
        if head in ("BTreeMap", "HashMap"):
            return {"type": "object", "additionalProperties": schema_of(inner, items, seen)}
        return {}
    short = ty.rsplit("::", 1)[-1] if ty not in SCALARS else ty
    if ty in SCALARS:
        return dict(SCALARS[ty])
    if short in SCALARS:
        return dict(SCALARS[short])
    if short in INTEGERS:
        return {"type": "integer"}
    item = items.get(short)
    if item is None or short in seen:
        # A Kubernetes type kopium imports (Condition, ObjectReference...) or a recursive
        # type: an object, open.
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if item[1] is None:
        # A form this reader does not know: anything.
        return {"x-kubernetes-preserve-unknown-fields": True}
    what, body = item
    if what == "enum":
        return {"type": "string", "enum": body} if body else {"type": "string"}
    return struct_schema(short, items, seen | {short})


def struct_schema(name, items, seen):
    props, required = {}, []
    open_object = False
    for field, ty, optional, flatten in items[name][1]:
        if flatten:
            open_object = True
            continue
        props[field] = schema_of(ty, items, seen)
        if not optional:
            required.append(field)
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = sorted(required)
    if open_object:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def crate_schemas(src_dir):
    """KEY -> (schema, relative file) for every custom resource of one crate's `src/`."""
    out = {}
    for dirpath, _, files in sorted(os.walk(src_dir)):
        for f in sorted(files):
            if not f.endswith(".rs") or f in ("lib.rs", "mod.rs"):
                continue
            path = os.path.join(dirpath, f)
            with open(path) as fh:
                items, roots = parse(fh.read())
            for group, version, kind, spec, status in roots:
                props = {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": struct_schema(spec, items, {spec}),
                }
                if status and status in items and items[status][1] is not None:
                    props["status"] = struct_schema(status, items, {status})
                out[f"{group}/{version}|{kind}"] = (
                    {"type": "object", "properties": props},
                    os.path.relpath(path, os.path.dirname(src_dir)),
                )
    return out
