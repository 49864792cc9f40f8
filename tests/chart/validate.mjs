#!/usr/bin/env node
// Validates the output of `helm template` for charts/epc-scheduler:
//
//  1. Schema: every object is checked against the Kubernetes API's JSON schemas with the model
//     classes of the npm package kubernetes-models (and @kubernetes-models/prometheus-operator
//     for monitoring.coreos.com/v1), picked by apiVersion and kind. An unknown apiVersion/kind
//     fails. Those schemas check types, required fields and formats, but (like the API's
//     OpenAPI) not unknown fields.
//  2. Semantics: the chart's promises, see checkSemantics() below (kube-scheduler's extender
//     urlPrefix points at the extender Service, weight large, managedResources only in epcPods
//     mode, hardened pods, least-privilege RBAC without wildcards, ...).
//
// Usage: node validate.mjs [options] RENDERED.yaml
//   --node-modules DIR        where the validator packages are (default: <repo>/tools/node_modules,
//                             filled by scripts/fetch-k8s-tools.sh from tests/chart/package-lock.json)
//   --namespace NS            the release namespace given to helm template (default: epc-system)
//   --expect-scheduler BOOL   whether the chart's kube-scheduler is rendered (default: true)
//   --expect-scheduler-name N the profile's schedulerName (default: epc-scheduler)
//   --expect-autoscaler BOOL  whether epc-autoscaler is rendered (default: true)
//   --expect-called-for MODE  allPods | epcPods (default: allPods)
//   --expect-bind BOOL        bind verb on (default: false)
//   --expect-tls BOOL         TLS between scheduler and extender (default: false)
//   --expect-monitoring BOOL  ServiceMonitor + PrometheusRule rendered (default: false)
//   --expect-label K=V        an extra label the ServiceMonitors must carry (repeatable)
//   --expect-rule-label K=V   an extra label the PrometheusRule must carry (repeatable)
//   --expect-dashboard-label K=V  the Grafana sidecar label of the dashboards (default grafana_dashboard=1;
//                             "none": no dashboards rendered)
//   --min-weight N            smallest acceptable extender weight (default: 100)
//   --rules-out FILE          write the PrometheusRule's spec (a Prometheus rules file) here
//   --config-out FILE         write the shared config.yaml from the ConfigMap here
// Exit status: 0 when everything holds, 1 with one line per problem otherwise, 2 on usage errors.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..");

function usage(msg) {
  console.error(`validate.mjs: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    nodeModules: path.join(repoRoot, "tools", "node_modules"),
    namespace: "epc-system",
    scheduler: true,
    schedulerName: "epc-scheduler",
    autoscaler: true,
    calledFor: "allPods",
    bind: false,
    tls: false,
    monitoring: false,
    labels: {},
    ruleLabels: {},
    dashboardLabel: ["grafana_dashboard", "1"],
    minWeight: 100,
    rulesOut: null,
    configOut: null,
    file: null,
  };
  const bool = (v, name) => {
    if (v === "true") return true;
    if (v === "false") return false;
    usage(`${name} takes true or false, not ${JSON.stringify(v)}`);
  };
  const kv = (v, name) => {
    const i = v.indexOf("=");
    if (i <= 0) usage(`${name} takes KEY=VALUE, not ${JSON.stringify(v)}`);
    return [v.slice(0, i), v.slice(i + 1)];
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let value;
    if (a.startsWith("--") && a.includes("=")) {
      value = a.slice(a.indexOf("=") + 1);
      a = a.slice(0, a.indexOf("="));
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--node-modules": opts.nodeModules = path.resolve(next()); break;
      case "--namespace": opts.namespace = next(); break;
      case "--expect-scheduler": opts.scheduler = bool(next(), a); break;
      case "--expect-scheduler-name": opts.schedulerName = next(); break;
      case "--expect-autoscaler": opts.autoscaler = bool(next(), a); break;
      case "--expect-called-for": {
        opts.calledFor = next();
        if (!["allPods", "epcPods"].includes(opts.calledFor)) usage(`${a}: allPods or epcPods`);
        break;
      }
      case "--expect-bind": opts.bind = bool(next(), a); break;
      case "--expect-tls": opts.tls = bool(next(), a); break;
      case "--expect-monitoring": opts.monitoring = bool(next(), a); break;
      case "--expect-label": { const [k, v] = kv(next(), a); opts.labels[k] = v; break; }
      case "--expect-rule-label": { const [k, v] = kv(next(), a); opts.ruleLabels[k] = v; break; }
      case "--expect-dashboard-label": {
        const v = next();
        opts.dashboardLabel = v === "none" ? null : kv(v, a);
        break;
      }
      case "--min-weight": opts.minWeight = Number(next()); break;
      case "--rules-out": opts.rulesOut = next(); break;
      case "--config-out": opts.configOut = next(); break;
      default:
        if (a.startsWith("--")) usage(`unknown option ${a}`);
        if (opts.file) usage("only one rendered file");
        opts.file = a;
    }
  }
  if (!opts.file) usage("no rendered YAML file given");
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
if (!fs.existsSync(path.join(opts.nodeModules, "kubernetes-models"))) {
  console.error(
    `validate.mjs: ${opts.nodeModules}/kubernetes-models is missing; run scripts/fetch-k8s-tools.sh ` +
      "(npm ci of tests/chart/package-lock.json into tools/)");
  process.exit(1);
}
// Resolve the packages from tools/node_modules, wherever this script lives.
const requireTools = createRequire(path.join(opts.nodeModules, "..", "noop.js"));
const YAML = requireTools("yaml");

const problems = [];
const fail = (where, msg) => problems.push(`${where}: ${msg}`);

// ---------------------------------------------------------------------------------------------
// Reading the documents
// ---------------------------------------------------------------------------------------------
const text = fs.readFileSync(opts.file, "utf8");
const docs = [];
for (const doc of YAML.parseAllDocuments(text)) {
  if (doc.errors.length) {
    for (const e of doc.errors) fail(opts.file, `YAML error: ${e.message}`);
    continue;
  }
  const obj = doc.toJS();
  if (obj === null || obj === undefined) continue; // empty document (a disabled template)
  docs.push(obj);
}
if (problems.length) finish();

const id = (o) => `${o?.kind ?? "?"} ${o?.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o?.metadata?.name ?? "?"}`;

// ---------------------------------------------------------------------------------------------
// 1. Schema validation with kubernetes-models
// ---------------------------------------------------------------------------------------------
function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  let spec;
  if (apiVersion === "v1") {
    spec = `kubernetes-models/v1/${kind}`;
  } else {
    const [group, version, extra] = apiVersion.split("/");
    if (!group || !version || extra !== undefined) return null;
    spec = group === "monitoring.coreos.com"
      ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`
      : `kubernetes-models/${group}/${version}/${kind}`;
  }
  let mod;
  try {
    mod = requireTools(spec);
  } catch {
    return null;
  }
  const Cls = mod[kind];
  // Only top-level API kinds carry apiVersion/kind statics (DeploymentSpec etc. do not).
  if (typeof Cls !== "function" || Cls.apiVersion !== apiVersion || Cls.kind !== kind) return null;
  return Cls;
}

