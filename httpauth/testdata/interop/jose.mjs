// Verifies tokens with Node's jose package against a JSON Web Key Set
// fetched over HTTP (run by httpauth's TestJoseInterop).
//
// Usage:
//   node jose.mjs [--cooldown=MS] JWKS_URL ALG TOKEN
//     verifies TOKEN with the keys at JWKS_URL, accepting only ALG, and
//     prints {"payload": ..., "protectedHeader": ...} as JSON. On failure
//     it exits 1 with the error's name (e.g. JWSSignatureVerificationFailed)
//     first on stderr.
//   node jose.mjs [--cooldown=MS] JWKS_URL ALG -
//     the same for each line of standard input, in turn, with one remote
//     key set (and so one cache) for all of them: one line of JSON out per
//     token, {"payload": ..., "protectedHeader": ...} or {"error": NAME}.
//
// --cooldown sets createRemoteJWKSet's cooldownDuration: how long after a
// fetch a token with an unknown kid is refused instead of refetching
// (jose's default: 30000).
import * as jose from "jose";
import * as readline from "node:readline";

const args = process.argv.slice(2);
const options = {};
if (args[0]?.startsWith("--cooldown=")) {
  options.cooldownDuration = Number(args.shift().slice("--cooldown=".length));
}
const [url, alg, token] = args;
if (args.length !== 3 || !url || !alg || !token) {
  console.error("usage: node jose.mjs [--cooldown=MS] JWKS_URL ALG TOKEN|-");
  process.exit(2);
}

const jwks = jose.createRemoteJWKSet(new URL(url), options);

async function verify(t) {
  const { payload, protectedHeader } = await jose.jwtVerify(t, jwks, { algorithms: [alg] });
  return { payload, protectedHeader };
}

if (token === "-") {
  for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    let result;
    try {
      result = await verify(line.trim());
    } catch (e) {
      result = { error: e.name, message: e.message };
    }
    process.stdout.write(JSON.stringify(result) + "\n");
  }
} else {
  try {
    process.stdout.write(JSON.stringify(await verify(token)));
  } catch (e) {
    console.error(e.name + ": " + e.message);
    process.exit(1);
  }
}
