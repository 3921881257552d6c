#!/usr/bin/env python3
"""Extracts the published Yandex Cloud REST API (the `google.api.http` annotations of the
`yandexcloud` wheel's protobuf descriptors) for the services mlstack uses into a compact,
deterministic fixture: tests/fixtures/yandex_api/rest.json.

Regenerate from the installed package (scripts/check.sh installs it; a test compares its
output with the checked-in fixture):
    python3 -m pip install --no-deps yandexcloud==0.413.0 && python3 -m pip install protobuf googleapis-common-protos
    python3 scripts/yandex_api_fixture.py > tests/fixtures/yandex_api/rest.json
or from a downloaded wheel (`pip download --no-deps yandexcloud==0.413.0`):
    python3 scripts/yandex_api_fixture.py yandexcloud-0.413.0-py3-none-any.whl > tests/fixtures/yandex_api/rest.json
Needs `protobuf` and `googleapis-common-protos` (google.api.annotations).
"""
import json
import re
import sys

SERVICES = [
    "yandex.cloud.resourcemanager.v1.FolderService",
    "yandex.cloud.iam.v1.IamTokenService",
    "yandex.cloud.iam.v1.ServiceAccountService",
    "yandex.cloud.iam.v1.KeyService",
    "yandex.cloud.vpc.v1.NetworkService",
    "yandex.cloud.vpc.v1.SubnetService",
    "yandex.cloud.vpc.v1.SecurityGroupService",
    "yandex.cloud.k8s.v1.ClusterService",
    "yandex.cloud.k8s.v1.NodeGroupService",
    "yandex.cloud.k8s.v1.VersionService",
    "yandex.cloud.mdb.kafka.v1.ClusterService",
    "yandex.cloud.mdb.kafka.v1.TopicService",
    "yandex.cloud.mdb.kafka.v1.UserService",
    "yandex.cloud.mdb.postgresql.v1.ClusterService",
    "yandex.cloud.mdb.postgresql.v1.DatabaseService",
    "yandex.cloud.mdb.postgresql.v1.UserService",
    "yandex.cloud.storage.v1.BucketService",
    "yandex.cloud.operation.OperationService",
]

# The methods whose messages the fixture spells out (the others: verb and path only): what
# mlstack's provider calls or its emulator serves, and their siblings.
DETAILED = {
    "Get", "List", "Create", "Update", "Delete", "ListOperations", "ListHosts", "AddHosts",
    "DeleteHosts", "ListSubnets", "ListNodeGroups", "ListAccessBindings", "UpdateAccessBindings",
    "SetAccessBindings", "Cancel",
}

# Messages whose JSON form is not their fields (proto3 JSON mapping).
WELL_KNOWN = {
    "google.protobuf.Timestamp": "string",
    "google.protobuf.Duration": "string",
    "google.protobuf.FieldMask": "string",
    "google.protobuf.Int64Value": "int64",
    "google.protobuf.UInt64Value": "uint64",
    "google.protobuf.Int32Value": "int32",
    "google.protobuf.UInt32Value": "uint32",
    "google.protobuf.DoubleValue": "double",
    "google.protobuf.FloatValue": "float",
    "google.protobuf.BoolValue": "bool",
    "google.protobuf.StringValue": "string",
    "google.protobuf.BytesValue": "bytes",
    "google.protobuf.Struct": "any",
    "google.protobuf.Value": "any",
    "google.protobuf.ListValue": "any",
    "google.protobuf.Empty": "empty",
    "google.protobuf.Any": "anyof",
    "google.type.TimeOfDay": None,
}


def module_files():
    """The wheel's file names (argument), else the installed package's."""
    if len(sys.argv) > 1:
        import zipfile

        sys.path.insert(0, sys.argv[1])  # the wheel (pure Python: zipimport)
        return zipfile.ZipFile(sys.argv[1]).namelist()
    import os

    import yandex.cloud

    base = os.path.dirname(os.path.dirname(list(yandex.cloud.__path__)[0]))
    out = []
    for root, _, files in os.walk(os.path.join(base, "yandex", "cloud")):
        out += [os.path.relpath(os.path.join(root, f), base).replace(os.sep, "/") for f in files]
    return out


