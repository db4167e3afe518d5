#!/usr/bin/env python3
"""The security rules of the Kubernetes manifests, beyond what the schemas check.

Run by scripts/check-k8s with the project's venv python (PyYAML comes with kubernetes-validate).
Reads k8s/base/*.yaml as written and each overlay (k8s/overlays/*) as `kubectl kustomize` renders
it. Prints each rule
that fails, for which resource, and exits 1 if any does. Rules (k8s/README.md, "Rules"):

  nats-route-auth          NATS routes need credentials, which come from a Secret, not the ConfigMap
  nats-monitoring-private  NATS monitoring (no password) listens on the pod's loopback only
  tls-prod                 prod: TLS for NATS clients and routes, and for SurrealDB (wss://, a CA per service)
  security-context         every container non-root, no privilege escalation, capabilities
                           dropped, seccomp, read-only root; fsGroup where a pod has volumes
  no-service-account-token every pod sets automountServiceAccountToken: false
  psa-labels               every namespace enforces the `restricted` Pod Security Standard
  ingress-tls-prod         prod: the Ingress serves TLS for a host; the HTTPRoute names it
  images-pinned            no untagged or :latest image; third-party images at an exact release

`--require-digests` also fails prod third-party images without a digest (otherwise listed as a
TODO). `--only RULE` runs one rule.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
MONITOR_PORT = 8222
PROD = ("prod",)


class Report:
    def __init__(self, only):
        self.only = only
        self.failures = []
        self.notes = []
        self.rules_run = set()

    def fail(self, rule, where, resource, message):
        self.failures.append(f"FAIL [{rule}] {where}: {resource}: {message}")

    def note(self, message):
        if message not in self.notes:
            self.notes.append(message)

    def wants(self, rule):
        if self.only and rule != self.only:
            return False
        self.rules_run.add(rule)
        return True


def load(text):
    return [d for d in yaml.safe_load_all(text) if d]


def kustomize(path):
    out = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"kubectl kustomize {path}: {out.stderr.strip()}")
    return load(out.stdout)


def sets():
    """Every set of resources the rules read: (name, resources, overlay namespace or None)."""
    base = []
    for path in sorted(glob.glob(os.path.join(REPO, "k8s/base/*.yaml"))):
        if os.path.basename(path) != "kustomization.yaml":
            base.extend(load(open(path).read()))
    result = [("base", base, None)]
    for overlay in sorted(glob.glob(os.path.join(REPO, "k8s/overlays/*/"))):
        name = os.path.basename(os.path.dirname(overlay))
        kz = yaml.safe_load(open(os.path.join(overlay, "kustomization.yaml")))
        result.append((name, kustomize(overlay), kz.get("namespace")))
    return result


def named(resources, kind, name):
    return next((r for r in resources if r.get("kind") == kind and r.get("metadata", {}).get("name") == name), None)


def ident(resource):
    return f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"


def pod_templates(resources):
    """(workload, pod spec) for every resource that runs pods."""
    for r in resources:
        kind = r.get("kind")
        if kind not in WORKLOADS:
            continue
        spec = r.get("spec", {})
        if kind == "Pod":
            yield r, spec
        elif kind == "CronJob":
            yield r, spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
        else:
            yield r, spec.get("template", {}).get("spec", {})


def containers(pod):
    return (pod.get("initContainers") or []) + (pod.get("containers") or [])


# --- nats.conf, as far as the rules need it --------------------------------------------------


def strip_comments(conf):
    """nats.conf without comments (# and //), quoted strings kept."""
    out = []
    for line in conf.splitlines():
        quote = None
        kept = ""
        i = 0
        while i < len(line):
            c = line[i]
            if quote:
                if c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "#" or line.startswith("//", i):
                break
            kept += c
            i += 1
        out.append(kept)
    return "\n".join(out)


def block(conf, key):
    """The text inside `key { … }` (or `key: { … }`) at the top level of `conf`, or None."""
    depth = 0
    for match in re.finditer(r"(?m)[{}]|^[ \t]*(\w+)[ \t]*:?[ \t]*\{", conf):
        text = match.group(0)
        if match.group(1) is not None:
            if depth == 0 and match.group(1) == key:
                start = match.end()
                level = 1
                for i in range(start, len(conf)):
                    if conf[i] == "{":
                        level += 1
                    elif conf[i] == "}":
                        level -= 1
                        if level == 0:
                            return conf[start:i]
                return None
            depth += 1
        elif text == "{":
            depth += 1
        else:
            depth -= 1
    return None


def top_level(conf):
    """`conf` with every nested block's content removed."""
    out, depth = [], 0
    for c in conf:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def setting(conf, key):
    """The value of `key: value` (or `key = value`, `key value`) at the top level of `conf`."""
    match = re.search(rf"(?m)^[ \t]*{re.escape(key)}(?:[ \t]*[:=][ \t]*|[ \t]+)(\S[^\n]*?)[ \t]*,?[ \t]*$", top_level(conf))
    return match.group(1).strip("\"'") if match else None


def includes(conf):
    return re.findall(r"(?m)^[ \t]*include[ \t]+[\"']?([^\s\"']+)", top_level(conf))


def nats_files(resources):
    config = named(resources, "ConfigMap", "nats-config")
    return (config or {}).get("data") or {}


def with_includes(files, conf):
    """`conf` with the files it includes at its top level appended (one level, as used here)."""
    return conf + "\n" + "\n".join(strip_comments(files.get(name, "")) for name in includes(conf))


def nats_container(resources):
    sts = named(resources, "StatefulSet", "nats")
    if not sts:
        return None, None
    pod = sts.get("spec", {}).get("template", {}).get("spec", {})
    return sts, next(iter(pod.get("containers") or []), None)


def env_of(container):
    return {e.get("name"): e for e in (container or {}).get("env") or []}


# --- the rules ----------------------------------------------------------------------------------


def rule_nats_route_auth(report, where, resources):
    files = nats_files(resources)
    if "nats.conf" not in files:
        return
    cm = "ConfigMap/nats-config"
    conf = strip_comments(files["nats.conf"])
    cluster = block(conf, "cluster")
    if cluster is None:
        return
    cluster = with_includes(files, cluster)
    auth = block(cluster, "authorization")
    if auth is None:
        report.fail("nats-route-auth", where, cm, "the cluster block has no authorization: any pod reaching :6222 joins the cluster")
        return
    user, password = setting(auth, "user"), setting(auth, "password")
    if not user or not password:
        report.fail("nats-route-auth", where, cm, "the cluster authorization lacks a user or a password")
        return
    if not password.startswith("$"):
        report.fail("nats-route-auth", where, cm, "the route password is written in the ConfigMap: take it from a Secret ($VARIABLE)")
        return
    variable = password[1:]
    sts, container = nats_container(resources)
    if container is None:
        report.fail("nats-route-auth", where, "StatefulSet/nats", "no NATS StatefulSet to give the route password")
        return
    env = env_of(container)
    if not ((env.get(variable) or {}).get("valueFrom") or {}).get("secretKeyRef"):
        report.fail("nats-route-auth", where, "StatefulSet/nats", f"{variable} (the route password) does not come from a Secret")
    # Outgoing routes log in with their URL's credentials only (nats-server ignores the block above
    # for them): every route must carry the user and the password variable.
    listed = re.search(r"(?m)^[ \t]*routes[ \t]*[:=]?[ \t]*\[([^\]]*)\]", top_level(cluster))
    routes = listed.group(1) if listed else (setting(cluster, "routes") or "")
    if routes.startswith("$"):
        value = (env.get(routes[1:]) or {}).get("value", "")
    else:
        value = routes
    urls = re.findall(r"nats(?:-route)?://[^\s,\]\"']+", value)
    replicas = (sts.get("spec") or {}).get("replicas", 1)
    if len(urls) < replicas:
        report.fail("nats-route-auth", where, "StatefulSet/nats", f"the routes name {len(urls)} servers, the StatefulSet runs {replicas}")
    for url in urls:
        if not url.split("://", 1)[1].startswith(f"{user}:$({variable})@"):
            report.fail("nats-route-auth", where, "StatefulSet/nats", f"route {url} does not log in as {user} with $({variable})")
    for name, text in files.items():
        for value in re.findall(r"(?m)^\s*password\s*[:=]\s*(\S+)", strip_comments(text)):
            if not value.startswith("$"):
                report.fail("nats-route-auth", where, cm, f"{name} holds a password in clear: take it from a Secret")


def rule_nats_monitoring_private(report, where, resources):
    files = nats_files(resources)
    if "nats.conf" not in files:
        return
    conf = with_includes(files, strip_comments(files["nats.conf"]))
    monitor_port = None
    for key in ("http", "https", "http_port", "https_port", "monitor_port"):
        value = setting(conf, key)
        if value is None:
            continue
        host, _, port = value.rpartition(":")
        if key in ("http", "https") and host:
            if host.strip("[]") not in ("127.0.0.1", "localhost", "::1"):
                report.fail("nats-monitoring-private", where, "ConfigMap/nats-config", f"{key}: {value} listens beyond the pod's loopback")
            monitor_port = port
        else:
            host = setting(conf, "http_host") or setting(conf, "host") or setting(conf, "net") or "0.0.0.0"
            if host not in ("127.0.0.1", "localhost", "::1"):
                report.fail("nats-monitoring-private", where, "ConfigMap/nats-config", f"{key}: {value} listens on {host}: bind it to 127.0.0.1")
            monitor_port = port or value
    ports = {str(MONITOR_PORT)}
    if monitor_port:
        ports.add(str(monitor_port))
    sts, container = nats_container(resources)
    if container is None:
        return
    names = set()
    for p in container.get("ports") or []:
        if str(p.get("containerPort")) in ports:
            names.add(p.get("name"))
            report.fail("nats-monitoring-private", where, "StatefulSet/nats", f"container port {p.get('containerPort')} (monitoring) is declared")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        http = (container.get(probe) or {}).get("httpGet")
        if http and (str(http.get("port")) in ports or http.get("port") in names):
            report.fail("nats-monitoring-private", where, "StatefulSet/nats", f"{probe} reaches monitoring from outside the pod")
    for service in (r for r in resources if r.get("kind") == "Service"):
        selector = (service.get("spec") or {}).get("selector") or {}
        if selector.get("app.kubernetes.io/name") != "nats":
            continue
        for p in (service.get("spec") or {}).get("ports") or []:
            if str(p.get("port")) in ports or str(p.get("targetPort")) in ports or p.get("targetPort") in names | {"monitor"}:
                report.fail("nats-monitoring-private", where, ident(service), f"port {p.get('name') or p.get('port')} exposes monitoring")


def rule_tls_prod(report, where, resources):
    files = nats_files(resources)
    cm = "ConfigMap/nats-config"
    conf = strip_comments(files.get("nats.conf", ""))
    top = with_includes(files, conf)
    client_tls = block(top, "tls")
    if client_tls is None or not setting(client_tls, "cert_file") or not setting(client_tls, "key_file"):
        report.fail("tls-prod", where, cm, "no client `tls {}` block with cert_file and key_file")
    cluster = block(conf, "cluster")
    route_tls = block(with_includes(files, cluster), "tls") if cluster is not None else None
    if route_tls is None or not all(setting(route_tls, k) for k in ("cert_file", "key_file", "ca_file")):
        report.fail("tls-prod", where, cm, "no route `tls {}` block (cluster) with cert_file, key_file and ca_file")
    for name, tls in (("client", client_tls), ("route", route_tls)):
        if tls is not None and re.search(r"(?m)^\s*(insecure|allow_non_tls)\s*[:=]?\s*true", tls):
            report.fail("tls-prod", where, cm, f"the {name} TLS block turns verification off")
    sts, container = nats_container(resources)
    if container is not None:
        pod = sts["spec"]["template"]["spec"]
        secrets = {v["name"] for v in pod.get("volumes") or [] if "secret" in v}
        mounted = {m.get("name") for m in container.get("volumeMounts") or []}
        if not secrets & mounted:
            report.fail("tls-prod", where, "StatefulSet/nats", "no Secret (the certificates) mounted")
    config = (named(resources, "ConfigMap", "ticketing-config") or {}).get("data") or {}
    nats_url = config.get("NATS_URL", "")
    if nats_url and not all(u.strip().startswith("tls://") for u in nats_url.split(",")):
        report.fail("tls-prod", where, "ConfigMap/ticketing-config", f"NATS_URL={nats_url}: tls:// makes the clients require TLS")
    for workload, pod in pod_templates(resources):
        for c in pod.get("containers") or []:
            if "NATS_URL" in env_of(c) and not any(m.get("mountPath", "").startswith("/etc/ssl/certs/") for m in c.get("volumeMounts") or []):
                report.fail("tls-prod", where, ident(workload), f"container {c.get('name')} connects to NATS but trusts no CA of ours")
    # SurrealDB: TLS on the server, wss:// in the services' URL, and the CA each one checks with.
    database_url = config.get("DATABASE_URL", "")
    surreal = named(resources, "StatefulSet", "surrealdb")
    if database_url and surreal and not database_url.startswith("wss://"):
        report.fail("tls-prod", where, "ConfigMap/ticketing-config", f"DATABASE_URL={database_url}: wss:// (k8s/components/surrealdb-tls)")
    if database_url.startswith("wss://") and surreal:
        c = surreal["spec"]["template"]["spec"]["containers"][0]
        env, args = env_of(c), c.get("args") or []
        if not (("SURREAL_WEB_CRT" in env or "--web-crt" in args) and ("SURREAL_WEB_KEY" in env or "--web-key" in args)):
            report.fail("tls-prod", where, "StatefulSet/surrealdb", "DATABASE_URL is wss:// but the server has no certificate (--web-crt/--web-key)")
        for probe in ("readinessProbe", "livenessProbe"):
            if ((c.get(probe) or {}).get("httpGet") or {}).get("scheme") != "HTTPS":
                report.fail("tls-prod", where, "StatefulSet/surrealdb", f"{probe} is not HTTPS")
        for workload, pod in pod_templates(resources):
            for c in pod.get("containers") or []:
                if "DATABASE_URL" not in env_of(c):
                    continue
                ca = (env_of(c).get("DATABASE_CA_FILE") or {}).get("value")
                mounts = [m.get("mountPath", "").rstrip("/") + "/" for m in c.get("volumeMounts") or []]
                if not ca:
                    report.fail("tls-prod", where, ident(workload), f"container {c.get('name')} connects to SurrealDB over TLS but sets no DATABASE_CA_FILE")
                elif not any(ca.startswith(m) for m in mounts):
                    report.fail("tls-prod", where, ident(workload), f"container {c.get('name')}: DATABASE_CA_FILE={ca} is on no mounted volume")


def rule_security_context(report, where, resources):
    for workload, pod in pod_templates(resources):
        psc = pod.get("securityContext") or {}
        has_volumes = bool(workload.get("spec", {}).get("volumeClaimTemplates")) or any(
            "persistentVolumeClaim" in v for v in pod.get("volumes") or []
        )
        if has_volumes and psc.get("fsGroup") is None:
            report.fail("security-context", where, ident(workload), "a pod with a persistent volume sets no fsGroup")
        for c in containers(pod):
            csc = c.get("securityContext") or {}
            name = f"{ident(workload)} container {c.get('name')}"

            def effective(key):
                return csc.get(key, psc.get(key))

            if effective("runAsNonRoot") is not True:
                report.fail("security-context", where, name, "runAsNonRoot is not true")
            if effective("runAsUser") == 0:
                report.fail("security-context", where, name, "runs as uid 0")
            if csc.get("allowPrivilegeEscalation") is not False:
                report.fail("security-context", where, name, "allowPrivilegeEscalation is not false")
            if csc.get("privileged"):
                report.fail("security-context", where, name, "privileged")
            drop = [d.upper() for d in (csc.get("capabilities") or {}).get("drop") or []]
            if "ALL" not in drop:
                report.fail("security-context", where, name, "capabilities do not drop ALL")
            added = set((csc.get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}
            if added:
                report.fail("security-context", where, name, f"adds capabilities {sorted(added)}")
            seccomp = (effective("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                report.fail("security-context", where, name, "no seccompProfile RuntimeDefault (or Localhost)")
            if csc.get("readOnlyRootFilesystem") is not True:
                report.fail("security-context", where, name, "readOnlyRootFilesystem is not true")


def rule_no_service_account_token(report, where, resources):
    for workload, pod in pod_templates(resources):
        if pod.get("automountServiceAccountToken") is not False:
            report.fail("no-service-account-token", where, ident(workload), "the pod does not set automountServiceAccountToken: false")


def rule_psa_labels(report, where, resources, namespace):
    namespaces = [r for r in resources if r.get("kind") == "Namespace"]
    if namespace and not any(n["metadata"].get("name") == namespace for n in namespaces):
        report.fail("psa-labels", where, f"Namespace/{namespace}", "the overlay's namespace is not among its resources (no labels to enforce)")
    for n in namespaces:
        labels = n["metadata"].get("labels") or {}
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            report.fail("psa-labels", where, ident(n), "pod-security.kubernetes.io/enforce is not restricted")
        for mode in ("warn", "audit"):
            if labels.get(f"pod-security.kubernetes.io/{mode}") not in ("restricted", None):
                report.fail("psa-labels", where, ident(n), f"pod-security.kubernetes.io/{mode} is weaker than restricted")


def rule_ingress_tls_prod(report, where, resources):
    for ingress in (r for r in resources if r.get("kind") == "Ingress"):
        spec = ingress.get("spec") or {}
        tls_hosts = set()
        for entry in spec.get("tls") or []:
            if not entry.get("secretName"):
                report.fail("ingress-tls-prod", where, ident(ingress), "a tls entry without secretName")
            tls_hosts.update(entry.get("hosts") or [])
        if not tls_hosts:
            report.fail("ingress-tls-prod", where, ident(ingress), "no TLS (spec.tls with hosts and a secretName)")
        for rule in spec.get("rules") or []:
            host = rule.get("host")
            if not host:
                report.fail("ingress-tls-prod", where, ident(ingress), "a rule without a host")
            elif host not in tls_hosts:
                report.fail("ingress-tls-prod", where, ident(ingress), f"host {host} is not served with TLS")
    for route in (r for r in resources if r.get("kind") == "HTTPRoute"):
        if not (route.get("spec") or {}).get("hostnames"):
            report.fail("ingress-tls-prod", where, ident(route), "no hostnames (its Gateway's HTTPS listener serves them)")


def our_images():
    """The images this project builds (skaffold.yaml), untagged in the base, and the names the
    overlays give them (`images:` newName)."""
    skaffold = yaml.safe_load(open(os.path.join(REPO, "skaffold.yaml")))
    ours = {a["image"] for a in skaffold.get("build", {}).get("artifacts", [])}
    for path in glob.glob(os.path.join(REPO, "k8s/overlays/*/kustomization.yaml")):
        for entry in yaml.safe_load(open(path)).get("images") or []:
            if entry.get("name") in ours and entry.get("newName"):
                ours.add(entry["newName"])
    return ours


EXACT = re.compile(r"^v?\d+\.\d+\.\d+([-+._][0-9A-Za-z.-]+)?$")


def split_image(image):
    name, digest = (image.split("@", 1) + [None])[:2]
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if tag:
        name = name[: -(len(tag) + 1)]
    return name, tag, digest


def rule_images_pinned(report, where, resources, ours, require_digests):
    for workload, pod in pod_templates(resources):
        for c in containers(pod):
            image = c.get("image", "")
            name, tag, digest = split_image(image)
            what = f"{ident(workload)} container {c.get('name')}"
            if tag == "latest":
                report.fail("images-pinned", where, what, f"{image}: :latest")
                continue
            if name in ours:
                # Ours: skaffold tags them in dev; an overlay that deploys a registry must.
                if where not in ("base", "dev") and not tag and not digest:
                    report.fail("images-pinned", where, what, f"{image}: untagged")
                continue
            if not tag and not digest:
                report.fail("images-pinned", where, what, f"{image}: untagged (Docker takes :latest)")
            elif tag and not digest and not EXACT.match(tag):
                report.fail("images-pinned", where, what, f"{image}: tag {tag} is not an exact release (x.y.z)")
            if where in PROD and not digest:
                if require_digests:
                    report.fail("images-pinned", where, what, f"{image}: no digest")
                elif where == "prod":
                    report.note(f"TODO prod: {image} has no digest (k8s/overlays/prod/kustomization.yaml, `images:`)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--require-digests", action="store_true")
    parser.add_argument("--only")
    args = parser.parse_args()
    report = Report(args.only)
    ours = our_images()
    checked = sets()
    for where, resources, namespace in checked:
        if report.wants("nats-route-auth"):
            rule_nats_route_auth(report, where, resources)
        if report.wants("nats-monitoring-private"):
            rule_nats_monitoring_private(report, where, resources)
        if where in PROD and report.wants("tls-prod"):
            rule_tls_prod(report, where, resources)
        if report.wants("security-context"):
            rule_security_context(report, where, resources)
        if report.wants("no-service-account-token"):
            rule_no_service_account_token(report, where, resources)
        if report.wants("psa-labels"):
            rule_psa_labels(report, where, resources, namespace)
        if where in PROD and report.wants("ingress-tls-prod"):
            rule_ingress_tls_prod(report, where, resources)
        if report.wants("images-pinned"):
            rule_images_pinned(report, where, resources, ours, args.require_digests)
    for note in report.notes:
        print(f"note: {note}")
    if report.failures:
        print("\n".join(report.failures), file=sys.stderr)
        print(f"k8s rules: {len(report.failures)} failure(s)", file=sys.stderr)
        return 1
    print(f"k8s rules: {len(report.rules_run)} rules pass on {', '.join(w for w, _, _ in checked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
