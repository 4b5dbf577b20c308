// Validates rendered overlays offline: every object against the Kubernetes OpenAPI schemas (kubernetes-models), then
// the invariants that tie the manifests to the app. Usage: node check.mjs <overlay>=<rendered.yaml> …
// Exits 1 with one line per problem.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import yaml from "js-yaml";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const source = (file) => readFileSync(path.join(repo, file), "utf8");

// What the app knows, read from its source so the two cannot drift apart.
const settings = new Set([...source("src/SketchService.Api/SketchServiceOptions.cs").matchAll(/public \S+ (\w+) \{ get; set; \}/g)].map((m) => m[1]));
const routes = new Set([...source("src/SketchService.Api/Infrastructure/Health.cs").matchAll(/"(\/health\/\w+)"/g)].map((m) => m[1]));
const metricsPath = source("src/SketchService.Api/Infrastructure/Metrics.cs").match(/MapPrometheusScrapingEndpoint\("([^"]+)"\)/)?.[1];
if (!source("src/SketchService.Api/Infrastructure/Metrics.cs").includes(`http.Request.Path == "${metricsPath}"`)) throw new Error(`the management port does not serve ${metricsPath}`);
const metricNames = new Set([...source("src/SketchService.Runtime/Scheduling/SchedulerMetrics.cs").matchAll(/"(sketch\.inference\.[\w.]+)"/g)].map((m) => m[1].replaceAll(".", "_")));
const appPort = Number(source("Dockerfile").match(/ASPNETCORE_HTTP_PORTS=(\d+)/)?.[1]);

const problems = [];
const fail = (overlay, what) => problems.push(`${overlay}: ${what}`);

async function validate(overlay, obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
  const module = `kubernetes-models/${group ? `${group}/` : ""}${version}/${obj.kind}`;
  let Model;
  try { Model = (await import(module))[obj.kind]; } catch { return fail(overlay, `no schema for ${obj.apiVersion} ${obj.kind}`); }
  try { new Model(obj).validate(); } catch (e) { fail(overlay, `${obj.kind}/${obj.metadata?.name} is not valid: ${e.message}`); }
}

const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

for (const arg of process.argv.slice(2)) {
  const [overlay, file] = arg.split("=");
  const objects = yaml.loadAll(readFileSync(file, "utf8")).filter(Boolean);
  for (const obj of objects) await validate(overlay, obj);
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const [deployment] = byKind("Deployment");
  if (!deployment) { fail(overlay, "no Deployment"); continue; }
  const pod = deployment.spec.template;
  const [container] = pod.spec.containers;
  const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
  const port = (p) => (typeof p === "string" ? ports[p] : p);

  if (ports.http !== appPort) fail(overlay, `container port ${ports.http} is not the app's port ${appPort} (Dockerfile ASPNETCORE_HTTP_PORTS)`);
  if (pod.spec.securityContext?.runAsNonRoot !== true && container.securityContext?.runAsNonRoot !== true) fail(overlay, "the pod may run as root");
  if (container.securityContext?.readOnlyRootFilesystem !== true) fail(overlay, "the root filesystem is writable");
  if (container.securityContext?.allowPrivilegeEscalation !== false) fail(overlay, "privilege escalation is allowed");
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const get = container[probe]?.httpGet;
    if (!get) { fail(overlay, `no ${probe}`); continue; }
    if (!routes.has(get.path)) fail(overlay, `${probe} asks ${get.path}, which the app does not serve (it serves ${[...routes].join(", ")})`);
    if (port(get.port) !== appPort) fail(overlay, `${probe} asks port ${get.port}, not ${appPort}`);
  }
  if (container.readinessProbe?.httpGet?.path !== "/health/ready") fail(overlay, "readiness must be /health/ready (it turns unhealthy while draining)");
  const annotations = pod.metadata.annotations ?? {};
  if (annotations["prometheus.io/path"] !== metricsPath) fail(overlay, `prometheus.io/path ${annotations["prometheus.io/path"]} is not ${metricsPath}`);
  const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
  // /metrics is served on the management port when there is one, and then only there.
  const managementPort = Number(env.SketchService__ManagementUrls?.match(/:(\d+)\/?$/)?.[1]) || null;
  const scrapePort = managementPort ?? appPort;
  if (Number(annotations["prometheus.io/port"]) !== scrapePort) fail(overlay, `prometheus.io/port ${annotations["prometheus.io/port"]} is not ${scrapePort}, where /metrics is served`);
  if (managementPort !== null && ports.management !== managementPort) fail(overlay, `the container declares no port "management" ${managementPort} for SketchService__ManagementUrls`);
  for (const name of Object.keys(env)) {
    const key = name.match(/^SketchService__(\w+)$/)?.[1];
    if (name.startsWith("SketchService") && !settings.has(key)) fail(overlay, `${name} is not a setting the app knows`);
  }
  const drain = Number(env.SketchService__DrainSeconds ?? 20);
  if (!(pod.spec.terminationGracePeriodSeconds > drain + 5)) fail(overlay, `terminationGracePeriodSeconds ${pod.spec.terminationGracePeriodSeconds} leaves no room for the drain (${drain} s + 5 s)`);
  const models = (container.volumeMounts ?? []).find((m) => m.mountPath === env.SketchService__ModelsPath);
  if (!models?.readOnly) fail(overlay, "the models folder is not mounted read-only at SketchService__ModelsPath");

  for (const service of byKind("Service")) {
    if (!matches(service.spec.selector, pod.metadata.labels)) fail(overlay, `Service ${service.metadata.name} selects no pod`);
    for (const p of service.spec.ports) if (port(p.targetPort) !== appPort) fail(overlay, `Service port ${p.name} targets ${p.targetPort}, not the app's ${appPort}`);
    if (managementPort !== null && service.spec.ports.some((p) => port(p.targetPort) === managementPort)) fail(overlay, `Service ${service.metadata.name} exposes the management port`);
  }
  for (const pdb of byKind("PodDisruptionBudget"))
    if (!matches(pdb.spec.selector.matchLabels, pod.metadata.labels)) fail(overlay, "the PodDisruptionBudget selects no pod");
  for (const hpa of byKind("HorizontalPodAutoscaler")) {
    if (hpa.spec.scaleTargetRef.name !== deployment.metadata.name) fail(overlay, "the autoscaler targets another Deployment");
    for (const m of hpa.spec.metrics.filter((m) => m.type === "Pods"))
      if (!metricNames.has(m.pods.metric.name)) fail(overlay, `the autoscaler's metric ${m.pods.metric.name} is not one the app exports`);
  }
  const gpu = container.resources?.limits?.["nvidia.com/gpu"];
  if (overlay === "gpu") {
    if (!gpu) fail(overlay, "requests no nvidia.com/gpu");
    if (!container.image.includes("gpu")) fail(overlay, `image ${container.image} is not the api-gpu image`);
    if (env.SketchService__UseCuda !== "true") fail(overlay, "SketchService__UseCuda is not true");
  } else if (gpu) fail(overlay, "a CPU overlay asks for a GPU");
  console.log(`${overlay}: ${objects.length} objects (${objects.map((o) => o.kind).join(", ")})`);
}

if (problems.length) {
  for (const p of problems) console.log(`PROBLEM ${p}`);
  process.exit(1);
}
console.log("kubernetes manifests: valid, and consistent with the app");
