/*
 * Job time metadata (docs/protocol.md §5.7): validity and download windows with the reference's
 * texts, alone and through the simulated node.
 */
import assert from "node:assert/strict";
import {checkTimeMetadata, MIN_SYNCED_EPOCH} from "../../ota/time-window";
import {jobFor, SimNode, V2} from "./support/sim-node";

const NOON = 1767268800; // 2026-01-01T12:00:00Z
const meta = (value: unknown) => JSON.stringify(value);

describe("job time metadata", () => {
	it("ignores jobs without time keys", () => {
		assert.equal(checkTimeMetadata(undefined, NOON), undefined);
		assert.equal(checkTimeMetadata(meta({"esp.ota.target": "host_mcu"}), NOON), undefined);
	});

	it("delays when the clock was never set", () => {
		assert.deepEqual(checkTimeMetadata(meta({validity: {start: 0, end: 2e9}}), MIN_SYNCED_EPOCH - 1), {
			status: "delayed",
			text: "No time information available yet.",
			fetchAfterSeconds: 30,
		});
	});

	it("validity: delayed before start (fetch again at start + 5 s), failed after end", () => {
		assert.deepEqual(checkTimeMetadata(meta({validity: {start: NOON + 100, end: NOON + 1000}}), NOON), {
			status: "delayed",
			text: "Not within valid window.",
			fetchAfterSeconds: 105,
		});
		assert.deepEqual(checkTimeMetadata(meta({validity: {start: NOON - 1000, end: NOON - 1}}), NOON), {
			status: "failed",
			text: "OTA download window lapsed.",
		});
		assert.equal(checkTimeMetadata(meta({validity: {start: NOON - 1000, end: NOON + 1}}), NOON), undefined);
	});

	it("download window: minutes after midnight (UTC), crossing midnight, a start without an end", () => {
		assert.equal(checkTimeMetadata(meta({download_window: {start: 700, end: 800}}), NOON), undefined); // 11:40..13:20
		assert.deepEqual(checkTimeMetadata(meta({download_window: {start: 120, end: 270}}), NOON), {
			status: "delayed",
			text: "Not within download window.",
			fetchAfterSeconds: 14 * 3600 + 5,
		});
		assert.equal(
			checkTimeMetadata(meta({download_window: {start: 1380, end: 60}}), NOON - 12 * 3600 + 30 * 60),
			undefined,
		); // 00:30 in 23:00..01:00
		assert.deepEqual(checkTimeMetadata(meta({download_window: {start: 120}}), NOON), {
			status: "failed",
			text: "Invalid download window specified.",
		});
	});
});

describe("time metadata through the node", () => {
	let node: SimNode | undefined;
	afterEach(() => {
		node?.close();
		node = undefined;
	});

	it("a job outside its download window is reported delayed, not offered, and fetched again when the window opens", () => {
		node = new SimNode();
		node.powerOn();
		const epoch = node.timers.epoch();
		const minute = Math.floor((epoch % 86400) / 60);
		const job = {
			...jobFor(node, "job-w", V2, "2.0.0"),
			metadata: {download_window: {start: (minute + 60) % 1440, end: (minute + 120) % 1440}},
		};
		node.job = job;
		node.command("check");
		node.until(() => node!.statuses().length > 0, "a report");
		assert.deepEqual(node.texts("job-w"), ["delayed: Not within download window."]);
		assert.equal(node.firmware!.ota.state, "idle");
		assert.equal(node.firmware!.ota.offer, undefined);
		node.until(
			() => node!.firmware!.ota.state === "offered",
			"offered when the window opens",
			2 * 3600_000,
			60_000,
		);
		assert.deepEqual(node.texts("job-w").at(-1), "delayed: Waiting for Approval");
	});

	it("with the timezone option the window is read in the node's local time (UTC+5 here)", () => {
		node = new SimNode({ota: {timezone: "<+05>-5"}});
		node.powerOn();
		const epoch = node.timers.epoch();
		const utcMinute = Math.floor((epoch % 86400) / 60);
		const localMinute = (utcMinute + 300) % 1440;
		// a window that holds the current UTC minute but not the local one: refused
		node.job = {
			...jobFor(node, "job-tz", V2, "2.0.0"),
			metadata: {download_window: {start: utcMinute, end: (utcMinute + 10) % 1440}},
		};
		node.command("check");
		node.until(() => node!.statuses().length > 0, "a report");
		assert.deepEqual(node.texts("job-tz"), ["delayed: Not within download window."]);
		// one that holds the local minute: offered
		node.job = {
			...node.job,
			ota_job_id: "job-tz2",
			metadata: {download_window: {start: localMinute, end: (localMinute + 10) % 1440}},
		};
		node.command("check");
		node.until(() => node!.firmware!.ota.state === "offered", "the offer");
	});

	it("a job past its validity is reported failed and not offered", () => {
		node = new SimNode();
		node.powerOn();
		const epoch = node.timers.epoch();
		node.job = {...jobFor(node, "job-v", V2, "2.0.0"), metadata: {validity: {start: epoch - 100, end: epoch - 10}}};
		node.command("check");
		node.until(() => node!.statuses().length > 0, "a report");
		assert.deepEqual(node.texts("job-v"), ["failed: OTA download window lapsed."]);
		assert.equal(node.firmware!.ota.state, "idle");
	});
});
