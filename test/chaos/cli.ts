// npm run chaos [-- <fault>…]: runs the faults (all, or those named), prints the table, and exits
// 1 on any invariant violation or a workload that did not converge in its stated time.
import { runChaos, selectFaults } from './runner.ts';

const faults = selectFaults(process.argv.slice(2));
// CHAOS_NODES: a smaller pool (the CI subset runs 12).
const nodes = Number(process.env.CHAOS_NODES) || undefined;
const result = await runChaos(faults, (line) => console.error(line), nodes ? { nodes } : {});
console.log(result.report);
process.exit(result.ok ? 0 : 1);
