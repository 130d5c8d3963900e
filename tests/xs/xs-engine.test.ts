/*
 * The real-XS lane's engine and harness: the device-heap worker, the readiness report that
 * replaces xsnap's silence on a failed import, and the limits that make a leak or a
 * whole-image buffer fail the lane.
 */
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {tmpdir} from "node:os";
import {compileGuest} from "./harness/compile";
import {LANE_CREATION, XsGuest} from "./harness/xs-guest";
import {ESP32_CREATION, XsExitError} from "./harness/xs-worker";

describe("real XS lane: engine and harness", function () {
	this.timeout(60000);
	let guest: XsGuest | undefined;
	afterEach(async () => {
		await guest?.close();
		guest = undefined;
	});

	it("loads the tsc-compiled core into XS with the device-sized creation and reports ready", async () => {
		guest = await XsGuest.start({nodeId: "xs-engine-1"});
		assert.equal(guest.ready, "rainmaker-ota-xs guest");
		const stats = await guest.memory({collect: true});
		// The machine started from the esp32 sizes (32 KB chunks, 2048 slots) and grew in esp32 increments only.
		assert.ok(
			stats.chunksCapacity >= ESP32_CREATION.chunk && stats.slotsCapacity >= ESP32_CREATION.heap,
			JSON.stringify(stats),
		);
		assert.ok(stats.chunksCapacity < 512 * 1024, `chunk heap ${stats.chunksCapacity} is not the stock 32 MB`);
		assert.equal(guest.faults.length, 0, guest.faults.join("\n"));
	});

	it("compiled the modules by rewriting only extensionless relative specifiers", () => {
		const build = compileGuest();
		assert.ok(
			build.rewrites.some(line => line.startsWith("ota/firmware.js: ../rainmaker/agent → ../rainmaker/agent.js")),
			build.rewrites.join("\n"),
		);
		const emitted = readFileSync(join(build.outDir, "ota", "firmware.js"), "utf8");
		assert.doesNotMatch(emitted, /from "\.{1,2}\/[^"]*[^s]"/, "every relative import names a .js file");
	});

	it("a module that cannot be imported fails the start with the engine's reason, not silently", async () => {
		await assert.rejects(
			XsGuest.start({nodeId: "xs-engine-2", entry: join(tmpdir(), "rainmaker-ota-xs-no-such-module.js")}),
			/the XS guest did not load: .*no module/,
		);
	});

	it("growth beyond the allocation limit ends XS with 'not enough memory' (a whole-image buffer cannot pass)", async () => {
		guest = await XsGuest.start({nodeId: "xs-engine-3"});
		await guest.limitGrowth(16 * 1024);
		await guest.worker.evaluate("globalThis.small = new Uint8Array(4096);");
		await assert.rejects(
			guest.worker.evaluate("globalThis.image = new Uint8Array(64 * 1024);"),
			(error: unknown) => error instanceof XsExitError && error.code === 11,
		);
	});

	it("a leak of small objects beyond the limit fails the same way", async () => {
		guest = await XsGuest.start({nodeId: "xs-engine-4"});
		await guest.limitGrowth(16 * 1024);
		await assert.rejects(
			guest.worker.evaluate("globalThis.leak = []; for (let i = 0; i < 20000; i++) leak.push({i});"),
			(error: unknown) => error instanceof XsExitError && error.code === 11,
		);
	});

	it("the stack is the device's: the manifest's slots, and deep recursion overflows them", async () => {
		const manifest = JSON.parse(readFileSync(new URL("../../manifest.json", import.meta.url), "utf8")) as {
			creation: {stack: number};
		};
		assert.equal(LANE_CREATION.stack, manifest.creation.stack);
		guest = await XsGuest.start({nodeId: "xs-engine-5"});
		await guest.worker.evaluate("function depth(n) { return n ? depth(n - 1) + 1 : 0; } depth(20);");
		await assert.rejects(
			guest.worker.evaluate(`depth(${LANE_CREATION.stack});`),
			(error: unknown) => error instanceof XsExitError && error.code === 12,
		);
	});
});
