import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ONE_VARIABLE_SECRETS, SERVICE_SECRETS } from '@paystream/common/production';
import { helmBinary } from '../../stack';

/**
 * The Helm chart (deploy/helm/paystream) rendered by the real Helm CLI (built from the Go module proxy at a
 * pinned version, cached) and its objects checked statically, as compose:check does for compose: the kinds,
 * pinned images, probes, secrets only by reference, the network paths that exist and nothing more.
 */
const CHART = path.join(__dirname, '../../deploy/helm/paystream');
const SERVICES = ['gateway', 'user', 'order', 'payment', 'notification'];
const SECRET_ENV = [
  'JWT_SECRET',
  'SERVICE_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'PAYLOAD_CODEC_KEYS',
  'USER_DATABASE_URL',
  'ORDER_DATABASE_URL',
  'PAYMENT_DATABASE_URL',
  'NOTIFICATION_DATABASE_URL',
  'KAFKA_PASSWORD',
];
const REQUIRED = [
  'image.repositoryPrefix=registry.example.com/paystream-',
  'image.tag=0.1.0',
  'config.KAFKA_BROKERS=kafka-0.kafka:9093',
  'config.TEMPORAL_ADDRESS=temporal-frontend.temporal:7233',
  'config.SMTP_HOST=smtp.example.com',
  'secrets.existingSecret=paystream-secrets',
  'ingress.host=api.example.com',
];

// Loose shapes of the Kubernetes objects the checks read.
interface Env {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  image: string;
  env: Env[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: object; limits?: { memory?: string } };
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec: {
    template?: { spec: { containers: Container[] } };
    scaleTargetRef?: { name: string };
    podSelector?: { matchLabels?: Record<string, string> };
    ingress?: {
      from?: { podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: object }[];
      ports?: { port: string }[];
    }[];
    rules?: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[];
  };
}

let helm: string;