const kindsSeen = new Map();
for (const o of docs) {
  if (typeof o !== "object" || Array.isArray(o)) {
    fail(opts.file, `a document is not an object: ${JSON.stringify(o).slice(0, 80)}`);
    continue;
  }
  const Cls = modelClass(o.apiVersion, o.kind);
  if (!Cls) {
    fail(id(o), `unknown apiVersion/kind ${o.apiVersion}/${o.kind}: no kubernetes-models class validates it`);
    continue;
  }
  try {
    new Cls(o).validate();
  } catch (e) {
    fail(id(o), `schema: ${e.message}`);
  }
  const k = `${o.apiVersion}/${o.kind}`;
  kindsSeen.set(k, (kindsSeen.get(k) ?? 0) + 1);
}

// ---------------------------------------------------------------------------------------------
// 2. Semantic checks
// ---------------------------------------------------------------------------------------------
const ofKind = (kind) => docs.filter((o) => o.kind === kind);
const byName = (kind, name) => docs.find((o) => o.kind === kind && o.metadata?.name === name);
const component = (o) => o.metadata?.labels?.["app.kubernetes.io/component"];
const deployment = (comp) => ofKind("Deployment").find((d) => component(d) === comp);
const matches = (selector, labels) =>
  selector && Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const CLUSTER_SCOPED = new Set(["ClusterRole", "ClusterRoleBinding", "Namespace", "PriorityClass"]);
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkMetadata() {
  const names = new Set();
  for (const o of docs) {
    const m = o.metadata ?? {};
    if (!m.name || m.name.length > 253 || !DNS1123.test(m.name))
      fail(id(o), `metadata.name ${JSON.stringify(m.name)} is not a DNS-1123 name`);
    if (["Service", "Deployment"].includes(o.kind) && m.name.length > 63)
      fail(id(o), "name longer than 63 characters");
    if (CLUSTER_SCOPED.has(o.kind)) {
      if (m.namespace) fail(id(o), "cluster-scoped object with a namespace");
    } else if (!m.namespace) {
      fail(id(o), "namespaced object without metadata.namespace (helm template -n would not show it)");
    }
    const key = `${o.kind}/${m.namespace ?? ""}/${m.name}`;
    if (names.has(key)) fail(id(o), "rendered twice");
    names.add(key);
    for (const l of ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"]) {
      if (!m.labels?.[l]) fail(id(o), `label ${l} missing`);
    }
  }
}

