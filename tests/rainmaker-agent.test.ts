import assert from "node:assert/strict";
import {NodeAgent} from "../rainmaker/agent";
import {utf8Length} from "../rainmaker/utf8";
import type {JsonValue, ParamWrite, WriteSource} from "../rainmaker/model";
import type {TopicForm} from "../rainmaker/topics";
import {RULE_OTA_FETCH} from "../rainmaker/topics";
import {HostMqttSession} from "../host/adapters/mqtt-session";
import {VirtualTimers} from "../host/adapters/virtual-timers";
import {startBroker} from "./support/broker";
import type {TestBroker} from "./support/broker";
import {RecordingLog} from "./support/recording-log";
import {testNode} from "./support/seed-node";
import {waitUntil} from "./support/wait";

interface Rig {
	broker: TestBroker;
	agent: NodeAgent;
	session: HostMqttSession;
	timers: VirtualTimers;
	log: RecordingLog;
	/** Every call of a device's onWrite: device name, param names and values, source. */
	writes: Array<{device: string; values: {[param: string]: JsonValue}; source: WriteSource}>;
	/** Payloads the node published on a suffix, in order (either topic form). */
	published(suffix: string): unknown[];
	/** Resolves when the agent has connected `count` times in all. */
	connections(count: number): Promise<void>;
	/** Index in broker.subscriptions where the current link's subscriptions start. */
	linkSubscriptionsStart(): number;
}

const nodeId = "node-agent-1";
const rigs: Rig[] = [];

async function makeRig(options: {topicForm?: TopicForm; broker?: TestBroker} = {}): Promise<Rig> {
	const broker = options.broker ?? (await startBroker());
	const timers = new VirtualTimers();
	const log = new RecordingLog();
	const session = new HostMqttSession({url: broker.url, clientId: nodeId, timers, log});
	const node = testNode(nodeId);
	const agent = new NodeAgent({node, session, log, topicForm: options.topicForm});
	const writes: Rig["writes"] = [];
	for (const device of node.devices) {
		device.onWrite = (accepted: ReadonlyArray<ParamWrite>, source: WriteSource) => {
			const values: {[param: string]: JsonValue} = {};
			for (const write of accepted) values[write.param.name] = write.value;
			writes.push({device: device.name, values, source});
		};
	}
	let connectCount = 0;
	let linkSubscriptionsStart = 0;
	agent.onConnected(() => {
		connectCount++;
		linkSubscriptionsStart = broker.subscriptions.length;
	});
	const rig: Rig = {
		broker,
		agent,
		session,
		timers,
		log,
		writes,
		published(suffix) {
			return broker.messages
				.filter(
					message =>
						message.clientId === nodeId &&
						(message.topic === `node/${nodeId}/${suffix}` ||
							new RegExp(`^\\$aws/rules/[^/]+/node/${nodeId}/${suffix}$`).test(message.topic)),
				)
				.map(message => JSON.parse(message.payload));
		},
		connections(count) {
			return waitUntil(() => connectCount >= count, `${count} connection(s)`);
		},
		linkSubscriptionsStart: () => linkSubscriptionsStart,
	};
	rigs.push(rig);
	return rig;
}

/**
 * Publishes on params/remote once the current link's subscription is in place (resolves once the
 * broker routed the message, not once the node handled it).
 */
async function remoteWrite(rig: Rig, payload: string): Promise<void> {
	const topic = `node/${nodeId}/params/remote`;
	const start = rig.linkSubscriptionsStart();
	await waitUntil(
		() => rig.broker.subscriptions.slice(start).some(subscription => subscription.topic === topic),
		"the params/remote subscription of this link",
	);
	await rig.broker.publish(topic, payload);
}

afterEach(async () => {
	for (const rig of rigs.splice(0)) {
		rig.agent.stop();
		await rig.broker.close();
	}
});

