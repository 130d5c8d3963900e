/* device/timers.ts (Moddable timer/time), device/log.ts (trace) and device/digest.ts (crypt Digest) over their stand-ins. */
import {strict as assert} from "node:assert";
import {createHash} from "node:crypto";
import {loadDevice} from "./support/moddable-loader";
import {traceLines} from "./support/moddable/trace";
import {waitUntil} from "./support/wait";
import {tickSource} from "./support/moddable/time";
import type {Log, Timers} from "../rainmaker/ports";
import type {DigestFactory} from "../ota/ports";

describe("device timers, log and digest", () => {
	let timers: Timers;
	let log: Log;
	let createCryptDigest: DigestFactory;

	before(async () => {
		timers = new (await loadDevice<{DeviceTimers: new () => Timers}>("timers")).DeviceTimers();
		log = new (await loadDevice<{TraceLog: new () => Log}>("log")).TraceLog();
		({createCryptDigest} = await loadDevice<{createCryptDigest: DigestFactory}>("digest"));
	});

	it("runs one-shot timers in order, cancels, and tolerates clearing fired or undefined timers", async () => {
		const fired: string[] = [];
		const start = timers.now();
		timers.set(() => fired.push("b"), 30);
		timers.set(() => fired.push("a"), 5);
		const cancelled = timers.set(() => fired.push("cancelled"), 10);
		timers.clear(cancelled);
		timers.clear(undefined);
		const once = timers.set(() => fired.push("once"), 0);
		// "b" (30 ms) fires after "cancelled" (10 ms) would have: waiting for it is enough.
		await waitUntil(() => fired.includes("b"), "the 30 ms timer");
		timers.clear(once);
		assert.deepEqual(fired, ["once", "a", "b"]);
		assert.ok(timers.now() - start >= 30, "monotonic milliseconds");
	});

	it("keeps now() monotonic when Moddable's int32 tick count turns negative and wraps", async () => {
		const {DeviceTimers} = await loadDevice<{DeviceTimers: new () => Timers}>("timers");
		const fresh = new DeviceTimers();
		try {
			const readings: number[] = [];
			for (const raw of [0x7ffffff0, 0x80000010, 0xfffffff0, 0x100000005, 0x17fffffff])
				readings.push(((tickSource.override = raw % 0x100000000), fresh.now()));
			assert.deepEqual(readings, [0x7ffffff0, 0x80000010, 0xfffffff0, 0x100000005, 0x17fffffff]);
		} finally {
			delete tickSource.override;
		}
	});

	it("gives the wall clock in whole seconds since the epoch", () => {
		const epoch = timers.epoch();
		assert.ok(Number.isInteger(epoch));
		assert.ok(Math.abs(epoch - Date.now() / 1000) < 2);
	});

	it("logs through trace with a level prefix and a newline", () => {
		traceLines.length = 0;
		log.info("hello");
		log.warn("careful");
		log.error("broken");
		assert.deepEqual(traceLines, ["hello\n", "warning: careful\n", "error: broken\n"]);
	});

	it("computes SHA-256 and MD5 incrementally over views into larger buffers", () => {
		const data = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
		for (const [algorithm, node] of [
			["SHA256", "sha256"],
			["MD5", "md5"],
		] as const) {
			const digest = createCryptDigest(algorithm);
			digest.write(data.subarray(0, 1000));
			digest.write(data.subarray(1000, 1001));
			digest.write(new Uint8Array(data.slice(1001)));
			assert.equal(Buffer.from(digest.close()).toString("hex"), createHash(node).update(data).digest("hex"));
			assert.throws(() => digest.write(data), /already closed/);
		}
		assert.equal(
			Buffer.from(createCryptDigest("SHA256").close()).toString("hex"),
			createHash("sha256").digest("hex"),
		);
		assert.throws(() => createCryptDigest("SHA1" as "MD5"), /unsupported digest SHA1/);
	});
});