async function render(values: string[]): Promise<K8sObject[]> {
  const { stdout } = await promisify(execFile)(helm, [
    'template',
    'paystream',
    CHART,
    ...values.flatMap((v) => ['--set', v]),
  ]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

beforeAll(async () => {
  helm = await helmBinary();
}, 900_000); // the first build of the Helm CLI, then cached

describe('Helm chart', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await render(REQUIRED);
  });
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const named = (kind: string, service: string) =>
    ofKind(kind).find((o) => o.metadata.name === `paystream-${service}`)!;

  it('renders the five services as Deployments and Services, with disruption budgets and two autoscalers', () => {
    const names = (kind: string) => ofKind(kind).map((o) => o.metadata.name.replace('paystream-', ''));
    expect(names('Deployment').sort()).toEqual([...SERVICES].sort());
    expect(names('Service').sort()).toEqual([...SERVICES].sort());
    expect(names('PodDisruptionBudget').sort()).toEqual([...SERVICES].sort());
    expect(
      ofKind('HorizontalPodAutoscaler')
        .map((o) => o.spec.scaleTargetRef!.name)
        .sort(),
    ).toEqual(['paystream-gateway', 'paystream-order']);
    expect(ofKind('Secret')).toEqual([]); // secrets are referenced, never rendered
  });

  it('pins images, probes /healthz and /readyz, and sets resources on every container', () => {
    for (const service of SERVICES) {
      const [container] = named('Deployment', service).spec.template!.spec.containers;
      expect(container!.image).toBe(`registry.example.com/paystream-${service}:0.1.0`);
      expect(container!.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(container!.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container!.resources?.requests).toBeDefined();
      expect(container!.resources?.limits?.memory).toBeDefined();
    }
  });

  it('takes every secret from the referenced Secret, and no secret-looking value is written in', () => {
    for (const service of SERVICES) {
      const env = named('Deployment', service).spec.template!.spec.containers[0]!.env;
      for (const e of env.filter((v) => SECRET_ENV.includes(v.name)))
        expect({ env: e.name, ref: e.valueFrom?.secretKeyRef?.name, value: e.value }).toEqual({
          env: e.name,
          ref: 'paystream-secrets',
          value: undefined,
        });
      for (const e of env.filter((v) => v.value !== undefined))
        expect(e.value).not.toMatch(/dev-only|sk_(test|live)_|whsec_|password|postgres:\/\/[^/]*:[^@]*@/i);
      expect(env.find((e) => e.name === 'NODE_ENV')?.value).toBe('production');
    }
    const kafkaPassword = (service: string) =>
      named('Deployment', service).spec.template!.spec.containers[0]!.env.find(
        (e) => e.name === 'KAFKA_PASSWORD',
      )?.valueFrom?.secretKeyRef?.key;
    expect(kafkaPassword('order')).toBe('kafka-password-order');
    expect(kafkaPassword('payment')).toBe('kafka-password-payment');
    expect(kafkaPassword('gateway')).toBeUndefined();
  });

  it('gives each service its own secrets and no other: the gateway holds no Stripe key and no codec key', () => {
    for (const service of SERVICES) {
      const env = named('Deployment', service).spec.template!.spec.containers[0]!.env;
      const secrets: readonly string[] = ONE_VARIABLE_SECRETS;
      const held = env.map((e) => e.name).filter((name) => secrets.includes(name));
      const own = ONE_VARIABLE_SECRETS.filter((name) => SERVICE_SECRETS[service]!.includes(name));
      expect({ service, secrets: held.sort() }).toEqual({ service, secrets: own.sort() });
    }
    const gateway = named('Deployment', 'gateway').spec.template!.spec.containers[0]!.env.map((e) => e.name);
    expect(gateway.filter((name) => name.startsWith('STRIPE_') || name.startsWith('PAYLOAD_CODEC'))).toEqual(
      [],
    );
  });

  it('lets through only the network paths that exist', () => {
    const callers = (service: string) =>
      named('NetworkPolicy', service)
        .spec.ingress!.flatMap((rule) => rule.from ?? [])
        .map((from) =>
          from.podSelector
            ? from.podSelector.matchLabels['app.kubernetes.io/name']
            : JSON.stringify(from.namespaceSelector),
        )
        .sort();
    const prometheus = JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } });
    const ingress = JSON.stringify({ matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } });
    expect(callers('gateway')).toEqual([ingress, prometheus].sort());
    expect(callers('user')).toEqual(['gateway', 'notification', 'order', 'payment', prometheus].sort());
    expect(callers('order')).toEqual(['gateway', 'payment', prometheus].sort()); // reconciliation's statuses
    expect(callers('payment')).toEqual(['gateway', 'order', prometheus].sort());
    // operator API, an order's timeline, account emails
    expect(callers('notification')).toEqual(['gateway', 'order', 'user', prometheus].sort());
    expect(
      ofKind('NetworkPolicy').find((o) => o.metadata.name.endsWith('default-deny-ingress')),
    ).toBeDefined();
  });

  it("keeps the gateway's metrics and readiness off the public port: probes and Prometheus use its admin port", () => {
    const [gateway] = named('Deployment', 'gateway').spec.template!.spec.containers;
    expect(gateway!.ports).toEqual([
      { name: 'http', containerPort: 8080 },
      { name: 'admin', containerPort: 9080 },
    ]);
    expect(gateway!.env.find((e) => e.name === 'GATEWAY_ADMIN_PORT')?.value).toBe('9080');
    expect([gateway!.livenessProbe?.httpGet?.port, gateway!.readinessProbe?.httpGet?.port]).toEqual([
      'admin',
      'admin',
    ]);
    const rules = named('NetworkPolicy', 'gateway').spec.ingress!;
    const portsFrom = (ns: string) =>
      rules.filter((r) => JSON.stringify(r.from).includes(ns)).flatMap((r) => r.ports!.map((p) => p.port));
    expect(portsFrom('ingress-nginx')).toEqual(['http']);
    expect(portsFrom('monitoring')).toEqual(['admin']);
    const env = gateway!.env.map((e) => e.name);
    expect(env).toEqual(expect.arrayContaining(['TRUSTED_PROXIES', 'RATE_LIMIT_REDIS_URL']));
  });

  it('exposes only the gateway, on the API and Stripe webhook paths', () => {
    const [ingress] = ofKind('Ingress');
    const paths = ingress!.spec.rules![0]!.http.paths;
    expect(paths.map((p) => p.path)).toEqual(['/users', '/orders', '/webhooks/stripe', '/admin', '/console']);
    expect(new Set(paths.map((p) => p.backend.service.name))).toEqual(new Set(['paystream-gateway']));
  });

  it('refuses to render without the engines, the Secret or a pinned image', async () => {
    const without = (key: string) => REQUIRED.filter((v) => !v.startsWith(`${key}=`));
    await expect(render(without('secrets.existingSecret'))).rejects.toThrow(
      /secrets.existingSecret is required/,
    );
    await expect(render(without('config.KAFKA_BROKERS'))).rejects.toThrow(/config.KAFKA_BROKERS is required/);
    await expect(render(without('image.tag'))).rejects.toThrow(/image.tag is required/);
    await expect(render([...without('image.tag'), 'image.tag=latest'])).rejects.toThrow(/must be pinned/);
  });
});
