// npm run chaos [-- <fault>…]: runs the faults (all, or those named), prints the table, and exits
// 1 on any invariant violation or a workload that did not converge in its stated time.
import { runChaos, selectFaults } from './runner.ts';

const faults = selectFaults(process.argv.slice(2));
const result = await runChaos(faults, (line) => console.error(line));
console.log(result.report);
process.exit(result.ok ? 0 : 1);
