// Runs one step of the board member's device (static/js/ceremony-device.js) for the tests:
// reads {"op": name, "args": [...]} on stdin, prints {"result": ..., "state": ...} (the state is
// the first argument after the step, as the page would keep it in the browser's storage).
import * as device from "../../static/js/ceremony-device.js";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { op, args } = JSON.parse(input);
const result = device[op](...args);
process.stdout.write(JSON.stringify({ result, state: args[0] ?? null }));