// The effective security settings of each container, pod-level defaults included.
function checkPodSecurity(d) {
  const spec = d.spec?.template?.spec ?? {};
  const podSc = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) fail(id(d), "uses host namespaces");
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  if (!containers.length) fail(id(d), "no containers");
  for (const c of containers) {
    const where = `${id(d)} container ${c.name}`;
    const sc = c.securityContext ?? {};
    const eff = (k) => (sc[k] !== undefined ? sc[k] : podSc[k]);
    if (eff("runAsNonRoot") !== true) fail(where, "runAsNonRoot is not true");
    if (eff("runAsUser") !== 65532) fail(where, `runAsUser is ${eff("runAsUser")}, want 65532`);
    if (sc.readOnlyRootFilesystem !== true) fail(where, "readOnlyRootFilesystem is not true");
    if (sc.allowPrivilegeEscalation !== false) fail(where, "allowPrivilegeEscalation is not false");
    if (sc.privileged === true) fail(where, "privileged");
    const drop = sc.capabilities?.drop ?? [];
    if (!drop.includes("ALL")) fail(where, "capabilities.drop does not include ALL");
    if ((sc.capabilities?.add ?? []).length) fail(where, "adds capabilities");
    if (eff("seccompProfile")?.type !== "RuntimeDefault") fail(where, "seccompProfile is not RuntimeDefault");
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) {
        if (c.resources?.[kind]?.[r] === undefined) fail(where, `resources.${kind}.${r} missing`);
      }
    }
    if (!c.image || /:latest$/.test(c.image) || !/[:@]/.test(c.image)) fail(where, `image ${c.image} is not pinned`);
    // Probes: liveness on /healthz (or kube-scheduler's /livez), readiness on /readyz, on a
    // port the container declares.
    const portNames = new Set((c.ports ?? []).map((p) => p.name));
    const portNumbers = new Set((c.ports ?? []).map((p) => p.containerPort));
    const probe = (name, paths) => {
      const p = c[name];
      if (!p?.httpGet) return fail(where, `${name} missing (want an httpGet probe)`);
      if (!paths.includes(p.httpGet.path)) fail(where, `${name} path ${p.httpGet.path}, want ${paths.join(" or ")}`);
      const port = p.httpGet.port;
      if (!(portNames.has(port) || portNumbers.has(port))) fail(where, `${name} port ${port} is not a declared container port`);
    };
    if (!(spec.initContainers ?? []).includes(c)) {
      probe("livenessProbe", ["/healthz", "/livez"]);
      probe("readinessProbe", ["/readyz"]);
    }
  }
  if (spec.automountServiceAccountToken === true && !spec.serviceAccountName) fail(id(d), "no serviceAccountName");
}

function checkWorkloads() {
  const want = ["extender"];
  if (opts.autoscaler) want.push("autoscaler");
  if (opts.scheduler) want.push("scheduler");
  const got = ofKind("Deployment").map(component).sort();
  if (JSON.stringify(got) !== JSON.stringify([...want].sort()))
    fail("Deployments", `components ${JSON.stringify(got)}, want ${JSON.stringify(want.sort())}`);
  for (const d of ofKind("Deployment")) {
    const tmplLabels = d.spec?.template?.metadata?.labels;
    if (!matches(d.spec?.selector?.matchLabels, tmplLabels)) fail(id(d), "selector does not match the pod template's labels");
    checkPodSecurity(d);
    const sa = d.spec?.template?.spec?.serviceAccountName;
    if (!sa || sa === "default") fail(id(d), "runs as the default ServiceAccount");
    else if (!byName("ServiceAccount", sa)) fail(id(d), `ServiceAccount ${sa} is not rendered`);
    // High availability: 2 replicas spread over nodes, and a PodDisruptionBudget.
    if (!(d.spec?.replicas >= 2) && !(component(d) === "autoscaler" && !opts.autoscalerHA))
      fail(id(d), `replicas ${d.spec?.replicas}, want 2 or more`);
    const spread = (d.spec?.template?.spec?.topologySpreadConstraints ?? []).some(
      (t) => t.topologyKey === "kubernetes.io/hostname" && matches(t.labelSelector?.matchLabels, tmplLabels));
    const anti = (d.spec?.template?.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
      (t) => t.topologyKey === "kubernetes.io/hostname");
    if (!spread && !anti) fail(id(d), "replicas are not spread across nodes (topologySpreadConstraints or podAntiAffinity)");
    const pdb = ofKind("PodDisruptionBudget").find((p) => matches(p.spec?.selector?.matchLabels, tmplLabels));
    if (!pdb) fail(id(d), "no PodDisruptionBudget selects its pods");
    else if (pdb.spec.minAvailable !== 1) fail(id(pdb), `minAvailable ${pdb.spec.minAvailable}, want 1`);
    // Every volume mount has a volume, every ConfigMap/Secret volume a name.
    const vols = new Map((d.spec?.template?.spec?.volumes ?? []).map((v) => [v.name, v]));
    for (const c of d.spec?.template?.spec?.containers ?? []) {
      for (const m of c.volumeMounts ?? []) if (!vols.has(m.name)) fail(id(d), `volumeMount ${m.name} has no volume`);
    }
    for (const v of vols.values()) {
      if (v.configMap && !byName("ConfigMap", v.configMap.name)) fail(id(d), `ConfigMap ${v.configMap.name} is not rendered`);
    }
  }
  for (const s of ofKind("Service")) {
    const d = ofKind("Deployment").find((x) => matches(s.spec?.selector, x.spec?.template?.metadata?.labels));
    if (!d) { fail(id(s), "selects no rendered Deployment's pods"); continue; }
    const ports = d.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    for (const p of s.spec.ports ?? []) {
      if (!ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort))
        fail(id(s), `port ${p.name} targets ${p.targetPort}, which ${id(d)} does not declare`);
    }
  }
}

