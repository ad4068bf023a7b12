// Loaded with `node --require` (through NODE_OPTIONS, so also into the jsii kernel that aws-cdk-lib's
// Python package starts): samples the V8 heap and at exit writes the peaks, in MiB, to
// $BENCH_HEAP_DIR/<pid>.json. It writes nothing to stdout (jsii's channel).
//
// Two figures of the heap:
// - `heap_used_peak_mib`: the largest heap *in use* sampled, live objects plus the garbage V8 has not
//   collected yet, so it depends on when V8 collects;
// - `heap_live_peak_mib`: the *live* heap, the largest heap in use right after a full mark-compact
//   (v8.GCProfiler records each GC's heap statistics inside the GC), and `heap_live_exit_mib`, the heap
//   after a forced full GC at exit (what the process still references then: the jsii kernel frees
//   nothing, so on the Python sides that is the whole construct tree and every object handed to Python).
// The jsii kernel serves Python with synchronous reads of its stdin, so its event loop seldom runs and a
// timer alone would sample it a few dozen times in a run: the probe also samples (at most every 20 ms)
// from fs.readSync, which the kernel calls once per request.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const v8 = require("node:v8");
const vm = require("node:vm");

const dir = process.env.BENCH_HEAP_DIR;
if (dir) {
  const peak = { used: 0, total: 0, live: 0, samples: 0, fullGcs: 0 };
  let profiler = new v8.GCProfiler();
  profiler.start();
  const foldGcs = () => {
    for (const gc of profiler.stop()?.statistics ?? []) {
      if (gc.gcType === "MarkSweepCompact") {
        peak.fullGcs += 1;
        peak.live = Math.max(peak.live, gc.afterGC.heapStatistics.usedHeapSize);
      }
    }
  };
  let lastSample = 0;
  let lastFold = 0;
  const sample = () => {
    peak.samples += 1;
    const stats = v8.getHeapStatistics();
    peak.used = Math.max(peak.used, stats.used_heap_size);
    peak.total = Math.max(peak.total, stats.total_heap_size);
    const now = Date.now();
    lastSample = now;
    if (now - lastFold > 1000) {
      // the profiler keeps its records natively until stop(): fold them every second
      lastFold = now;
      foldGcs();
      profiler = new v8.GCProfiler();
      profiler.start();
    }
  };
  globalThis.__benchHeapSample = sample;
  setInterval(sample, 20).unref();
  const readSync = fs.readSync;
  fs.readSync = function (...args) {
    if (Date.now() - lastSample >= 20) sample();
    return readSync.apply(this, args);
  };
  process.on("exit", () => {
    sample();
    foldGcs();
    v8.setFlagsFromString("--expose-gc");
    vm.runInNewContext("gc")();
    const exit = v8.getHeapStatistics().used_heap_size;
    const mib = 2 ** 20;
    fs.writeFileSync(
      path.join(dir, `${process.pid}.json`),
      JSON.stringify({
        pid: process.pid,
        heap_used_peak_mib: peak.used / mib,
        heap_total_peak_mib: peak.total / mib,
        heap_live_peak_mib: Math.max(peak.live, exit) / mib,
        heap_live_exit_mib: exit / mib,
        samples: peak.samples,
        full_gcs: peak.fullGcs,
      }),
    );
  });
}
