import http from 'node:http';

/**
 * A call to a service behind the gateway (readiness, API documents, API key checks), over node:http like the
 * proxy itself: fetch would load undici, about 18 MB of an idle gateway's memory, for a few requests a minute.
 */
export function upstreamCall(
  url: URL,
  timeoutMs: number,
  {
    method = 'GET',
    headers = {},
    json,
  }: { method?: string; headers?: Record<string, string>; json?: unknown } = {},
): Promise<{ status: number; body: string }> {
  const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        timeout: timeoutMs,
        headers: payload
          ? { ...headers, 'content-type': 'application/json', 'content-length': payload.length }
          : headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url.origin}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export const upstreamGet = (url: URL, timeoutMs: number) => upstreamCall(url, timeoutMs);