// RBAC: no wildcards anywhere; exactly the rules each binary needs (docs in the templates).
const EXTENDER_RULES = (bind) => [
  ["", "nodes", ["get", "list", "watch"]],
  ["", "pods", ["get", "list", "watch"]],
  ...(bind ? [["", "pods/binding", ["create"]]] : []),
  ["", "events", ["create", "patch"]],
  ["events.k8s.io", "events", ["create", "patch"]],
];
// epc-autoscaler's API calls (tests/chart/rbac_check.py maps them to the source) for what the
// rendered config.autoscaler turns on: HPA targets' scale subresources and metrics.k8s.io,
// node/pod informer, taints, evictions and the provider's calls with cluster autoscaling.
const SCALE_GROUPS = { Deployment: "apps", StatefulSet: "apps", ReplicaSet: "apps", ReplicationController: "",
  MachineDeployment: "cluster.x-k8s.io", MachineSet: "cluster.x-k8s.io" };
function scaleResource(ref) {
  const av = ref?.apiVersion ?? "";
  const group = av ? (av.includes("/") ? av.split("/")[0] : "") : SCALE_GROUPS[ref?.kind];
  const lower = (ref?.kind ?? "").toLowerCase();
  const plural = /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  return [group, `${plural}/scale`];
}
const AUTOSCALER_RULES = (as) => {
  const horizontal = as?.horizontal ?? [];
  const cluster = as?.cluster?.enabled === true;
  const provider = as?.cluster?.provider ?? "clusterapi";
  return [
    ["", "pods", ["list", ...(cluster ? ["watch"] : [])]],
    ["", "events", ["create", "patch"]],
    ...(horizontal.length ? [["metrics.k8s.io", "pods", ["list"]]] : []),
    ...horizontal.map((t) => [...scaleResource(t.spec?.scaleTargetRef), ["get", "update"]]),
    ...(cluster ? [
      ["", "nodes", ["get", "list", "watch", "update", ...(provider === "kwok" ? ["create", "delete"] : [])]],
      ["", "pods/eviction", ["create"]],
      ...(provider === "kwok" ? [["", "nodes/status", ["update"]]] : [
        ["cluster.x-k8s.io", "machinedeployments", ["list"]],
        ["cluster.x-k8s.io", "machinedeployments/scale", ["get", "patch"]],
        ["cluster.x-k8s.io", "machines", ["list", "patch"]],
      ]),
    ] : []),
  ];
};
// The autoscaler's lease: create (cannot be limited by name), get/update of its own lease only.
const LEASE_RULES = (lease) => [
  ["coordination.k8s.io", "leases", ["create"]],
  ["coordination.k8s.io", `leases[${lease}]`, ["get", "update"]],
];

function triples(rules) {
  const out = new Set();
  for (const r of rules ?? []) {
    const names = r.resourceNames?.length ? `[${[...r.resourceNames].sort().join(",")}]` : "";
    for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs ?? [])
      out.add(`${g}|${res}${names}|${v}`);
  }
  return out;
}
function sameRules(where, got, want) {
  const g = triples(got);
  const w = triples(want.map(([group, res, verbs]) => ({ apiGroups: [group], resources: [res], verbs })));
  const extra = [...g].filter((x) => !w.has(x));
  const missing = [...w].filter((x) => !g.has(x));
  if (extra.length) fail(where, `grants more than needed: ${extra.join(", ")}`);
  if (missing.length) fail(where, `lacks: ${missing.join(", ")}`);
}

