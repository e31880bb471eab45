// Why a weights download failed, in words a user can act on: fetch() reports every network
// failure as "fetch failed" and hides the reason in `cause`.

interface ErrorWithCause {
  message?: string;
  code?: string;
  cause?: unknown;
}

/** Walks `cause` links to the innermost error that carries a code. */
function rootCause(e: unknown): ErrorWithCause {
  let cur = e as ErrorWithCause;
  for (let i = 0; i < 5 && cur?.cause && typeof cur.cause === "object"; i++) {
    cur = cur.cause as ErrorWithCause;
  }
  return cur ?? {};
}

/** One phrase naming the failure: DNS, refused, TLS, timeout, reset, or the raw message. */
export function describeFetchError(e: unknown, host: string): string {
  const c = rootCause(e);
  const code = c.code ?? "";
  const msg = c.message ?? String(e);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
    return `the name ${host} could not be resolved (DNS: ${code}; no network?)`;
  }
  if (code === "ECONNREFUSED") return `the connection to ${host} was refused (ECONNREFUSED)`;
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return `the connection to ${host} timed out (${code})`;
  }
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") {
    return `the connection to ${host} was dropped (${code})`;
  }
  if (
    /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code) ||
    /SSL|TLS/.test(msg)
  ) {
    return `the TLS connection to ${host} failed (${code || msg.split("\n")[0]})`;
  }
  return code ? `${msg} (${code})` : msg;
}

/** What to do without network: fetch the file elsewhere, then pass it or cache it. */
export function offlineRemedy(url: string, cached: string): string {
  return (
    `To proceed offline, download ${url} on a machine with network access and pass the ` +
    `file's path instead, or place it at ${cached}.`
  );
}
