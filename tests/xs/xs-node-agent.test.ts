/*
 * The RainMaker node model and agent running in XS, over the bridged MQTT session to a real
 * broker: config and initial params, a cloud write applied and reported, a refused write.
 */
import assert from "node:assert/strict";
import {startBroker, type TestBroker} from "../support/broker";
import {waitUntil} from "../support/wait";
import {XsGuest} from "./harness/xs-guest";

describe("real XS lane: node model and agent over a real broker", function () {
	this.timeout(30000);
	const nodeId = "xs-switch-1";
	const topic = (suffix: string) => `node/${nodeId}/${suffix}`;
	let broker: TestBroker;
	let guest: XsGuest;

	beforeEach(async () => {
		broker = await startBroker();
		guest = await XsGuest.start({nodeId, brokerUrl: broker.url});
		await guest.request("agent.start", {nodeId});
		await broker.waitFor(m => m.topic === topic("params/local/init"));
		await guest.settle();
	});
	afterEach(async () => {
		await guest.close();
		await broker.close();
	});

	it("publishes the node config and the initial params built in XS", () => {
		const config = JSON.parse(broker.messages.find(m => m.topic === topic("config"))!.payload);
		assert.equal(config.node_id, nodeId);
		assert.equal(config.config_version, "2020-03-20");
		assert.deepEqual(config.info, {
			name: "XS switch",
			fw_version: "1.0.0",
			type: "esp.node.switch",
			model: "rainmaker-ota-xs",
			project_name: "rainmaker-ota-xs",
			platform: "esp32",
		});
		assert.deepEqual(
			config.devices.map((device: {name: string}) => device.name),
			["Switch"],
		);
		assert.deepEqual(
			config.devices[0].params.map((param: {name: string}) => param.name),
			["Power", "Level"],
		);
		assert.deepEqual(JSON.parse(broker.messages.find(m => m.topic === topic("params/local/init"))!.payload), {
			Switch: {Power: false, Level: 10},
		});
		assert.deepEqual(guest.faults, []);
	});

	it("applies a cloud write through the device's callback and reports the new values", async () => {
		await broker.publish(topic("params/remote"), JSON.stringify({Switch: {Power: true, Level: 55}}));
		await broker.waitFor(m => m.topic === topic("params/local"));
		await guest.settle();
		assert.deepEqual(JSON.parse(broker.messages.find(m => m.topic === topic("params/local"))!.payload), {
			Switch: {Power: true, Level: 55},
		});
		const state = (await guest.request("agent.state")) as {
			started: boolean;
			writes: {name: string; value: unknown}[][];
		};
		assert.equal(state.started, true);
		assert.deepEqual(state.writes, [
			[
				{name: "Power", value: true},
				{name: "Level", value: 55},
			],
		]);
	});

	it("refuses a write of the wrong type or out of bounds without applying it", async () => {
		await broker.publish(topic("params/remote"), JSON.stringify({Switch: {Power: "on", Level: 500}}));
		await waitUntil(() => guest.log.lines.some(line => line.level !== "info"), "the refusal in the log");
		await guest.settle();
		const state = (await guest.request("agent.state")) as {writes: unknown[]};
		assert.deepEqual(state.writes, []);
		assert.equal(broker.messages.filter(m => m.topic === topic("params/local")).length, 0);
		assert.deepEqual(guest.faults, []);
	});

	it("survives malformed JSON on params/remote", async () => {
		await broker.publish(topic("params/remote"), '{"Switch": {"Power": tru');
		await waitUntil(() => guest.log.lines.some(line => line.level !== "info"), "the refusal in the log");
		await broker.publish(topic("params/remote"), JSON.stringify({Switch: {Power: true}}));
		await broker.waitFor(m => m.topic === topic("params/local"));
		await guest.settle();
		assert.deepEqual(guest.faults, []);
	});
});