function checkRbac() {
  for (const o of [...ofKind("ClusterRole"), ...ofKind("Role")]) {
    for (const r of o.rules ?? []) {
      for (const f of ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"]) {
        if ((r[f] ?? []).some((x) => x.includes("*"))) fail(id(o), `wildcard in ${f}: ${JSON.stringify(r[f])}`);
      }
      if (r.nonResourceURLs) fail(id(o), "grants nonResourceURLs");
      if ((r.verbs ?? []).some((v) => ["escalate", "bind", "impersonate"].includes(v))) fail(id(o), `privileged verb in ${JSON.stringify(r.verbs)}`);
      if ((r.resources ?? []).includes("secrets")) fail(id(o), "grants access to Secrets");
    }
  }
  const roleFor = (comp, kind) => [...ofKind(kind)].filter((o) => component(o) === comp);
  const extenderRoles = roleFor("extender", "ClusterRole");
  if (extenderRoles.length !== 1) fail("extender RBAC", `${extenderRoles.length} ClusterRoles, want 1`);
  else sameRules(id(extenderRoles[0]), extenderRoles[0].rules, EXTENDER_RULES(opts.bind));
  if (roleFor("extender", "Role").length) fail("extender RBAC", "the extender needs no namespaced Role (no leases)");
  if (opts.autoscaler) {
    const cr = roleFor("autoscaler", "ClusterRole");
    if (cr.length !== 1) fail("autoscaler RBAC", `${cr.length} ClusterRoles, want 1`);
    else {
      sameRules(id(cr[0]), cr[0].rules, AUTOSCALER_RULES(sharedConfig(false)?.cfg?.autoscaler));
    }
    const roles = roleFor("autoscaler", "Role");
    // The lease the shared config tells the autoscaler to use must be the one its Role allows.
    const le = sharedConfig(false)?.cfg?.autoscaler?.leaderElection ?? {};
    if (le.leaseNamespace !== opts.namespace) fail("config", `autoscaler.leaderElection.leaseNamespace ${le.leaseNamespace}, want the release namespace ${opts.namespace}`);
    if (!le.leaseName) fail("config", "autoscaler.leaderElection.leaseName not set");
    if (roles.length !== 1) fail("autoscaler RBAC", `${roles.length} Roles, want 1 (leases)`);
    else {
      sameRules(id(roles[0]), roles[0].rules, LEASE_RULES(le.leaseName));
      if (roles[0].metadata.namespace !== opts.namespace) fail(id(roles[0]), "lease Role outside the release namespace");
    }
  }
  // Bindings: to rendered roles (or the built-in ones a second scheduler uses), subjects are
  // rendered ServiceAccounts.
  const builtin = {
    ClusterRole: new Set(["system:kube-scheduler", "system:volume-scheduler"]),
    Role: new Set(["extension-apiserver-authentication-reader"]),
  };
  for (const b of [...ofKind("ClusterRoleBinding"), ...ofKind("RoleBinding")]) {
    const ref = b.roleRef ?? {};
    if (ref.name === "cluster-admin" || ref.name === "admin" || ref.name === "edit") fail(id(b), `binds ${ref.name}`);
    const rendered = ref.kind === "Role"
      ? docs.find((o) => o.kind === "Role" && o.metadata.name === ref.name && o.metadata.namespace === b.metadata.namespace)
      : byName(ref.kind, ref.name);
    if (!rendered && !builtin[ref.kind]?.has(ref.name)) fail(id(b), `roleRef ${ref.kind} ${ref.name} is neither rendered nor built in`);
    if (builtin[ref.kind]?.has(ref.name) && component(b) !== "scheduler") fail(id(b), `only the scheduler binds ${ref.name}`);
    if (ref.name === "extension-apiserver-authentication-reader" && b.metadata.namespace !== "kube-system")
      fail(id(b), "extension-apiserver-authentication-reader must be bound in kube-system");
    for (const s of b.subjects ?? []) {
      if (s.kind !== "ServiceAccount") { fail(id(b), `subject kind ${s.kind}`); continue; }
      const sa = docs.find((o) => o.kind === "ServiceAccount" && o.metadata.name === s.name && o.metadata.namespace === s.namespace);
      if (!sa) fail(id(b), `subject ServiceAccount ${s.namespace}/${s.name} is not rendered`);
      else if (component(sa) !== component(b)) fail(id(b), `binds ${component(b)} permissions to the ${component(sa)} ServiceAccount`);
    }
  }
  if (opts.scheduler) {
    const refs = [...ofKind("ClusterRoleBinding"), ...ofKind("RoleBinding")].filter((b) => component(b) === "scheduler").map((b) => b.roleRef.name);
    for (const r of ["system:kube-scheduler", "system:volume-scheduler", "extension-apiserver-authentication-reader"])
      if (!refs.includes(r)) fail("scheduler RBAC", `no binding to ${r}`);
  }
}

// The shared config (ConfigMap) and kube-scheduler's configuration.
function sharedConfig(report = true) {
  const cm = ofKind("ConfigMap").find((c) => c.data?.["config.yaml"] !== undefined);
  if (!cm) { if (report) fail("config", "no ConfigMap with config.yaml"); return null; }
  let cfg;
  try { cfg = YAML.parse(cm.data["config.yaml"]) ?? {}; } catch (e) { if (report) fail(id(cm), `config.yaml: ${e.message}`); return null; }
  if (report && opts.configOut) fs.writeFileSync(opts.configOut, cm.data["config.yaml"]);
  if (!opts.autoscaler && cfg.autoscaler?.leaderElection?.leaseName && report) fail("config", "autoscaler lease set although the autoscaler is off");
  return { cm, cfg };
}

