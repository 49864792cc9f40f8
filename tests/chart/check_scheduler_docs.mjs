#!/usr/bin/env node
// Checks docs/scheduler-config/: kube-scheduler-config.yaml (kubescheduler.config.k8s.io/v1)
// and policy.json (the legacy Policy) use only the fields kube-scheduler knows, with the right
// types and spellings (enableHTTPS vs enableHttps, httpTimeout as a duration vs nanoseconds),
// show every extender field, agree with each other, and point at the Service the chart renders
// for release "epc-scheduler" in namespace "epc-system" (given as the rendered YAML file).
//
// Usage: node check_scheduler_docs.mjs --node-modules DIR RENDERED.yaml
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const args = process.argv.slice(2);
let nodeModules = path.join(repo, "tools", "node_modules");
let rendered = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--node-modules") nodeModules = path.resolve(args[++i]);
  else rendered = args[i];
}
if (!rendered) {
  console.error("usage: check_scheduler_docs.mjs [--node-modules DIR] RENDERED.yaml");
  process.exit(2);
}
const YAML = createRequire(path.join(nodeModules, "..", "noop.js"))("yaml");
const problems = [];
const fail = (m) => problems.push(m);

const docsDir = path.join(repo, "docs", "scheduler-config");
const v1 = YAML.parse(fs.readFileSync(path.join(docsDir, "kube-scheduler-config.yaml"), "utf8"));
const policy = JSON.parse(fs.readFileSync(path.join(docsDir, "policy.json"), "utf8"));

const V1_FIELDS = ["urlPrefix", "filterVerb", "prioritizeVerb", "preemptVerb", "bindVerb", "weight", "nodeCacheCapable",
  "managedResources", "ignorable", "httpTimeout", "enableHTTPS", "tlsConfig"];
const POLICY_FIELDS = ["urlPrefix", "filterVerb", "prioritizeVerb", "preemptVerb", "bindVerb", "weight", "enableHttps",
  "nodeCacheCapable", "managedResources", "ignorable", "httpTimeout", "tlsConfig"];
const TLS_FIELDS = ["insecure", "serverName", "certFile", "keyFile", "caFile", "certData", "keyData", "caData"];

function checkExtender(where, e, fields, timeoutCheck) {
  for (const k of Object.keys(e)) if (!fields.includes(k)) fail(`${where}: unknown field ${k}`);
  for (const k of fields) if (!(k in e)) fail(`${where}: field ${k} not shown`);
  for (const [k, t] of [["urlPrefix", "string"], ["filterVerb", "string"], ["prioritizeVerb", "string"],
    ["preemptVerb", "string"], ["bindVerb", "string"], ["nodeCacheCapable", "boolean"], ["ignorable", "boolean"]]) {
    if (typeof e[k] !== t) fail(`${where}: ${k} is not a ${t}`);
  }
  if (e.filterVerb !== "filter" || e.prioritizeVerb !== "prioritize" || e.preemptVerb !== "preempt" || e.bindVerb !== "bind")
    fail(`${where}: verbs are not the extender's (filter, prioritize, preempt, bind)`);
  if (!Number.isInteger(e.weight) || e.weight < 100) fail(`${where}: weight ${e.weight}, want >= 100`);
  for (const m of e.managedResources ?? []) {
    if (Object.keys(m).sort().join() !== "ignoredByScheduler,name") fail(`${where}: managedResources entry ${JSON.stringify(m)}`);
    if (m.ignoredByScheduler !== true) fail(`${where}: ${m.name} without ignoredByScheduler: true`);
  }
  const names = (e.managedResources ?? []).map((m) => m.name).sort();
  if (names.join() !== "kubernetes.azure.com/sgx_epc_mem_in_MiB,sgx.intel.com/epc")
    fail(`${where}: managedResources ${names} are not the default EPC resources of examples/config.yaml`);
  for (const k of Object.keys(e.tlsConfig ?? {})) if (!TLS_FIELDS.includes(k)) fail(`${where}: unknown tlsConfig field ${k}`);
  if (e.tlsConfig?.insecure !== false) fail(`${where}: tlsConfig.insecure should be shown as false`);
  timeoutCheck(e.httpTimeout);
}

if (v1.apiVersion !== "kubescheduler.config.k8s.io/v1" || v1.kind !== "KubeSchedulerConfiguration")
  fail(`kube-scheduler-config.yaml: ${v1.apiVersion}/${v1.kind}`);
if ((v1.extenders ?? []).length !== 1) fail("kube-scheduler-config.yaml: want one extender");
const e1 = v1.extenders?.[0] ?? {};
checkExtender("kube-scheduler-config.yaml", e1, V1_FIELDS, (t) => {
  if (t !== "5s") fail(`kube-scheduler-config.yaml: httpTimeout ${JSON.stringify(t)}, want the duration "5s"`);
});
if (e1.enableHTTPS !== true || !e1.urlPrefix?.startsWith("https://")) fail("kube-scheduler-config.yaml: enableHTTPS with an https:// urlPrefix");

if (policy.kind !== "Policy" || policy.apiVersion !== "v1") fail(`policy.json: ${policy.apiVersion}/${policy.kind}`);
for (const k of Object.keys(policy)) if (!["kind", "apiVersion", "extenders", "predicates", "priorities"].includes(k)) fail(`policy.json: unknown field ${k}`);
if ((policy.extenders ?? []).length !== 1) fail("policy.json: want one extender");
const e2 = policy.extenders?.[0] ?? {};
checkExtender("policy.json", e2, POLICY_FIELDS, (t) => {
  if (t !== 5000000000) fail(`policy.json: httpTimeout ${JSON.stringify(t)}, want 5000000000 (nanoseconds = 5 s)`);
});
if ("enableHTTPS" in e2) fail("policy.json: the legacy field is spelled enableHttps");
if (e2.enableHttps !== true) fail("policy.json: enableHttps should be true (https:// urlPrefix)");

// Both describe the same wiring.
for (const k of ["urlPrefix", "weight", "nodeCacheCapable", "ignorable"]) {
  if (JSON.stringify(e1[k]) !== JSON.stringify(e2[k])) fail(`the two examples disagree on ${k}`);
}
if (JSON.stringify(e1.tlsConfig) !== JSON.stringify(e2.tlsConfig)) fail("the two examples disagree on tlsConfig");

// The URL is the extender Service of the chart (release epc-scheduler, namespace epc-system).
const svc = YAML.parseAllDocuments(fs.readFileSync(rendered, "utf8")).map((d) => d.toJS())
  .find((o) => o?.kind === "Service" && o.metadata?.labels?.["app.kubernetes.io/component"] === "extender");
if (!svc) fail(`${rendered}: no extender Service`);
else {
  const want = `https://${svc.metadata.name}.${svc.metadata.namespace}.svc:${svc.spec.ports[0].port}`;
  if (e1.urlPrefix !== want) fail(`urlPrefix ${e1.urlPrefix}, but the chart's Service is ${want}`);
  if (e1.tlsConfig?.serverName !== `${svc.metadata.name}.${svc.metadata.namespace}.svc`) fail(`tlsConfig.serverName ${e1.tlsConfig?.serverName}`);
}

const readme = fs.readFileSync(path.join(docsDir, "README.md"), "utf8");
for (const word of [...new Set([...V1_FIELDS, ...POLICY_FIELDS])]) {
  if (!readme.includes(`\`${word}\``)) fail(`README.md does not explain ${word}`);
}

if (problems.length) {
  for (const p of problems) console.error(`FAIL ${p}`);
  process.exit(1);
}
console.log("PASS docs/scheduler-config: both examples are well-formed, complete and point at the chart's Service");
