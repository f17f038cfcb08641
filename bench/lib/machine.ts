/**
 * The machine a benchmark ran on, as bench/RESULTS.md records it: CPU model and count, kernel,
 * load average, and CPU steal (time the hypervisor gave this VM's vCPUs to others) over the run,
 * from /proc/stat. A figure measured under load or steal reflects the host as much as the code.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';

interface CpuTicks {
  steal: number;
  total: number;
}

/** The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal (guest is in user). */
function cpuTicks(): CpuTicks | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9);
    const ticks = fields.map(Number);
    if (fields[0] === undefined || ticks.some((t) => !Number.isFinite(t))) return undefined;
    return { steal: ticks[7] ?? 0, total: ticks.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined; // not Linux
  }
}

// Taken when the benchmark imports this module, i.e. at its start: steal is measured over the run.
const atStart = cpuTicks();

export interface Machine {
  cpuModel: string;
  cpus: number;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages at the end of the run. */
  loadAverage: [number, number, number];
  /** Percentage of CPU time stolen since the run started; null where /proc/stat is unavailable. */
  stealPct: number | null;
}

export function describeMachine(): Machine {
  const now = cpuTicks();
  const total = now && atStart ? now.total - atStart.total : 0;
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg();
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    kernel: release(),
    node: process.version,
    loadAverage: [l1, l5, l15],
    stealPct: now && atStart && total > 0 ? (100 * (now.steal - atStart.steal)) / total : null,
  };
}

/** One line for the printed report, e.g. "AMD EPYC x2, Linux 6.18.44, load 0.42 0.60 0.71, steal 0.0 %". */
export function machineLine(m: Machine): string {
  const load = m.loadAverage.map((l) => l.toFixed(2)).join(' ');
  const steal = m.stealPct === null ? 'n/a' : `${m.stealPct.toFixed(1)} %`;
  return `${m.cpuModel} x${m.cpus}, Linux ${m.kernel}, Node.js ${m.node}, load ${load}, steal ${steal} (over the run)`;
}