function checkExtender(shared) {
  const d = deployment("extender");
  if (!d || !shared) return;
  const { cfg } = shared;
  const c = d.spec.template.spec.containers[0];
  const port = c.ports?.[0];
  const ext = cfg.extender ?? {};
  if (ext.port !== port?.containerPort) fail(id(d), `container port ${port?.containerPort} != config extender.port ${ext.port}`);
  if (ext.bindAddress !== "0.0.0.0" && ext.bindAddress !== "::") fail("config", `extender.bindAddress ${ext.bindAddress}: the Service cannot reach it`);
  if (Boolean(ext.enableBind) !== opts.bind) fail("config", `extender.enableBind ${ext.enableBind}, expected ${opts.bind}`);
  const args = c.args ?? [];
  const cfgArg = args.find((a) => a.startsWith("--config="));
  const mount = (c.volumeMounts ?? []).find((m) => m.name === "config");
  if (!cfgArg || !mount || cfgArg !== `--config=${mount.mountPath}/config.yaml`) fail(id(d), "--config does not point at the mounted ConfigMap");
  const scheme = opts.tls ? "HTTPS" : "HTTP";
  for (const p of ["livenessProbe", "readinessProbe"]) {
    if ((c[p]?.httpGet?.scheme ?? "HTTP") !== scheme) fail(id(d), `${p} scheme is not ${scheme}`);
  }
  if (opts.tls) {
    const tls = ext.tls ?? {};
    const tmount = (c.volumeMounts ?? []).find((m) => m.name === "tls");
    const vol = d.spec.template.spec.volumes.find((v) => v.name === "tls");
    if (!tmount || !vol?.secret?.secretName) fail(id(d), "TLS on but no Secret volume mounted");
    else {
      if (tls.certFile !== `${tmount.mountPath}/tls.crt` || tls.keyFile !== `${tmount.mountPath}/tls.key`)
        fail("config", `extender.tls ${JSON.stringify(tls)} does not point into the Secret mount ${tmount.mountPath}`);
      const keys = (vol.secret.items ?? []).map((i) => i.key).sort();
      if (JSON.stringify(keys) !== JSON.stringify(["tls.crt", "tls.key"])) fail(id(d), `TLS Secret items ${keys}`);
    }
  } else if (ext.tls?.certFile) {
    fail("config", "TLS off but extender.tls.certFile set");
  }
  return { port: ext.port, urlPrefix: ext.urlPrefix ?? "" };
}

