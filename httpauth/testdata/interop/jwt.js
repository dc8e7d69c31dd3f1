// Usage (the secret is read from the JWT_SECRET environment variable):
//   node jwt.js verify <token>   prints the verified payload as JSON
//   node jwt.js sign <json>      prints an HS256 token of exactly that payload
"use strict";
const jwt = require("jsonwebtoken");

const secret = process.env.JWT_SECRET;
const [cmd, arg] = process.argv.slice(2);
if (!secret || !arg) {
  console.error("usage: JWT_SECRET=... node jwt.js verify|sign ARG");
  process.exit(2);
}
try {
  if (cmd === "verify") {
    const payload = jwt.verify(arg, secret, { algorithms: ["HS256"] });
    process.stdout.write(JSON.stringify(payload));
  } else if (cmd === "sign") {
    // noTimestamp: iat and exp come from the payload as given, nothing added.
    const token = jwt.sign(JSON.parse(arg), secret, { algorithm: "HS256", noTimestamp: true });
    process.stdout.write(token);
  } else {
    throw new Error("unknown command " + cmd);
  }
} catch (e) {
  console.error(e.name + ": " + e.message);
  process.exit(1);
}
