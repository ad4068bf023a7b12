// Loaded with `node --require` (through NODE_OPTIONS, so also into the jsii kernel that aws-cdk-lib's
// Python package starts): samples the V8 heap every 20 ms and at phase ends, and at exit writes the
// peaks, in MiB, to $BENCH_HEAP_DIR/<pid>.json. It writes nothing to stdout (jsii's channel).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const v8 = require("node:v8");

const dir = process.env.BENCH_HEAP_DIR;
if (dir) {
  const peak = { used: 0, total: 0 };
  const sample = () => {
    const stats = v8.getHeapStatistics();
    peak.used = Math.max(peak.used, stats.used_heap_size);
    peak.total = Math.max(peak.total, stats.total_heap_size);
  };
  globalThis.__benchHeapSample = sample;
  setInterval(sample, 20).unref();
  process.on("exit", () => {
    sample();
    const mib = 2 ** 20;
    fs.writeFileSync(
      path.join(dir, `${process.pid}.json`),
      JSON.stringify({ pid: process.pid, heap_used_peak_mib: peak.used / mib, heap_total_peak_mib: peak.total / mib }),
    );
  });
}
