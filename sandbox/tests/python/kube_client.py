"""The official Python `kubernetes` client against one sandbox Kubernetes API.

Usage: kube_client.py KUBECONFIG NAMESPACE. Every check raises on failure; the last line
printed is `ALL OK` when every check passed (the Rust test driving this asserts it).
"""
import json
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ApiException as e:
        assert e.status == code, f"want {code}, got {e.status}: {e.body}"
        body = json.loads(e.body)
        assert body["kind"] == "Status" and body["status"] == "Failure", body
        assert body["code"] == code, body
        return body
    raise AssertionError(f"{fn.__name__} succeeded, want {code}")


def main(kubeconfig, ns):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    ext = client.ApiextensionsV1Api()
    custom = client.CustomObjectsApi()

    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    # Label and field selectors.
    for i in range(5):
        tier = "front" if i % 2 == 0 else "back"
        core.create_namespaced_config_map(ns, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"cm{i}", labels={"tier": tier, "app": "py"}),
            data={"i": str(i)}))
    front = core.list_namespaced_config_map(ns, label_selector="tier=front")
    assert sorted(c.metadata.name for c in front.items) == ["cm0", "cm2", "cm4"], front.items
    notfront = core.list_namespaced_config_map(ns, label_selector="app=py,tier!=front")
    assert sorted(c.metadata.name for c in notfront.items) == ["cm1", "cm3"]
    one = core.list_namespaced_config_map(ns, field_selector="metadata.name=cm3")
    assert [c.metadata.name for c in one.items] == ["cm3"]
    print("selectors ok")

    # Pagination: limit and continue until the server says there is no more.
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map(ns, label_selector="app=py", limit=2, _continue=token)
        pages += 1
        names += [c.metadata.name for c in page.items]
        assert len(page.items) <= 2
        token = page.metadata._continue
        if not token:
            break
    assert names == ["cm0", "cm1", "cm2", "cm3", "cm4"], names
    assert pages == 3, pages
    print("pagination ok")

    # Watch from a list's resourceVersion: ADDED, MODIFIED, DELETED of one object.
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "w1"}, "data": {"v": "1"}})
    core.patch_namespaced_config_map("w1", ns, {"data": {"v": "2"}})
    core.delete_namespaced_config_map("w1", ns)
    seen = []
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, ns, resource_version=rv,
                       timeout_seconds=20, field_selector="metadata.name=w1"):
        seen.append((ev["type"], ev["object"].data.get("v") if ev["object"].data else None))
        if ev["type"] == "DELETED":
            w.stop()
    assert [t for t, _ in seen] == ["ADDED", "MODIFIED", "DELETED"], seen
    assert seen[1][1] == "2", seen
    print("watch ok")

    # Server-side apply: a second manager conflicts unless it forces.
    dep = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
    }
    apply = dict(_content_type="application/apply-patch+yaml")
    got = apps.patch_namespaced_deployment("web", ns, dep, field_manager="py-a", **apply)
    assert got.spec.replicas == 1
    dep["spec"]["replicas"] = 4
    body = expect_error(409, apps.patch_namespaced_deployment, "web", ns, dep,
                        field_manager="py-b", **apply)
    assert body["reason"] == "Conflict" and "py-a" in body["message"], body
    got = apps.patch_namespaced_deployment("web", ns, dep, field_manager="py-b", force=True, **apply)
    assert got.spec.replicas == 4
    managers = {m.manager for m in got.metadata.managed_fields}
    assert "py-b" in managers, managers
    print("server-side apply ok")

    # Scale subresource.
    sc = apps.read_namespaced_deployment_scale("web", ns)
    assert sc.spec.replicas == 4, sc
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 2}})
    assert apps.read_namespaced_deployment("web", ns).spec.replicas == 2
    print("scale ok")

    # Dry run: answered as if created, nothing stored.
    made = core.create_namespaced_config_map(ns, {"metadata": {"name": "dry"}, "data": {"a": "b"}},
                                            dry_run="All")
    assert made.metadata.name == "dry" and made.metadata.uid
    expect_error(404, core.read_namespaced_config_map, "dry", ns)
    print("dry run ok")

    # A stale replace is a 409 Conflict; a fresh one goes through.
    cm = core.read_namespaced_config_map("cm0", ns)
    cm.data = {"i": "fresh"}
    core.replace_namespaced_config_map("cm0", ns, cm)
    cm.data = {"i": "stale"}
    body = expect_error(409, core.replace_namespaced_config_map, "cm0", ns, cm)
    assert body["reason"] == "Conflict", body
    assert "the object has been modified" in body["message"], body
    assert core.read_namespaced_config_map("cm0", ns).data == {"i": "fresh"}
    print("stale replace ok")

    # 404s are Status objects naming the resource.
    body = expect_error(404, core.read_namespaced_config_map, "nope", ns)
    assert body["reason"] == "NotFound", body
    assert body["message"] == 'configmaps "nope" not found', body
    assert body["details"]["name"] == "nope" and body["details"]["kind"] == "configmaps", body
    print("not found ok")

    # Status subresource of a custom resource: each endpoint writes only its part.
    crd_name = "gadgets.py.example.com"
    try:
        ext.read_custom_resource_definition(crd_name)
    except ApiException as e:
        assert e.status == 404
        ext.create_custom_resource_definition({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": crd_name},
            "spec": {"group": "py.example.com", "scope": "Namespaced",
                     "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                       "spec": {"type": "object", "properties": {
                                           "size": {"type": "integer", "minimum": 1}}},
                                       "status": {"type": "object", "properties": {
                                           "phase": {"type": "string"}}}}}}}]}})
    g = ("py.example.com", "v1", ns, "gadgets")
    custom.create_namespaced_custom_object(*g, {
        "apiVersion": "py.example.com/v1", "kind": "Gadget",
        "metadata": {"name": "g1"}, "spec": {"size": 1}, "status": {"phase": "ignored"}})
    got = custom.get_namespaced_custom_object(*g, "g1")
    assert "status" not in got, got
    custom.patch_namespaced_custom_object_status(*g, "g1", {"status": {"phase": "Ready"},
                                                         "spec": {"size": 9}})
    got = custom.get_namespaced_custom_object_status(*g, "g1")
    assert got["status"] == {"phase": "Ready"} and got["spec"] == {"size": 1}, got
    body = expect_error(422, custom.patch_namespaced_custom_object, *g, "g1", {"spec": {"size": 0}})
    assert "should be greater than or equal to 1" in body["message"], body
    print("status subresource ok")

    # Strict field validation: an unknown field is a 400 in the apiserver's words (this
    # client refuses unknown fields of typed models itself, so a custom object carries it).
    body = expect_error(400, custom.create_namespaced_custom_object, *g, {
        "apiVersion": "py.example.com/v1", "kind": "Gadget",
        "metadata": {"name": "g2"}, "spec": {"size": 1, "colour": "red"}},
        field_validation="Strict")
    assert 'strict decoding error: unknown field "spec.colour"' in body["message"], body
    expect_error(404, custom.get_namespaced_custom_object, *g, "g2")
    print("strict validation ok")

    print("ALL OK")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