function checkSchedulerConfig(shared, extender) {
  const d = deployment("scheduler");
  if (!opts.scheduler) {
    if (d) fail(id(d), "scheduler rendered although scheduler.enabled is false");
    return;
  }
  if (!d) return fail("scheduler", "no kube-scheduler Deployment");
  const cm = ofKind("ConfigMap").find((c) => c.data?.["kube-scheduler-config.yaml"] !== undefined);
  if (!cm) return fail("scheduler", "no KubeSchedulerConfiguration ConfigMap");
  const c = d.spec.template.spec.containers[0];
  if (!/^registry\.k8s\.io\/kube-scheduler:v1\.\d+\.\d+$/.test(c.image)) fail(id(d), `image ${c.image} is not the official kube-scheduler`);
  const vol = d.spec.template.spec.volumes.find((v) => v.configMap?.name === cm.metadata.name);
  const mount = vol && c.volumeMounts.find((m) => m.name === vol.name);
  if (!mount || !(c.args ?? []).includes(`--config=${mount.mountPath}/kube-scheduler-config.yaml`))
    fail(id(d), "--config does not point at the mounted KubeSchedulerConfiguration");
  let k;
  try { k = YAML.parse(cm.data["kube-scheduler-config.yaml"]); } catch (e) { return fail(id(cm), `YAML: ${e.message}`); }
  const where = `${id(cm)} KubeSchedulerConfiguration`;
  if (k.apiVersion !== "kubescheduler.config.k8s.io/v1" || k.kind !== "KubeSchedulerConfiguration") fail(where, `apiVersion/kind ${k.apiVersion}/${k.kind}`);
  const known = new Set(["apiVersion", "kind", "leaderElection", "profiles", "extenders", "percentageOfNodesToScore", "parallelism", "clientConnection", "podInitialBackoffSeconds", "podMaxBackoffSeconds", "delayCacheUntilActive", "featureGates"]);
  for (const key of Object.keys(k)) if (!known.has(key)) fail(where, `unknown field ${key}`);
  const le = k.leaderElection ?? {};
  if (le.leaderElect !== true) fail(where, "leaderElection.leaderElect is not true");
  if (!le.resourceName || le.resourceName === "kube-scheduler") fail(where, `lease ${le.resourceName}: must be its own, not kube-scheduler's`);
  if (le.resourceNamespace !== opts.namespace) fail(where, `lease namespace ${le.resourceNamespace}, want ${opts.namespace}`);
  if (le.resourceLock !== "leases") fail(where, "resourceLock is not leases");
  const leaseRole = ofKind("Role").find((r) => component(r) === "scheduler" && r.metadata.namespace === le.resourceNamespace &&
    r.rules.some((x) => x.resources.includes("leases") && (x.resourceNames ?? []).includes(le.resourceName) && x.verbs.includes("update")));
  if (!leaseRole) fail(where, `no Role lets the scheduler update its lease ${le.resourceName}`);
  const profiles = k.profiles ?? [];
  if (profiles.length !== 1 || profiles[0].schedulerName !== opts.schedulerName)
    fail(where, `profiles ${JSON.stringify(profiles)}, want one named ${opts.schedulerName}`);
  if (profiles.some((p) => p.schedulerName === "default-scheduler")) fail(where, "a profile named default-scheduler");
  const exts = k.extenders ?? [];
  if (exts.length !== 1) return fail(where, `${exts.length} extenders, want 1`);
  const e = exts[0];
  const ew = `${where} extenders[0]`;
  const allowed = new Set(["urlPrefix", "filterVerb", "prioritizeVerb", "preemptVerb", "bindVerb", "weight", "enableHTTPS", "tlsConfig", "httpTimeout", "nodeCacheCapable", "managedResources", "ignorable"]);
  for (const key of Object.keys(e)) if (!allowed.has(key)) fail(ew, `unknown field ${key} (kube-scheduler rejects it)`);
  // urlPrefix -> the extender Service, its port, and the extender's own urlPrefix.
  const svc = ofKind("Service").find((s) => component(s) === "extender");
  if (!svc) fail(ew, "no extender Service");
  else if (extender) {
    const scheme = opts.tls ? "https" : "http";
    const want = `${scheme}://${svc.metadata.name}.${svc.metadata.namespace}.svc:${svc.spec.ports[0].port}${extender.urlPrefix}`;
    if (e.urlPrefix !== want) fail(ew, `urlPrefix ${e.urlPrefix}, want ${want}`);
    if (svc.spec.ports[0].port !== extender.port) fail(id(svc), `port ${svc.spec.ports[0].port} != extender port ${extender.port}`);
  }
  if (e.filterVerb !== "filter" || e.prioritizeVerb !== "prioritize" || e.preemptVerb !== "preempt")
    fail(ew, `verbs ${e.filterVerb}/${e.prioritizeVerb}/${e.preemptVerb}`);
  if (opts.bind ? e.bindVerb !== "bind" : e.bindVerb !== undefined) fail(ew, `bindVerb ${e.bindVerb} with bind ${opts.bind ? "on" : "off"}`);
  if (!Number.isInteger(e.weight) || e.weight < opts.minWeight)
    fail(ew, `weight ${e.weight}: extender scores are 0..10 against ~1200 of in-tree scores; want >= ${opts.minWeight}`);
  if (typeof e.nodeCacheCapable !== "boolean") fail(ew, "nodeCacheCapable is not a boolean");
  if (typeof e.ignorable !== "boolean") fail(ew, "ignorable is not a boolean");
  if (!/^\d+(\.\d+)?(ms|s|m)$/.test(String(e.httpTimeout))) fail(ew, `httpTimeout ${e.httpTimeout} is not a duration like 5s`);
  if (e.enableHTTPS !== opts.tls) fail(ew, `enableHTTPS ${e.enableHTTPS}, expected ${opts.tls}`);
  if (opts.tls) {
    const t = e.tlsConfig ?? {};
    if (t.insecure) fail(ew, "tlsConfig.insecure");
    const caMount = c.volumeMounts.find((m) => t.caFile?.startsWith(m.mountPath + "/"));
    const caVol = caMount && d.spec.template.spec.volumes.find((v) => v.name === caMount.name);
    if (!caVol?.secret || !(caVol.secret.items ?? []).some((i) => `${caMount.mountPath}/${i.path}` === t.caFile && i.key === "ca.crt"))
      fail(ew, `tlsConfig.caFile ${t.caFile} is not ca.crt of a mounted Secret`);
    if (svc && t.serverName !== `${svc.metadata.name}.${svc.metadata.namespace}.svc`) fail(ew, `tlsConfig.serverName ${t.serverName}`);
  } else if (e.tlsConfig) {
    fail(ew, "tlsConfig without TLS");
  }
  // managedResources: only in epcPods mode, exactly the configured EPC resources, ignored by
  // the scheduler's own NodeResourcesFit.
  const epcNames = (shared?.cfg?.epcResources ?? [{ name: "sgx.intel.com/epc" }, { name: "kubernetes.azure.com/sgx_epc_mem_in_MiB" }]).map((r) => r.name).sort();
  if (opts.calledFor === "allPods") {
    if (e.managedResources !== undefined) fail(ew, "managedResources set in allPods mode: general pods would never reach the extender");
  } else {
    const mr = e.managedResources ?? [];
    const names = mr.map((m) => m.name).sort();
    if (JSON.stringify(names) !== JSON.stringify(epcNames)) fail(ew, `managedResources ${JSON.stringify(names)}, want the EPC resources ${JSON.stringify(epcNames)}`);
    if (!mr.every((m) => m.ignoredByScheduler === true)) fail(ew, "managedResources without ignoredByScheduler: true");
  }
}

