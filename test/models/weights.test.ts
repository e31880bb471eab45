// Weights from URLs and torchvision names: downloaded into the cache and verified by the
// SHA-256 prefix in the file name, served here by a server on 127.0.0.1.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pthBytes } from "../../src/io/pth.js";
import { toPy } from "../../src/io/tensors.js";
import { createModel } from "../../src/models/registry.js";
import { loadWeightsInto, resolveWeights, TORCHVISION_WEIGHTS } from "../../src/models/weights.js";
import * as T from "../../src/tensor/index.js";

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A port on 127.0.0.1 nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe("weights resolution", () => {
  let server: Server;
  let base = "";
  let requests = 0;
  const files = new Map<string, Uint8Array>();
  const model = createModel("resnet18", { width: 8, numClasses: 3 });
  const bytes = pthBytes(toPy(model.stateDict()));
  const digest = createHash("sha256").update(bytes).digest("hex");
  const saved = { cache: process.env.KDEP_CACHE, url: process.env.KDEP_TORCHVISION_URL };

  before(async () => {
    files.set(`/models/resnet18-${digest.slice(0, 8)}.pth`, bytes);
    files.set("/models/resnet18-deadbeef.pth", bytes); // a name whose hash does not match
    // torchvision:resnet18 resolves to this name; serve the same bytes under it.
    files.set(`/tv/${TORCHVISION_WEIGHTS.resnet18}`, bytes);
    server = createServer((req, res) => {
      requests++;
      const body = files.get(req.url ?? "");
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-length": body.length }).end(Buffer.from(body));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    process.env.KDEP_CACHE = mkdtempSync(join(tmpdir(), "kdep-cache-"));
  });
  after(() => {
    server.close();
    process.env.KDEP_CACHE = saved.cache;
    process.env.KDEP_TORCHVISION_URL = saved.url;
    if (saved.cache === undefined) delete process.env.KDEP_CACHE;
    if (saved.url === undefined) delete process.env.KDEP_TORCHVISION_URL;
  });

  it("downloads a URL once into the cache, verifies it and loads it", async () => {
    const url = `${base}/models/resnet18-${digest.slice(0, 8)}.pth`;
    const a = await resolveWeights(url);
    assert.equal(a.hash, digest.slice(0, 16));
    assert.ok(a.path.startsWith(process.env.KDEP_CACHE!));
    const n = requests;
    const b = await resolveWeights(url);
    assert.equal(b.path, a.path);
    assert.equal(requests, n, "second resolve is served from the cache");
    const fresh = createModel("resnet18", { width: 8, numClasses: 3 });
    loadWeightsInto(fresh, a.path);
    const x = T.randn([1, 3, 32, 32]);
    assert.deepEqual(
      T.noGrad(() => fresh.eval().forward(x)).toArray(),
      T.noGrad(() => model.eval().forward(x)).toArray(),
    );
  });

  it("refuses a download whose SHA-256 does not match the name, leaving nothing cached", async () => {
    await assert.rejects(
      resolveWeights(`${base}/models/resnet18-deadbeef.pth`),
      /Checksum mismatch: .*deadbeef/,
    );
    const cached = join(process.env.KDEP_CACHE!, "weights");
    assert.deepEqual(
      readdirSync(cached).filter((f) => f.includes("deadbeef")),
      [],
    );
  });

  it("torchvision:<arch> uses the published file name (and its hash check)", async () => {
    process.env.KDEP_TORCHVISION_URL = `${base}/tv`;
    // Our bytes do not hash to torchvision's published prefix, so verification must fail.
    await assert.rejects(resolveWeights("torchvision:resnet18"), /Checksum mismatch: .*f37072fd/);
    await assert.rejects(
      resolveWeights("torchvision:vgg16"),
      /No torchvision weights known for "vgg16"/,
    );
  });

  it("a missing local file and an HTTP error are clear errors", async () => {
    await assert.rejects(
      resolveWeights("/nonexistent/teacher.pth"),
      /Weights file not found: \/nonexistent\/teacher.pth/,
    );
    await assert.rejects(resolveWeights(`${base}/models/missing.pth`), /HTTP 404/);
    assert.ok(!existsSync(join(process.env.KDEP_CACHE!, "weights", "missing.pth")));
  });

  it("a failed download names the URL, the cause and the offline remedy", async () => {
    const cached = join(process.env.KDEP_CACHE!, "weights");
    const remedy = (url: string) =>
      new RegExp(
        `To proceed offline, download ${esc(url)} on a machine with network access and pass ` +
          `the file's path instead, or place it at ${esc(cached)}/`,
      );
    const cases: [string, RegExp][] = [
      [`${base}/models/missing.pth`, /the server answered HTTP 404/],
      [
        `${base}/models/resnet18-deadbeef.pth`,
        /Checksum mismatch: SHA-256 [0-9a-f]{64} does not start with deadbeef/,
      ],
      [
        `http://127.0.0.1:${await closedPort()}/w.pth`,
        /the connection to 127\.0\.0\.1:\d+ was refused \(ECONNREFUSED\)/,
      ],
      // TLS spoken to a plain-HTTP server: the handshake fails.
      [
        `${base.replace("http:", "https:")}/models/w.pth`,
        /the TLS connection to 127\.0\.0\.1:\d+ failed/,
      ],
      // .invalid never resolves (RFC 2606).
      [
        "http://kdep-weights.invalid/w.pth",
        /the name kdep-weights\.invalid could not be resolved \(DNS: /,
      ],
    ];
    for (const [url, cause] of cases) {
      await assert.rejects(resolveWeights(url), (e: Error) => {
        assert.ok(e.message.startsWith(`Could not download ${url}: `), e.message);
        assert.match(e.message, cause);
        assert.match(e.message, remedy(url));
        return true;
      });
    }
  });
});
