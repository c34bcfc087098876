/** Pinned versions of the local servers; each one is fetched/built once into the cache, keyed on its version. */
export const VERSIONS = {
  temporalCli: 'v1.5.1', // last tag without a go.mod `replace`, so plain `go install` works (server v1.29.1)
  stripeMock: 'v0.197.0',
  mailpit: 'v1.30.5',
  kafka: '3.9.1', // keep in step with stack/kafka/pom.xml
  localstripe: '1.15.10',
  helm: 'v3.22.0', // CI renders deploy/helm/paystream with it (test/deploy/helm.test.ts); not a server
  schemathesis: '4.32.5', // CI fuzzes the gateway against its own OpenAPI document (test/contract); not a server
} as const;
