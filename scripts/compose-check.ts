/**
 * Checks docker-compose.yml without a Docker engine (there is none on the dev/CI machines): the file is
 * loaded by compose-go, the library `docker compose` itself loads it with (interpolation, the compose
 * schema, profiles), once plain and once with every profile on; and a static check of what no loader can
 * know: pinned images, the service Dockerfile and its build args, dependencies, env vars the services
 * really read, in-network addresses, host ports, the Kafka topics and ACLs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '@paystream/common/config';
import { ALL_TOPICS } from '@paystream/common/events';
import { KAFKA_ACCESS, type KafkaAccess } from '@paystream/common/kafka-access';
import { ONE_VARIABLE_SECRETS, SERVICE_SECRETS } from '@paystream/common/production';
import { composeLoaderBinary } from '../stack';
import { SERVICE_NAMES } from './services';

const ROOT = path.resolve(__dirname, '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: unknown;
  ports?: string[];
  expose?: (string | number)[];
  volumes?: string[];
  command?: string | string[];
  profiles?: string[];
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Secrets compose passes to the services: each must come from the environment (or .env), never a default. */
const COMPOSE_SECRETS = ['JWT_SECRET', 'SERVICE_TOKEN', 'STRIPE_WEBHOOK_SECRET', 'PAYLOAD_CODEC_KEYS'];

/** Keys whose value is or holds a password. */
const SECRET_BEARING = /(PASSWORD|_PWD|_DATABASE_URL)$/;