function checkMonitoring() {
  const sms = ofKind("ServiceMonitor");
  const rules = ofKind("PrometheusRule");
  if (!opts.monitoring) {
    if (sms.length || rules.length) fail("monitoring", "ServiceMonitor/PrometheusRule rendered while disabled");
    return;
  }
  if (sms.length !== (opts.autoscaler ? 2 : 1)) fail("monitoring", `${sms.length} ServiceMonitors`);
  if (rules.length !== 1) fail("monitoring", `${rules.length} PrometheusRules, want 1`);
  for (const o of [...sms, ...rules]) {
    for (const [k, v] of Object.entries(o.kind === "PrometheusRule" ? opts.ruleLabels : opts.labels)) {
      if (o.metadata.labels?.[k] !== v) fail(id(o), `label ${k}=${v} missing (kube-prometheus-stack would not select it)`);
    }
  }
  for (const sm of sms) {
    const svc = ofKind("Service").find((s) => matches(sm.spec.selector?.matchLabels, s.metadata.labels));
    if (!svc) { fail(id(sm), "selects no rendered Service"); continue; }
    for (const ep of sm.spec.endpoints ?? []) {
      if (!svc.spec.ports.some((p) => p.name === ep.port)) fail(id(sm), `endpoint port ${ep.port} is not a port of ${id(svc)}`);
      if (ep.path !== "/metrics") fail(id(sm), `path ${ep.path}`);
    }
    if (component(sm) === "extender" && (sm.spec.endpoints[0].scheme === "https") !== opts.tls) fail(id(sm), "scheme does not follow tls.enabled");
  }
  if (rules[0]) {
    const groups = rules[0].spec?.groups ?? [];
    const alerts = groups.flatMap((g) => g.rules ?? []).map((r) => r.alert);
    for (const a of ["EPCExtenderErrors", "EPCExtenderLatencyNearTimeout", "EPCNodeGroupAtMaxWithPendingPods", "EPCPoolExhausted", "EPCAutoscalerNotReconciling"])
      if (!alerts.includes(a)) fail(id(rules[0]), `alert ${a} missing`);
    if (opts.rulesOut) fs.writeFileSync(opts.rulesOut, YAML.stringify(rules[0].spec, { lineWidth: 0 }));
  }
}

function checkDashboards() {
  const cms = ofKind("ConfigMap").filter((c) => Object.keys(c.data ?? {}).some((k) => k.endsWith(".json")));
  if (!opts.dashboardLabel) {
    if (cms.length) fail("dashboards", "dashboards rendered while disabled");
    return;
  }
  const [key, value] = opts.dashboardLabel;
  const titles = [];
  for (const cm of cms) {
    if (cm.metadata.labels?.[key] !== value) fail(id(cm), `sidecar label ${key}=${value} missing`);
    for (const [file, body] of Object.entries(cm.data)) {
      let dash;
      try { dash = JSON.parse(body); } catch (e) { fail(id(cm), `${file}: not JSON: ${e.message}`); continue; }
      titles.push(dash.title);
      const vars = dash.templating?.list ?? [];
      if (!vars.some((v) => v.name === "datasource" && v.type === "datasource" && v.query === "prometheus"))
        fail(id(cm), `${file}: no \${datasource} variable`);
      const panels = (dash.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");
      for (const p of panels) {
        if (p.datasource?.uid !== "${datasource}") fail(id(cm), `${file}: panel "${p.title}" does not use \${datasource}`);
        if (!(p.targets ?? []).length) fail(id(cm), `${file}: panel "${p.title}" has no query`);
      }
    }
  }
  for (const t of ["EPC capacity and scheduling", "Autoscaling"]) if (!titles.includes(t)) fail("dashboards", `dashboard "${t}" missing`);
}

function checkSemantics() {
  checkMetadata();
  checkWorkloads();
  checkRbac();
  const shared = sharedConfig();
  const extender = checkExtender(shared);
  checkSchedulerConfig(shared, extender);
  checkMonitoring();
  checkDashboards();
}

opts.autoscalerHA = true;
{
  const a = deployment("autoscaler");
  // A single autoscaler replica is allowed only when leader election is off (schema-enforced).
  if (a && !(a.spec.template.spec.containers[0].args ?? []).includes("--leader-elect")) opts.autoscalerHA = false;
  if (opts.autoscaler !== Boolean(a)) fail("autoscaler", `rendered ${Boolean(a)}, expected ${opts.autoscaler}`);
}
checkSemantics();
finish();

function finish() {
  if (problems.length) {
    for (const p of problems) console.error(`FAIL ${p}`);
    console.error(`validate.mjs: ${problems.length} problem(s) in ${opts.file}`);
    process.exit(1);
  }
  const kinds = [...kindsSeen.entries()].map(([k, n]) => `${n} ${k}`).join(", ");
  console.log(`validate.mjs: ${docs.length} objects valid (${kinds})`);
  process.exit(0);
}
