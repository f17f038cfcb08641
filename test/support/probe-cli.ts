/**
 * Probe traffic as processes, e.g. one per namespace:
 *   node --import tsx test/support/probe-cli.ts recv '{"port":0}'
 *   node --import tsx test/support/probe-cli.ts send '{"host":"10.9.0.2","port":5000,"ratePps":1000,"durationMs":5000}'
 * Both print {"event":"ready","port":..}; a sender prints {"event":"done",..stats} when it finishes.
 * stdin requests (json-lines.ts), each acked:
 *   recv: {"op":"report","cutAtMs"?,"windowMs"?,"sent"?} -> {..,"report":ProbeReport} | {"op":"reset"} | {"op":"stop"}
 *   send: {"op":"stats"} | {"op":"stop"} -> {..,"stats":SenderStats}
 * stdin closing or SIGTERM stops the process (a receiver prints {"event":"final","report":..} first).
 */
import { emit, parseArgJson, serveStdin, type Json } from './json-lines.js';
import {
  ProbeReceiver,
  ProbeSender,
  type ProbeReceiverOptions,
  type ProbeSenderOptions,
  type ReportOptions,
} from './probe-traffic.js';

const USAGE = `probe-cli.ts send '{"host","port","ratePps"?,"size"?,"durationMs"?,"count"?,"flowId"?}' | recv '{"host"?,"port"?,"flowId"?}'`;
const mode = process.argv[2];
const config = parseArgJson(process.argv[3], USAGE);

let stopping = false;
function onStop(fn: () => Promise<void>): () => void {
  const go = () => {
    if (stopping) return;
    stopping = true;
    void fn().then(() => process.exit(0));
  };
  process.on('SIGTERM', go);
  process.on('SIGINT', go);
  return go;
}

if (mode === 'recv') {
  const rx = new ProbeReceiver(config as ProbeReceiverOptions);
  const port = await rx.start();
  const stop = onStop(async () => {
    emit({ event: 'final', report: rx.report() });
    await rx.stop();
  });
  serveStdin((req) => {
    switch (req.op) {
      case 'report': {
        const { cutAtMs, windowMs, sent } = req as ReportOptions & Json;
        return { report: rx.report({ cutAtMs, windowMs, sent }), ignored: rx.ignored };
      }
      case 'reset':
        rx.reset();
        return {};
      case 'stop':
        setImmediate(stop);
        return { report: rx.report() };
      default:
        throw new Error(`unknown op "${String(req.op)}"`);
    }
  }, stop);
  emit({ event: 'ready', port });
} else if (mode === 'send') {
  const tx = new ProbeSender(config as unknown as ProbeSenderOptions);
  const port = await tx.start();
  void tx.done.then((stats) => emit({ event: 'done', ...stats }));
  const stop = onStop(async () => void (await tx.stop()));
  serveStdin(async (req) => {
    switch (req.op) {
      case 'stats':
        return { stats: tx.stats() };
      case 'stop': {
        const stats = await tx.stop();
        setImmediate(stop);
        return { stats };
      }
      default:
        throw new Error(`unknown op "${String(req.op)}"`);
    }
  }, stop);
  emit({ event: 'ready', port });
} else {
  process.stderr.write(`usage: ${USAGE}\n`);
  process.exit(2);
}