export function checkCompose(compose: ComposeFile): string[] {
  const errors: string[] = [];
  const services = compose.services ?? {};
  const names = new Set(Object.keys(services));
  const hostPorts = new Map<string, string>();
  const healthy = new Set<string>();

  for (const required of [
    ...SERVICE_NAMES,
    'postgres',
    'kafka',
    'temporal',
    'temporal-ui',
    'mailpit',
    'stripe-mock',
  ])
    if (!names.has(required)) errors.push(`service ${required} is missing`);

  for (const [name, svc] of Object.entries(services)) {
    const where = `services.${name}`;
    if (!svc.image && !svc.build) errors.push(`${where}: needs an image or a build`);
    if (svc.image && !/:[\w][\w.-]*$/.test(svc.image)) errors.push(`${where}: image ${svc.image} has no tag`);
    if (svc.image?.endsWith(':latest')) errors.push(`${where}: pin ${svc.image} to a version`);

    let hasHealthcheck = svc.healthcheck !== undefined;
    if (svc.build) {
      const dockerfile = path.join(ROOT, svc.build.context ?? '.', svc.build.dockerfile ?? 'Dockerfile');
      if (!fs.existsSync(dockerfile)) errors.push(`${where}: ${svc.build.dockerfile} does not exist`);
      else {
        const recipe = fs.readFileSync(dockerfile, 'utf8');
        hasHealthcheck ||= /^HEALTHCHECK /m.test(recipe);
        // The image runs the build output on node: no TypeScript at run time, no dev dependencies.
        if (!/^RUN npm run build$/m.test(recipe))
          errors.push(`${where}: the image does not run npm run build`);
        if (!/^RUN npm ci --omit=dev/m.test(recipe))
          errors.push(`${where}: the image's node_modules keep dev dependencies`);
        if (
          !/^CMD .*node .*--conditions=built services\/\$\{SERVICE\}\/dist\/main\.js/m.test(recipe) ||
          /^[^#]*\btsx\b/m.test(recipe)
        )
          errors.push(`${where}: the image must run node on services/<name>/dist/main.js, not tsx`);
      }
      const target = svc.build.args?.SERVICE;
      if (target !== name) errors.push(`${where}: build arg SERVICE is ${target}, expected ${name}`);
      else if (!fs.existsSync(path.join(ROOT, 'services', name, 'src', 'main.ts')))
        errors.push(`${where}: services/${name}/src/main.ts does not exist`);
      for (const key of Object.keys(svc.environment ?? {}))
        if (!CONFIG_KEYS.includes(key)) errors.push(`${where}: env ${key} is not read by any service`);
    }
    if (hasHealthcheck) healthy.add(name);

    // Each service holds its own secrets and no other's (the internet-facing gateway no Stripe key, no codec key).
    if ((SERVICE_NAMES as readonly string[]).includes(name)) {
      const secrets: readonly string[] = ONE_VARIABLE_SECRETS;
      const held = Object.keys(svc.environment ?? {})
        .filter((k) => secrets.includes(k))
        .sort();
      const own = ONE_VARIABLE_SECRETS.filter((k) => (SERVICE_SECRETS[name] ?? []).includes(k)).sort();
      if (held.join() !== own.join())
        errors.push(`${where}: holds the secrets ${held.join(', ')}; it needs exactly ${own.join(', ')}`);
    }

    // A secret is never defaulted: `docker compose up` without it stops and says what to set.
    for (const [key, value] of Object.entries(svc.environment ?? {})) {
      if (COMPOSE_SECRETS.includes(key) && !new RegExp(`^\\$\\{${key}:\\?.+\\}$`).test(String(value)))
        errors.push(`${where}: ${key} must be required as \${${key}:?…}, not defaulted or written in`);
      // Passwords (and the URLs that carry one) come from a required variable too.
      else if (SECRET_BEARING.test(key) && !/^[^$]*\$\{[A-Z0-9_]+:\?[^}]+\}[^$]*$/.test(String(value)))
        errors.push(`${where}: ${key} must take its secret from a required variable (\${…:?…})`);
    }

    for (const value of Object.values(svc.environment ?? {})) {
      if (typeof value !== 'string' || value.includes('${')) continue;
      // Every address a container dials must be another service on the compose network.
      for (const match of value.matchAll(/(?:^|\/\/|@|,)([a-z][a-z0-9-]*):(\d+)/g)) {
        const host = match[1] ?? '';
        if (!['localhost', 'http', 'https'].includes(host) && !names.has(host))
          errors.push(`${where}: ${value} points at ${host}, which is not a compose service`);
      }
    }

    for (const port of svc.ports ?? []) {
      const host = String(port).split(':')[0] ?? '';
      const other = hostPorts.get(host);
      if (other) errors.push(`${where}: host port ${host} is also published by ${other}`);
      hostPorts.set(host, name);
    }
    for (const volume of svc.volumes ?? []) {
      const source = volume.split(':')[0] ?? '';
      if (source.startsWith('.')) {
        if (!fs.existsSync(path.join(ROOT, source))) errors.push(`${where}: mounts missing file ${source}`);
      } else if (!(compose.volumes && source in compose.volumes)) {
        errors.push(`${where}: named volume ${source} is not declared`);
      }
    }
  }

  for (const [name, svc] of Object.entries(services)) {
    const deps: Record<string, { condition?: string }> = Array.isArray(svc.depends_on)
      ? Object.fromEntries(svc.depends_on.map((d) => [d, {}]))
      : (svc.depends_on ?? {});
    for (const [dep, { condition }] of Object.entries(deps)) {
      if (!names.has(dep)) errors.push(`services.${name}: depends on unknown service ${dep}`);
      // A plain `docker compose up` would fail: the dependency only exists when its profile is on.
      else if (!svc.profiles?.length && services[dep]?.profiles?.length)
        errors.push(`services.${name}: depends on ${dep}, which runs only with a profile`);
      else if (condition === 'service_healthy' && !healthy.has(dep))
        errors.push(`services.${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    }
  }

  // Prometheus scrapes what exists: every target is a compose service publishing or exposing that port.
  const promConfig = services.prometheus?.volumes?.find((v) => v.includes('prometheus.yml'))?.split(':')[0];
  if (promConfig && fs.existsSync(path.join(ROOT, promConfig))) {
    const prom = parse(fs.readFileSync(path.join(ROOT, promConfig), 'utf8')) as {
      scrape_configs?: { static_configs?: { targets?: string[] }[] }[];
    };
    const targets = (prom.scrape_configs ?? []).flatMap((j) =>
      (j.static_configs ?? []).flatMap((c) => c.targets ?? []),
    );
    for (const target of targets) {
      const [host = '', port = ''] = target.split(':');
      const published =
        (services[host]?.ports ?? []).some((p) => String(p).endsWith(`:${port}`)) ||
        (services[host]?.expose ?? []).map(String).includes(port);
      if (!published)
        errors.push(`prometheus: scrape target ${target} is not a compose service on that port`);
    }
    for (const service of SERVICE_NAMES)
      if (!targets.some((t) => t.startsWith(`${service}:`)))
        errors.push(`prometheus: ${service} is not scraped`);
  }

  // kafka-init: its command, or the script it mounts; every topic, and exactly the ACLs of kafka-access.ts.
  const initSvc = services['kafka-init'];
  const initFile = initSvc?.volumes?.map((v) => v.split(':')[0] ?? '').find((v) => v.endsWith('.sh'));
  const script = [
    ...(Array.isArray(initSvc?.command) ? initSvc.command : [initSvc?.command ?? '']),
    initFile && fs.existsSync(path.join(ROOT, initFile))
      ? fs.readFileSync(path.join(ROOT, initFile), 'utf8')
      : '',
  ].join('\n');
  for (const topic of ALL_TOPICS)
    if (!script.includes(topic)) errors.push(`services.kafka-init: topic ${topic} is not created`);
  const granted = new Set(script.match(/^acl .+$/gm)?.map((l) => l.trim()) ?? []);
  const wanted = new Set(kafkaAclLines());
  for (const line of wanted) if (!granted.has(line)) errors.push(`services.kafka-init: missing \`${line}\``);
  for (const line of granted)
    if (!wanted.has(line)) errors.push(`services.kafka-init: \`${line}\` is not in kafka-access.ts`);

  return errors;
}

/** kafka-access.ts as the `acl` lines of deploy/kafka/init.sh. */
function kafkaAclLines(): string[] {
  return Object.entries(KAFKA_ACCESS as Record<string, KafkaAccess>).flatMap(([p, a]) => [
    ...a.produces.map((t) => `acl ${p} Write topic ${t}`),
    ...a.consumes.map((t) => `acl ${p} Read topic ${t}`),
    ...a.groups.map((g) => `acl ${p} Read group ${g}`),
    ...(a.groupPrefixes ?? []).map((g) => `acl ${p} Read group ${g} prefixed`),
  ]);
}

/** The variables the file requires (`${NAME:?…}`), for `docker compose config` with placeholders. */
function requiredVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!))];
}

