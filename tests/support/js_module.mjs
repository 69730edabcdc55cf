// Runs one function of one of the site's script modules for the tests, in Node.js:
//   node tests/support/js_module.mjs static/js/ballot-crypto.js  < {"op": name, "args": [...]}
// prints {"result": ..., "args": [...]} (the arguments after the call: a device's state is the
// first, changed as the page would keep it in the browser's storage), or {"error": message}.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const module = await import(pathToFileURL(resolve(process.argv[2])).href);
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { op, args } = JSON.parse(input);
try {
  const result = module[op](...args);
  process.stdout.write(JSON.stringify({ result, args }));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.message }));
}
