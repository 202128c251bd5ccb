/**
 * BENCH_CPU_PROFILE=1: each server records a V8 CPU profile of the measured steps (through its probe); this folds a
 * profile into time per module (package, project folder, Node internals), per caller and per project function, so a
 * run can say where a node's CPU went. Diagnosis only: profiling costs CPU, so figures from such a run are not the record.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Self time by where the code lives. Native and node:internals are mostly socket writes and parsing. */
  byModule: Row[];
  /** Each sample charged to the innermost package or project folder on its stack: who asked for the work. */
  byCaller: Row[];
  /** Inclusive time of project functions (domain/, realtime/, api/, server/, orm/): a function's synchronous share. */
  projectFunctions: Row[];
  bySelfFunction: Row[];
}

interface Row {
  name: string;
  ms: number;
  percent: number;
}

const ROOT_URL = `file://${path.resolve(import.meta.dirname, '../..')}/`;
const PROJECT_DIRS = new Set(['domain', 'realtime', 'api', 'server', 'orm', 'contracts', 'bench']);

function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith(ROOT_URL)) return url.slice(ROOT_URL.length).split('/')[0]!;
  return url;
}

const label = (fn: string, url: string, line: number) =>
  `${fn || '(anonymous)'} ${url ? `${url.replace(ROOT_URL, '').replace(/^.*\/node_modules\//, '')}:${line + 1}` : ''}`.trim().slice(0, 110);

export async function summarizeProfiles(dir: string, top = 15): Promise<ProfileSummary[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  const summaries: ProfileSummary[] = [];
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

    const modules = new Map<string, number>();
    const callers = new Map<string, number>();
    const project = new Map<string, number>();
    const functions = new Map<string, number>();
    const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
    let total = 0;
    // The probe's own work (starting and stopping the profiler) is not the server's.
    const isProbe = (id: number) => {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)!.callFrame.url.endsWith('/bench/chat/probe.ts')) return true;
      return false;
    };
    for (const [id, us] of selfUs) {
      const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
      if (functionName === '(idle)' || isProbe(id)) continue;
      total += us;
      add(modules, moduleOf(url, functionName), us);
      add(functions, label(functionName, url, lineNumber), us);
      let caller: string | undefined;
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        const module = moduleOf(frame.url, frame.functionName);
        const external = frame.url && !frame.url.startsWith('node:');
        if (!caller && external) caller = module;
        if (PROJECT_DIRS.has(module)) {
          const key = label(frame.functionName, frame.url, frame.lineNumber);
          if (!seen.has(key)) add(project, key, us);
          seen.add(key);
        }
      }
      add(callers, caller ?? moduleOf(url, functionName), us);
    }
    const rows = (map: Map<string, number>) =>
      [...map]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, us]) => ({ name, ms: +(us / 1000).toFixed(1), percent: +((us / total) * 100).toFixed(1) }));
    summaries.push({
      file: path.join(dir, file),
      totalMs: +(total / 1000).toFixed(1),
      byModule: rows(modules),
      byCaller: rows(callers),
      projectFunctions: rows(project),
      bySelfFunction: rows(functions),
    });
  }
  return summaries;
}

/** Prints a profile's summary: self time by module, by innermost caller, and the project's functions. */
export function printProfile(what: string, profile: ProfileSummary) {
  console.log(`CPU profile of ${what}, ${profile.file} (${profile.totalMs} ms of CPU, idle excluded):`);
  const list = (title: string, rows: Row[]) => console.log(`  ${title}: ${rows.slice(0, 10).map((r) => `${r.percent}% ${r.name}`).join(' | ')}`);
  list('self time by module', profile.byModule);
  list('by innermost package/project caller', profile.byCaller);
  list('project functions (inclusive, synchronous)', profile.projectFunctions);
  list('self time by function', profile.bySelfFunction);
}