/** Every profile the file names: the loader is run with none and with all of them. */
function profilesOf(compose: ComposeFile): string[] {
  return [...new Set(Object.values(compose.services).flatMap((s) => s.profiles ?? []))].sort();
}

/**
 * Loads the file with compose-go, as `docker compose up` would: answers the services it enabled, or the
 * loader's own refusal. `secrets` fills the variables the file requires (placeholders: this checks the
 * file, not a deployment).
 */
export async function loadCompose(
  profiles: string[],
  env: Record<string, string | undefined> = placeholders(),
  file = COMPOSE_FILE,
): Promise<{ services: string[] } | { error: string }> {
  const loader = await composeLoaderBinary();
  try {
    const out = execFileSync(loader, ['-f', file, '-profiles', profiles.join(',')], {
      stdio: 'pipe',
      env: { PATH: process.env.PATH, ...env },
    });
    return JSON.parse(out.toString()) as { services: string[] };
  } catch (err) {
    return { error: String((err as { stderr?: Buffer }).stderr ?? err).trim() };
  }
}

/** A placeholder for every variable the file requires (`${NAME:?…}`). */
export function placeholders(file = COMPOSE_FILE): Record<string, string> {
  const text = fs.readFileSync(file, 'utf8');
  return Object.fromEntries(requiredVariables(text).map((k) => [k, `compose-check-${k}`]));
}

if (require.main === module) {
  void (async () => {
    const compose = parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
    const errors = checkCompose(compose);
    for (const profiles of [[], profilesOf(compose)]) {
      const loaded = await loadCompose(profiles);
      if ('error' in loaded)
        errors.push(`compose-go (profiles: ${profiles.join(',') || 'none'}): ${loaded.error}`);
      else
        console.log(
          `compose-check: compose-go loads ${loaded.services.length} services (profiles: ${profiles.join(',') || 'none'})`,
        );
    }
    if (errors.length) {
      console.error(
        `compose-check: ${errors.length} problem(s) in docker-compose.yml\n  ${errors.join('\n  ')}`,
      );
      process.exit(1);
    }
    console.log(`compose-check: docker-compose.yml OK (${Object.keys(compose.services).length} services)`);
  })();
}