def main():
    import importlib

    from google.api import annotations_pb2
    from google.protobuf import descriptor_pool

    names = module_files()
    wanted = {s.rsplit(".", 1)[0].replace(".", "/") for s in SERVICES}
    for n in sorted(names):
        if n.endswith("_pb2.py") and n.rsplit("/", 1)[0] in wanted:
            importlib.import_module(n[:-3].replace("/", "."))
    op_ext = importlib.import_module("yandex.cloud.api.operation_pb2").operation
    pool = descriptor_pool.Default()

    methods, messages, enums = [], {}, {}
    todo = []

    def type_of(f):
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            k = f.message_type.fields_by_name["key"]
            v = f.message_type.fields_by_name["value"]
            return "map<%s,%s>" % (type_of(k), type_of(v))
        if f.message_type is not None:
            name = f.message_type.full_name
            if WELL_KNOWN.get(name, 0) is not None and name in WELL_KNOWN:
                t = WELL_KNOWN[name]
            else:
                todo.append(name)
                t = name
        elif f.enum_type is not None:
            enums[f.enum_type.full_name] = [v.name for v in f.enum_type.values]
            t = "enum:" + f.enum_type.full_name
        else:
            t = SCALARS[f.type]
        repeated = f.is_repeated if hasattr(f, "is_repeated") else f.label == f.LABEL_REPEATED
        return "[]" + t if repeated else t

    for s in SERVICES:
        sd = pool.FindServiceByName(s)
        for m in sd.methods:
            opts = m.GetOptions()
            http = opts.Extensions[annotations_pb2.http]
            verb = http.WhichOneof("pattern")
            entry = {
                "service": s,
                "method": m.name,
                "verb": verb.upper() if verb else None,
                "path": getattr(http, verb) if verb else None,
                "body": http.body,
                "request": m.input_type.full_name,
                "response": m.output_type.full_name,
            }
            methods.append(entry)
            if m.name not in DETAILED:
                continue
            entry["detailed"] = True
            todo += [m.input_type.full_name, m.output_type.full_name]
            if opts.HasExtension(op_ext):
                op = opts.Extensions[op_ext]
                for k, v in (("metadata", op.metadata), ("result", op.response)):
                    if v:
                        full = resolve(pool, sd.file.package, v)
                        entry[k] = full
                        if full not in WELL_KNOWN:
                            todo.append(full)

    while todo:
        name = todo.pop()
        if name in messages or name in WELL_KNOWN and WELL_KNOWN[name] is not None:
            continue
        d = pool.FindMessageTypeByName(name)
        messages[name] = {}
        messages[name] = {f.json_name: type_of(f) for f in d.fields}

    out = {
        "source": "yandexcloud %s (PyPI), google.api.http annotations" % version(),
        "methods": sorted(methods, key=lambda e: (e["path"] or "", e["verb"] or "", e["service"], e["method"])),
        "messages": messages,
        "enums": enums,
    }
    write(out)


def resolve(pool, package, name):
    """A type name of the operation option as protobuf scoping resolves it (innermost first)."""
    if name in WELL_KNOWN:
        return name
    parts = package.split(".")
    for i in range(len(parts), -1, -1):
        full = ".".join(parts[:i] + [name])
        try:
            pool.FindMessageTypeByName(full)
            return full
        except KeyError:
            continue
    raise KeyError("cannot resolve %s in %s" % (name, package))


def version():
    if len(sys.argv) > 1:
        m = re.search(r"yandexcloud-([0-9.]+)-", sys.argv[1])
        return m.group(1) if m else "unknown"
    from importlib.metadata import version as installed

    return installed("yandexcloud")


SCALARS = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
    8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64",
    17: "sint32", 18: "sint64",
}


def write(out):
    """One method, message or enum a line: small diffs when the SDK changes."""
    d = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"))
    lines = ['{"source":%s,' % json.dumps(out["source"]), '"methods":[']
    lines += [d(m) + ("," if i + 1 < len(out["methods"]) else "") for i, m in enumerate(out["methods"])]
    lines.append('],"messages":{')
    keys = sorted(out["messages"])
    lines += ['%s:%s%s' % (json.dumps(k), d(out["messages"][k]), "," if i + 1 < len(keys) else "") for i, k in enumerate(keys)]
    lines.append('},"enums":{')
    keys = sorted(out["enums"])
    lines += ['%s:%s%s' % (json.dumps(k), d(out["enums"][k]), "," if i + 1 < len(keys) else "") for i, k in enumerate(keys)]
    lines.append("}}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
