// Preloaded into the cloud process by bench/cloud-junk.ts (node --expose-gc --import): on SIGUSR2 a
// full garbage collection, then one line with the V8 heap in use, so a reading shows what is kept,
// not garbage not yet collected.
process.on("SIGUSR2", () => {
	globalThis.gc?.();
	process.stdout.write(`bench-heap ${process.memoryUsage().heapUsed}\n`);
});
