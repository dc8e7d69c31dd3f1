// Usage: node bcrypt.js [2a|2b|2y] < password
//   prints a bcrypt hash (cost 10) of the password read from standard
//   input, every byte of it, decoded as UTF-8: bcryptjs.hashSync(pw, 10),
//   which writes the $2b$ prefix, or, given another prefix, the same with a
//   salt of that prefix (the algorithm is one; the prefix records which
//   implementation's bugs the hash was made without).
"use strict";
const fs = require("fs");
const bcrypt = require("bcryptjs");

const [prefix = "2b", ...rest] = process.argv.slice(2);
if (!["2a", "2b", "2y"].includes(prefix) || rest.length > 0) {
  console.error("usage: node bcrypt.js [2a|2b|2y] < password");
  process.exit(2);
}
try {
  const password = fs.readFileSync(0, "utf8");
  let hash;
  if (prefix === "2b") {
    hash = bcrypt.hashSync(password, 10);
  } else {
    const salt = bcrypt.genSaltSync(10).replace(/^\$2b\$/, "$" + prefix + "$");
    hash = bcrypt.hashSync(password, salt);
  }
  if (!hash.startsWith("$" + prefix + "$10$") || !bcrypt.compareSync(password, hash)) {
    throw new Error("bcryptjs made an unexpected hash: " + hash);
  }
  process.stdout.write(hash);
} catch (e) {
  console.error(e.name + ": " + e.message);
  process.exit(1);
}
