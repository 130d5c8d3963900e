/*
 * A product builds on the node (docs/product.md): the application API (devices, params, write
 * callbacks, reported and persisted changes), the OTA events in order with their job id, a hold
 * before the download (released, and timed out into a reported `failed`), the reboot the
 * application times (autoReboot off), with the rollback rules unchanged after it, and the example
 * switch's Power surviving an update. On the simulated node and the virtual clock.
 */
import assert from "node:assert/strict";
import type {Application} from "../../ota/firmware";
import type {OtaAppEvent, OtaHold} from "../../ota/events";
import {switchProduct} from "../../product/switch";
import {RecordingLog} from "../support/recording-log";
import {jobFor, SimNode, V2} from "./support/sim-node";

interface Recorded {
	kind: string;
	jobId: string;
	text: string;
}

/** The switch product, plus a recorder of its events and of what it drove; `extra` adds to the product's setup. */
function product(record: {events: Recorded[]; drives: boolean[]}, extra?: (app: Application) => void) {
	const log = new RecordingLog();
	const inner = switchProduct({log, drive: on => record.drives.push(on)});
	return (app: Application) => {
		app.onOtaEvent(event => record.events.push({kind: event.kind, jobId: event.jobId, text: event.text}));
		extra?.(app);
		inner(app);
	};
}

function remoteWrite(node: SimNode, params: object): void {
	node.broker.publish(`node/${node.nodeId}/params/remote`, JSON.stringify(params));
	node.advance(0);
}

function localReports(node: SimNode): object[] {
	return node.broker.on(`node/${node.nodeId}/params/local`).map(message => JSON.parse(message.payload) as object);
}

describe("product: the application API", () => {
	let node: SimNode | undefined;
	afterEach(() => {
		node?.close();
		node = undefined;
	});

	it("the switch is in the node config and params/local/init as RainMaker expects", () => {
		const record = {events: [], drives: []};
		node = new SimNode({product: product(record)});
		node.powerOn();
		const config = JSON.parse(node.broker.on(`node/${node.nodeId}/config`)[0].payload) as {
			devices: object[];
			services: {name: string}[];
		};
		assert.deepEqual(config.devices, [
			{
				name: "Switch",
				type: "esp.device.switch",
				primary: "Power",
				params: [
					{name: "Name", type: "esp.param.name", data_type: "string", properties: ["read", "write"]},
					{
						name: "Power",
						type: "esp.param.power",
						data_type: "bool",
						properties: ["read", "write"],
						ui_type: "esp.ui.toggle",
					},
				],
			},
		]);
		assert.deepEqual(
			config.services.map(service => service.name),
			["OTA"],
			"the OTA service stays",
		);
		const init = JSON.parse(node.broker.on(`node/${node.nodeId}/params/local/init`)[0].payload) as object;
		assert.deepEqual(init, {Switch: {Name: "Switch", Power: false}, OTA: {Operation: "", Info: {}}});
		assert.deepEqual(record.drives, [false], "the output is driven at start");
	});

	it("a remote write reaches the device's callback, is stored, persisted and reported; a bad one is refused", () => {
		const record = {events: [], drives: [] as boolean[]};
		node = new SimNode({product: product(record)});
		node.powerOn();
		remoteWrite(node, {Switch: {Power: true}});
		assert.deepEqual(record.drives, [false, true]);
		assert.deepEqual(localReports(node).at(-1), {Switch: {Power: true}});
		assert.deepEqual(node.paramStore.get("Switch.Power"), {type: "str", value: "true"});
		const before = localReports(node).length;
		remoteWrite(node, {Switch: {Power: "on"}});
		assert.deepEqual(record.drives, [false, true], "a string is not a bool: the callback never sees it");
		assert.equal(localReports(node).length, before);
		assert.ok(
			node.log.messages("warn").some(line => /Switch\.Power refused: expected bool, got string/.test(line)),
		);
	});

	it("devices with bounds and valid strings: remote writes and the app's own updates are checked", () => {
		const writes: string[] = [];
		node = new SimNode({
			product: app => {
				const fan = app.node.createDevice("Fan", "esp.device.fan", {primary: "Speed"});
				fan.addParam({
					name: "Speed",
					type: "esp.param.speed",
					dataType: "int",
					properties: ["read", "write"],
					value: 1,
					bounds: {min: 0, max: 5, step: 1},
					uiType: "esp.ui.slider",
				});
				fan.addParam({
					name: "Mode",
					type: "esp.param.mode",
					dataType: "string",
					properties: ["read", "write"],
					value: "auto",
					validStrs: ["auto", "night"],
					uiType: "esp.ui.dropdown",
				});
				fan.onWrite(list => {
					for (const write of list) writes.push(`${write.param.name}=${String(write.value)}`);
				});
			},
		});
		node.powerOn();
		const config = JSON.parse(node.broker.on(`node/${node.nodeId}/config`)[0].payload) as {
			devices: {params: object[]}[];
		};
		assert.deepEqual(config.devices[0].params[0], {
			name: "Speed",
			type: "esp.param.speed",
			data_type: "int",
			properties: ["read", "write"],
			bounds: {min: 0, max: 5, step: 1},
			ui_type: "esp.ui.slider",
		});
		remoteWrite(node, {Fan: {Speed: 9, Mode: "turbo"}});
		assert.deepEqual(writes, [], "out of bounds and not a valid string");
		remoteWrite(node, {Fan: {Speed: 4, Mode: "night"}});
		assert.deepEqual(writes, ["Speed=4", "Mode=night"]);
		const fan = node.firmware!.app.node.device("Fan")!;
		assert.equal(fan.update({Speed: 6}), false, "the app's own update is checked too");
		assert.equal(fan.value("Speed"), 4);
		assert.equal(fan.update({Speed: 2}), true);
		node.advance(0);
		assert.deepEqual(
			localReports(node).at(-1),
			{Fan: {Speed: 2}},
			"reported like esp_rmaker_param_update_and_report",
		);
	});

	it("a persisted key longer than the store allows is refused at addParam with the names", () => {
		node = new SimNode({
			product: app =>
				void app.node.createDevice("Living room lamp", "esp.device.lightbulb").addParam({
					name: "Power",
					dataType: "bool",
					properties: ["read", "write"],
					value: false,
					persist: true,
				}),
		});
		assert.throws(
			() => node!.powerOn(),
			/param Power of device Living room lamp: persisted as "Living room lamp\.Power", 22 characters; store keys have at most 15/,
		);
	});
});