describe("rainmaker node agent over a real broker", () => {
	it("runs the startup chain on the first CONNACK: connected listener, config, subscribe params/remote, init params, started", async () => {
		const broker = await startBroker();
		const timeline: string[] = [];
		broker.aedes.on("subscribe", subscriptions => {
			for (const subscription of subscriptions)
				timeline.push(`subscribe ${subscription.topic} qos ${subscription.qos}`);
		});
		broker.aedes.on("publish", (packet, client) => {
			if (client) timeline.push(`publish ${packet.topic} qos ${packet.qos} retain ${packet.retain}`);
		});
		const rig = await makeRig({broker});
		const events: string[] = [];
		rig.agent.onConnected(first =>
			events.push(`connected first=${first} started=${rig.agent.started} published=${broker.messages.length}`),
		);
		rig.agent.onStarted(() => events.push(`started ${rig.agent.started}`));
		assert.equal(rig.agent.started, false);
		rig.agent.start();
		await broker.waitFor(message => message.topic.endsWith("/params/local/init"));
		assert.deepEqual(events, ["connected first=true started=false published=0", "started true"]);
		assert.deepEqual(timeline, [
			`publish node/${nodeId}/config qos 1 retain false`,
			`subscribe node/${nodeId}/params/remote qos 1`,
			`publish node/${nodeId}/params/local/init qos 1 retain false`,
		]);
		assert.deepEqual(rig.published("config")[0], rig.agent.node.configJson());
		assert.deepEqual(rig.published("params/local/init")[0], rig.agent.node.paramsJson());
		assert.deepEqual((rig.published("params/local/init")[0] as {OTA: unknown}).OTA, {Operation: "", Info: {}});
		// A listener added after the start fires at once.
		let late = 0;
		rig.agent.onStarted(() => late++);
		assert.equal(late, 1);
	});

	it("publishes the basic-ingest form when asked, subscribing on the plain form", async () => {
		const rig = await makeRig({topicForm: "basic-ingest"});
		rig.agent.start();
		await rig.broker.waitFor(message => message.topic.endsWith("/params/local/init"));
		assert.deepEqual(
			rig.broker.messages.filter(message => message.clientId === nodeId).map(message => message.topic),
			[
				`$aws/rules/esp_node_config/node/${nodeId}/config`,
				`$aws/rules/esp_init_params/node/${nodeId}/params/local/init`,
			],
		);
		await remoteWrite(rig, '{"Light":{"Power":true}}');
		const report = await rig.broker.waitFor(message => message.topic.endsWith("/params/local"));
		assert.equal(report.topic, `$aws/rules/esp_set_params/node/${nodeId}/params/local`);
		assert.deepEqual(JSON.parse(report.payload), {Light: {Power: true}});
	});

	it("applies the valid params of a message, refuses the others with a log line, and keeps commands unstored", async () => {
		const rig = await makeRig();
		rig.agent.start();
		await rig.broker.waitFor(message => message.topic.endsWith("/params/local/init"));
		await remoteWrite(
			rig,
			JSON.stringify({
				Light: {Power: true, Brightness: 500, Nope: 1, Firmware: "2.0"},
				Ghost: {Power: true},
				OTA: {Operation: "check", Info: {job_id: "x"}},
			}),
		);
		const report = await rig.broker.waitFor(message => message.topic === `node/${nodeId}/params/local`);
		assert.deepEqual(JSON.parse(report.payload), {Light: {Power: true}});
		assert.deepEqual(rig.writes, [
			{device: "Light", values: {Power: true}, source: "cloud"},
			{device: "OTA", values: {Operation: "check"}, source: "cloud"},
		]);
		const node = rig.agent.node;
		assert.equal(node.device("Light")?.param("Power")?.value, true);
		assert.equal(node.device("Light")?.param("Brightness")?.value, 50);
		// Operation is a write-only command: delivered to onWrite, not stored, not reported.
		assert.equal(node.device("OTA")?.param("Operation")?.value, "");
		assert.deepEqual(node.device("OTA")?.param("Info")?.value, {});
		const warnings = rig.log.messages("warn");
		assert.ok(
			warnings.includes("rainmaker: params/remote: Light.Brightness refused: value 500 outside bounds 0..100"),
			warnings.join("\n"),
		);
		assert.ok(warnings.includes("rainmaker: params/remote: Light.Nope refused: unknown param"));
		assert.ok(warnings.includes("rainmaker: params/remote: Light.Firmware refused: param is not writable"));
		assert.ok(warnings.includes('rainmaker: params/remote: unknown device "Ghost" skipped'));
		assert.ok(warnings.includes("rainmaker: params/remote: OTA.Info refused: param is not writable"));
	});

	it("stores and reports nothing when the write callback refuses or throws, and keeps working", async () => {
		const rig = await makeRig();
		const light = rig.agent.node.device("Light")!;
		let verdict: "refuse" | "throw" | "accept" = "refuse";
		light.onWrite = () => {
			if (verdict === "throw") throw new Error("flash busy");
			return verdict === "accept";
		};
		rig.agent.start();
		await rig.broker.waitFor(message => message.topic.endsWith("/params/local/init"));
		await remoteWrite(rig, '{"Light":{"Brightness":10}}');
		await waitUntil(
			() => rig.log.messages("info").includes("rainmaker: params/remote: Light refused the write of Brightness"),
			"the refusal logged",
		);
		verdict = "throw";
		await remoteWrite(rig, '{"Light":{"Brightness":20}}');
		await waitUntil(
			() => rig.log.messages("error").some(line => line.includes("flash busy")),
			"the callback's exception logged",
		);
		verdict = "accept";
		await remoteWrite(rig, '{"Light":{"Brightness":30}}');
		await rig.broker.waitFor(message => message.topic === `node/${nodeId}/params/local`);
		assert.deepEqual(rig.published("params/local"), [{Light: {Brightness: 30}}]);
		assert.equal(light.param("Brightness")?.value, 30);
		assert.ok(
			rig.log
				.messages("error")
				.includes("rainmaker: params/remote: write callback of Light failed: flash busy; nothing stored"),
		);
	});

	it("refuses 30+ distinct malformed params/remote messages, then applies a valid write, and nothing else changed", async () => {
		const rig = await makeRig();
		rig.agent.start();
		await rig.broker.waitFor(message => message.topic.endsWith("/params/local/init"));
		const node = rig.agent.node;
		const paramsBefore = JSON.stringify(node.paramsJson());
		const configBefore = JSON.stringify(node.configJson());
		const oversize = JSON.stringify({Light: {Name: "x".repeat(4100)}});
		// 1400 three-byte characters: 1400 UTF-16 units but over 4096 bytes.
		const oversizeMultibyte = JSON.stringify({Light: {Name: "€".repeat(1400)}});
		assert.ok(oversizeMultibyte.length < 4096 && utf8Length(oversizeMultibyte) > 4096);
		const malformed: Array<[string, string]> = [
			["not json", "invalid JSON"],
			["", "invalid JSON"],
			['{"Light":', "invalid JSON"],
			['{"Light":{"Power":true}', "invalid JSON"],
			["{'Light':{'Power':true}}", "invalid JSON"],
			["null", "top level must be an object, not null"],
			["[]", "top level must be an object, not an array"],
			['[{"Light":{"Power":true}}]', "top level must be an object, not an array"],
			['"Light"', "top level must be an object, not string"],
			["42", "top level must be an object, not number"],
			["true", "top level must be an object, not boolean"],
			['{"Ghost":{"Power":true}}', 'unknown device "Ghost"'],
			['{"light":{"Power":true}}', 'unknown device "light"'],
			['{"__proto__":{"Power":true}}', 'unknown device "__proto__"'],
			['{"Light":true}', "Light: expected an object of params"],
			['{"Light":[{"Power":true}]}', "Light: expected an object of params"],
			['{"OTA":null}', "OTA: expected an object of params"],
			['{"Light":{"Nope":1}}', "Light.Nope refused: unknown param"],
			['{"Light":{"power":true}}', "Light.power refused: unknown param"],
			['{"Light":{"Power":"yes"}}', "Light.Power refused: expected bool, got string"],
			['{"Light":{"Power":1}}', "Light.Power refused: expected bool, got int"],
			['{"Light":{"Brightness":120}}', "Light.Brightness refused: value 120 outside bounds 0..100"],
			['{"Light":{"Brightness":-1}}', "Light.Brightness refused: value -1 outside bounds 0..100"],
			['{"Light":{"Brightness":50.5}}', "Light.Brightness refused: expected int, got float"],
			['{"Light":{"Brightness":"50"}}', "Light.Brightness refused: expected int, got string"],
			['{"Light":{"Brightness":null}}', "Light.Brightness refused: expected int, got null"],
			['{"Light":{"Brightness":1e400}}', "Light.Brightness refused: expected int, got float"],
			['{"Light":{"Speed":"fast"}}', "Light.Speed refused: expected float, got string"],
			['{"Light":{"Speed":10.5}}', "Light.Speed refused: value 10.5 outside bounds 0..10"],
			['{"Light":{"Name":12}}', "Light.Name refused: expected string, got int"],
			['{"Light":{"Mode":"turbo"}}', 'Light.Mode refused: "turbo" is not one of warm, cold'],
			['{"Light":{"Mode":5}}', "Light.Mode refused: expected string, got int"],
			['{"Light":{"Config":[1,2]}}', "Light.Config refused: expected object, got array"],
			['{"Light":{"Config":"{}"}}', "Light.Config refused: expected object, got string"],
			['{"Light":{"List":{"a":1}}}', "Light.List refused: expected array, got object"],
			['{"Light":{"Firmware":"9.9"}}', "Light.Firmware refused: param is not writable"],
			['{"OTA":{"Info":{"job_id":"x"}}}', "OTA.Info refused: param is not writable"],
			['{"OTA":{"Operation":"reboot"}}', 'OTA.Operation refused: "reboot" is not one of check, start'],
			['{"OTA":{"Operation":""}}', 'OTA.Operation refused: "" is not one of check, start'],
			['{"OTA":{"Operation":["start"]}}', "OTA.Operation refused: expected string, got array"],
			[oversize, `refused: ${utf8Length(oversize)} bytes exceed the limit of 4096`],
			[oversizeMultibyte, `refused: ${utf8Length(oversizeMultibyte)} bytes exceed the limit of 4096`],
		];
		assert.equal(new Set(malformed.map(([payload]) => payload)).size, malformed.length, "distinct messages");
		assert.ok(malformed.length >= 30);
		for (const [payload] of malformed) await remoteWrite(rig, payload);
		await remoteWrite(rig, '{"Light":{"Brightness":75}}');
		const report = await rig.broker.waitFor(message => message.topic === `node/${nodeId}/params/local`);
		assert.deepEqual(JSON.parse(report.payload), {Light: {Brightness: 75}});
		// Each malformed message left its own clear warning, in order.
		const warnings = rig.log.messages("warn");
		assert.equal(warnings.length, malformed.length, warnings.join("\n"));
		malformed.forEach(([payload, reason], index) => {
			assert.ok(
				warnings[index].includes(reason),
				`message ${index} ${JSON.stringify(payload.slice(0, 60))}: "${warnings[index]}" lacks "${reason}"`,
			);
		});
		// Only the valid write reached a callback, changed a value and produced a report.
		assert.deepEqual(rig.writes, [{device: "Light", values: {Brightness: 75}, source: "cloud"}]);
		const expected = JSON.parse(paramsBefore) as {Light: {Brightness: number}};
		expected.Light.Brightness = 75;
		assert.deepEqual(node.paramsJson(), expected);
		assert.equal(JSON.stringify(node.configJson()), configBefore);
		assert.deepEqual(rig.published("params/local"), [{Light: {Brightness: 75}}]);
		assert.equal(rig.published("config").length, 1);
		assert.equal(rig.published("params/local/init").length, 1);
		assert.ok(rig.session.connected && rig.agent.started);
		assert.deepEqual(rig.log.messages("error"), []);
	});

	it("after a broker drop reconnects, re-subscribes, reports the offline changes, and sends no new config or init params", async () => {
		const rig = await makeRig();
		const firsts: boolean[] = [];
		rig.agent.onConnected(first => firsts.push(first));
		let startedCount = 0;
		rig.agent.onStarted(() => startedCount++);
		rig.agent.start();
		await rig.broker.waitFor(message => message.topic.endsWith("/params/local/init"));
		rig.agent.updateParams("Light", {Name: "Desk"});
		await rig.broker.waitFor(message => message.topic === `node/${nodeId}/params/local`);

		rig.broker.dropClients();
		await waitUntil(() => !rig.session.connected, "the link loss");
		assert.ok(rig.log.messages("warn").some(line => line.startsWith("rainmaker: MQTT link lost")));
		rig.agent.updateParams("Light", {Brightness: 20, Power: true});
		rig.agent.updateParams("Light", {Brightness: 30});
		rig.agent.updateParams("OTA", {Info: {job_id: "j1", fw_version: "2.0.0"}});
		assert.equal(rig.published("params/local").length, 1, "nothing is published while offline");

		assert.deepEqual(rig.timers.pending(), [1000]);
		rig.timers.advance(1000);
		await rig.connections(2);
		const offlineReport = await rig.broker.waitFor(
			message => message.topic === `node/${nodeId}/params/local` && message.payload.includes("Brightness"),
		);
		assert.deepEqual(JSON.parse(offlineReport.payload), {
			Light: {Brightness: 30, Power: true},
			OTA: {Info: {job_id: "j1", fw_version: "2.0.0"}},
		});

		// The session subscribed again by itself (clean session: the broker forgot the first subscription).
		await remoteWrite(rig, '{"Light":{"Mode":"cold"}}');
		const remoteReport = await rig.broker.waitFor(
			message => message.topic === `node/${nodeId}/params/local` && message.payload.includes("Mode"),
		);
		assert.deepEqual(JSON.parse(remoteReport.payload), {Light: {Mode: "cold"}});
		assert.equal(rig.agent.node.device("Light")?.param("Mode")?.value, "cold");

		assert.deepEqual(firsts, [true, false]);
		assert.equal(startedCount, 1);
		assert.equal(rig.published("config").length, 1);
		assert.equal(rig.published("params/local/init").length, 1);
		assert.deepEqual(rig.published("params/local"), [
			{Light: {Name: "Desk"}},
			{Light: {Brightness: 30, Power: true}, OTA: {Info: {job_id: "j1", fw_version: "2.0.0"}}},
			{Light: {Mode: "cold"}},
		]);
	});

	it("sends the config and init params again after a reconnect when the broker never acknowledged them", async () => {
		const broker = await startBroker();
		let hold = true;
		const held: string[] = [];
		broker.aedes.authorizePublish = (_client, packet, callback) => {
			// The first link: the broker takes the config and init params but never acknowledges or routes them.
			if (hold) held.push(packet.topic);
			else callback(null);
		};
		const rig = await makeRig({broker});
		rig.agent.start();
		await waitUntil(() => held.length === 2 && rig.agent.started, "the held config and init params");
		hold = false;
		broker.dropClients();
		await waitUntil(
			() => rig.log.messages("error").some(line => line.startsWith("rainmaker: node config report failed")),
			"the failed config report",
		);
		rig.timers.advance(1000);
		await broker.waitFor(message => message.topic === `node/${nodeId}/params/local/init`);
		assert.deepEqual(held, [`node/${nodeId}/config`, `node/${nodeId}/params/local/init`]);
		assert.ok(rig.log.messages("error").some(line => line.startsWith("rainmaker: init params report failed")));
		assert.equal(rig.published("config").length, 1);
		assert.deepEqual(rig.published("config")[0], rig.agent.node.configJson());
		assert.deepEqual(rig.published("params/local/init")[0], rig.agent.node.paramsJson());
		// The params/remote subscription was renewed too.
		await remoteWrite(rig, '{"Light":{"Power":true}}');
		await broker.waitFor(message => message.topic === `node/${nodeId}/params/local`);
	});

	it("keeps firmware changes made before the start in the init report and refuses bad firmware updates", async () => {
		const rig = await makeRig();
		rig.agent.updateParams("Light", {Brightness: 5});
		rig.agent.updateParams("Light", {Brightness: "high", Nope: 1});
		rig.agent.updateParams("Ghost", {Power: true});
		rig.agent.start();
		const init = await rig.broker.waitFor(message => message.topic.endsWith("/params/local/init"));
		assert.equal((JSON.parse(init.payload) as {Light: {Brightness: number}}).Light.Brightness, 5);
		assert.deepEqual(rig.log.messages("error"), [
			"rainmaker: update of Light.Brightness skipped: expected int, got string",
			"rainmaker: update of unknown param Light.Nope skipped",
			'rainmaker: update of unknown device "Ghost" skipped',
		]);
		assert.equal(rig.published("params/local").length, 0);
	});

	it("publishes, subscribes and unsubscribes for other modules (the OTA flow)", async () => {
		const rig = await makeRig();
		const received: string[] = [];
		rig.agent.onStarted(() => rig.agent.subscribe("otaurl", payload => received.push(payload)));
		rig.agent.start();
		await rig.connections(1);
		const error = await new Promise<Error | undefined>(resolve =>
			rig.agent.publish("otafetch", RULE_OTA_FETCH, '{"node_id":"x","fw_version":"1.0.0"}', resolve),
		);
		assert.equal(error, undefined);
		assert.ok(
			rig.broker.messages.some(message => message.topic === `node/${nodeId}/otafetch`),
			"the PUBACK came after the broker had the message",
		);
		await rig.broker.waitForSubscription(`node/${nodeId}/otaurl`);
		await rig.broker.publish(`node/${nodeId}/otaurl`, '{"ota_job_id":"j"}');
		await waitUntil(() => received.length === 1, "otaurl delivered");
		assert.deepEqual(received, ['{"ota_job_id":"j"}']);
		rig.agent.unsubscribe("otaurl");
		await rig.broker.publish(`node/${nodeId}/otaurl`, '{"ota_job_id":"k"}');
		// A params/remote write after the unsubscribe proves the broker processed it in order.
		await remoteWrite(rig, '{"Light":{"Power":true}}');
		await rig.broker.waitFor(message => message.topic === `node/${nodeId}/params/local`);
		assert.deepEqual(received, ['{"ota_job_id":"j"}']);
	});
});
