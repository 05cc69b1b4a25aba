// A GET signed by the AWS SDK for JavaScript v3's SigV4 signer (@smithy/signature-v4, service
// execute-api), sent with node's fetch; prints {"status", "headers", "body"} as one JSON line.
// Usage: AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... [AWS_SESSION_TOKEN=...] [AWS_REGION=...]
//        node sign_and_get.mjs URL
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

const [url] = process.argv.slice(2);
if (!url || !process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
  console.error("usage: AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... node sign_and_get.mjs URL");
  process.exit(2);
}
const target = new URL(url);
const signer = new SignatureV4({
  service: "execute-api",
  region: process.env.AWS_REGION || "us-east-1",
  sha256: Sha256,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN || undefined,
  },
});
const query = {};
for (const [name, value] of target.searchParams) {
  query[name] = name in query ? [].concat(query[name], value) : value;
}
const signed = await signer.sign({
  method: "GET",
  protocol: target.protocol,
  hostname: target.hostname,
  port: target.port ? Number(target.port) : undefined,
  path: target.pathname,
  query,
  headers: { host: target.host },
});
const { host, ...headers } = signed.headers; // fetch sends this very Host itself
const answer = await fetch(url, { method: "GET", headers });
console.log(JSON.stringify({
  status: answer.status,
  headers: Object.fromEntries(answer.headers),
  body: await answer.text(),
}));