describe("product: OTA events, hold and the reboot the application times", () => {
	let node: SimNode | undefined;
	afterEach(() => {
		node?.close();
		node = undefined;
	});

	it("the switch's Power survives the update; the events arrive in order with the job id", () => {
		const record = {events: [] as Recorded[], drives: [] as boolean[]};
		node = new SimNode({product: product(record)});
		node.powerOn();
		remoteWrite(node, {Switch: {Power: true}});
		node.offerAndApprove(jobFor(node, "job-ev", V2, "2.0.0"));
		node.until(() => node!.restarts > 0, "the reboot");
		node.reboot();
		assert.equal(node.boots.at(-1)?.info.version, "2.0.0");
		node.until(() => node!.last("job-ev")?.status === "success", "success");
		// the new firmware starts with the kept value and reports it
		assert.deepEqual(record.drives, [false, true, true]);
		const init = node.broker.on(`node/${node.nodeId}/params/local/init`).map(m => JSON.parse(m.payload) as object);
		assert.deepEqual((init.at(-1) as {Switch: object}).Switch, {Name: "Switch", Power: true});
		const kinds = record.events.map(event => event.kind);
		assert.ok(
			record.events.every(event => event.jobId === "job-ev"),
			JSON.stringify(record.events),
		);
		assert.deepEqual(kinds.slice(0, 3), ["delayed", "starting", "in-progress"]);
		assert.equal(kinds.at(-1), "successful");
		assert.ok(
			kinds.slice(2, -1).every(kind => kind === "in-progress"),
			kinds.join(", "),
		);
		assert.deepEqual(record.events[0], {kind: "delayed", jobId: "job-ev", text: "Waiting for Approval"});
		assert.equal(record.events[1].text, "Starting the update to 2.0.0");
		assert.match(record.events.at(-2)!.text, /^Rebooting into new firmware/);
		assert.equal(record.events.at(-1)!.text, "OTA Upgrade finished and verified successfully");
		// each report became exactly one event, in the order reported
		assert.deepEqual(
			record.events.filter(event => event.kind !== "starting").map(event => event.text),
			node.texts("job-ev").map(line => line.replace(/^[a-z-]+: /, "")),
		);
	});

	it("a callback holds the update before the download; the release starts it", () => {
		const record = {events: [] as Recorded[], drives: [] as boolean[]};
		let hold: OtaHold | undefined;
		node = new SimNode({
			product: product(record, app =>
				app.onOtaEvent((event: OtaAppEvent) => {
					if (event.kind === "starting") hold = event.hold("freeing memory");
				}),
			),
		});
		node.powerOn();
		const job = jobFor(node, "job-hold", V2, "2.0.0");
		node.offerAndApprove(job);
		node.until(() => node!.firmware!.ota.state === "held", "the hold");
		node.advance(60_000);
		assert.equal(node.firmware!.ota.state, "held", "still held a minute later");
		assert.equal(node.http.requests.length, 0, "nothing downloaded while held");
		assert.equal(
			node.last("job-hold")!.additional_info,
			"Held by the application before the download: freeing memory",
		);
		assert.match(node.command("check")[0], /refused: the application holds the approved update/);
		assert.ok(
			node
				.command("status")
				.includes("update: job job-hold, held by the application before the download (freeing memory)"),
		);
		hold!.release();
		assert.notEqual(node.firmware!.ota.state, "held");
		node.until(() => node!.restarts > 0, "installed after the release");
		assert.equal(node.http.requests.length, 1);
		hold!.release(); // a second release does nothing
	});

	it("a hold that is never released ends the job failed after holdTimeoutSeconds, naming the hold", () => {
		const record = {events: [] as Recorded[], drives: [] as boolean[]};
		node = new SimNode({
			ota: {holdTimeoutSeconds: 120},
			product: product(record, app =>
				app.onOtaEvent(event => {
					if (event.kind === "starting") event.hold("a job of the switch");
				}),
			),
		});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-stuck", V2, "2.0.0"));
		node.until(() => node!.firmware!.ota.state === "held", "the hold");
		node.until(() => node!.firmware!.ota.state !== "held", "the timeout", 121_000, 1000);
		assert.equal(node.firmware!.ota.state, "idle");
		assert.deepEqual(node.last("job-stuck"), {
			...node.last("job-stuck"),
			status: "failed",
			additional_info:
				"Not started: the application held the update for 120 s (a job of the switch); approve it again",
		});
		assert.equal(node.http.requests.length, 0);
		assert.deepEqual(node.infos().at(-1), {}, "Info cleared");
		assert.deepEqual(
			record.events.slice(-1).map(event => [event.kind, event.jobId]),
			[["failed", "job-stuck"]],
		);
	});

	it("hold() after the starting listener returned throws (a hold is taken during the event only)", () => {
		let starting: OtaAppEvent | undefined;
		node = new SimNode({
			product: app => app.onOtaEvent(event => void (event.kind === "starting" && (starting = event))),
		});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-late", V2, "2.0.0"));
		node.until(() => starting !== undefined, "the starting event");
		const event = starting!;
		assert.equal(event.kind, "starting");
		if (event.kind === "starting")
			assert.throws(() => event.hold("too late"), /only during the starting event's listener call/);
		node.until(() => node!.restarts > 0, "installed without a hold");
	});

	it("with autoReboot off the node waits for the application's reboot; the rollback rules stay", () => {
		const record = {events: [] as Recorded[], drives: [] as boolean[]};
		let app: Application | undefined;
		node = new SimNode({
			ota: {autoReboot: false, rebootDelaySeconds: 5, rollbackWaitSeconds: 30},
			product: product(record, given => (app = given)),
		});
		node.powerOn();
		const firmware = node.firmware!;
		assert.equal(app!.reboot().ok, false, "nothing to reboot into yet");
		node.offerAndApprove(jobFor(node, "job-app", V2, "2.0.0"));
		node.until(() => record.events.some(event => event.kind === "reboot-requested"), "reboot-requested");
		assert.equal(node.restarts, 1, "the example switch rebooted when asked");
		assert.equal(firmware.ota.state, "rebooting");
		const requested = record.events.find(event => event.kind === "reboot-requested")!;
		assert.deepEqual(requested, {
			kind: "reboot-requested",
			jobId: "job-app",
			text: "Firmware installed (after 1 HTTPS attempt); waiting for the application to reboot into it",
		});
		assert.equal(node.last("job-app")!.status, "in-progress");
		assert.equal(node.last("job-app")!.additional_info, requested.text);
		// The new image never reaches MQTT: rolled back as after any reboot.
		node.powerOff();
		node.broker.reachable = false;
		node.powerOn();
		assert.equal(node.firmware!.ota.state, "pending-verify");
		node.until(() => node!.restarts > 1, "the rollback", 60_000);
		node.broker.reachable = true;
		node.reboot();
		assert.equal(node.boots.at(-1)?.info.version, "1.0.0");
		node.until(() => node!.last("job-app")?.status === "rejected", "the report");
		assert.deepEqual(record.events.at(-1), {kind: "rejected", jobId: "job-app", text: "Firmware rolled back"});
	});

	it("an application that does not reboot keeps the node waiting; its reboot() restarts into the new image", () => {
		let app: Application | undefined;
		const kinds: string[] = [];
		node = new SimNode({
			ota: {autoReboot: false, rebootDelaySeconds: 5},
			product: given => {
				app = given;
				given.onOtaEvent(event => kinds.push(event.kind));
			},
		});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-wait", V2, "2.0.0"));
		node.until(() => node!.firmware!.ota.state === "reboot-requested", "installed");
		node.advance(600_000);
		assert.equal(node.restarts, 0, "no reboot of its own, long after rebootDelaySeconds");
		assert.equal(node.firmware!.ota.state, "reboot-requested");
		assert.ok(
			node
				.command("status")
				.includes("update: installed, waiting for the application to reboot into the new firmware"),
		);
		assert.match(node.command("start")[0], /waits for the application to reboot into it/);
		assert.equal(kinds.at(-1), "reboot-requested");
		assert.equal(app!.reboot().ok, true);
		assert.equal(node.restarts, 1);
		node.reboot();
		node.until(() => node!.last("job-wait")?.status === "success", "success");
		assert.equal(node.boots.at(-1)?.info.version, "2.0.0");
	});
});
