/*
 * The core MQTT session (rainmaker/mqtt-session.ts) and the node agent over it, on an in-memory
 * transport and the virtual clock: subscriptions renewed on every connect, back-off, connect
 * timeout, PUBACK tracking and in-flight failures, errors naming host and port.
 */
import assert from "node:assert/strict";
import {VirtualTimers} from "../../host/adapters/virtual-timers";
import {NodeAgent} from "../../rainmaker/agent";
import {MQTT_DEFAULTS} from "../../rainmaker/mqtt-session";
import {RecordingLog} from "../support/recording-log";
import {testNode} from "../support/seed-node";
import {MemoryBroker} from "./support/memory-mqtt";

function setup() {
	const timers = new VirtualTimers();
	const broker = new MemoryBroker(timers);
	const log = new RecordingLog();
	const session = broker.session("n1", log);
	return {timers, broker, log, session};
}

const flush = () => new Promise(resolve => setImmediate(resolve));

describe("core MQTT session (in-memory transport)", () => {
	it("subscribes after every CONNACK, before onConnect; first is true once", () => {
		const {timers, broker, session} = setup();
		const firsts: boolean[] = [];
		session.onConnect = first => firsts.push(first);
		session.subscribe("node/n1/otaurl");
		session.connect();
		timers.advance(0);
		assert.deepEqual(session.transport.subscriptions, ["node/n1/otaurl"]);
		broker.dropAll();
		assert.equal(session.connected, false);
		timers.advance(MQTT_DEFAULTS.minBackoffMs);
		assert.deepEqual(session.transport.subscriptions, ["node/n1/otaurl", "node/n1/otaurl"]);
		assert.deepEqual(firsts, [true, false]);
	});

	it("backs off from min to max while refused, resets after a connect, and names host:port in lastError and the log", () => {
		const {timers, broker, session, log} = setup();
		broker.reachable = false;
		session.connect();
		const delays: number[] = [];
		for (let i = 0; i < 7; i++) {
			timers.advance(0);
			delays.push(session.nextRetryDelayMs!);
			timers.advance(session.nextRetryDelayMs!);
		}
		assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000]);
		assert.equal(session.lastError, "connection refused (broker.test:1883)");
		assert.ok(log.messages("warn").includes("mqtt broker.test:1883: connection refused"));
		broker.reachable = true;
		timers.advance(60000);
		assert.equal(session.connected, true);
		broker.dropAll();
		assert.equal(session.nextRetryDelayMs, 1000);
	});

	it("gives up an attempt without CONNACK after the connect timeout", () => {
		const {timers, broker, session, log} = setup();
		broker.answers = false;
		session.connect();
		timers.advance(MQTT_DEFAULTS.connectTimeoutMs);
		assert.ok(
			log
				.messages("warn")
				.includes(`mqtt broker.test:1883: no CONNACK within ${MQTT_DEFAULTS.connectTimeoutMs} ms`),
		);
		assert.equal(session.nextRetryDelayMs, 1000);
		assert.equal(session.transport.opens, 1);
		timers.advance(1000);
		assert.equal(session.transport.opens, 2);
	});

	it("calls done on PUBACK; fails a publish in flight once when the link drops, and one while offline, asynchronously", async () => {
		const {timers, broker, session} = setup();
		const results: string[] = [];
		session.publish("t/a", "1", error => results.push(error ? error.message : "ok"));
		assert.equal(results.length, 0, "never inside publish()");
		await flush();
		assert.deepEqual(results.slice(), ["not connected"]);
		session.connect();
		timers.advance(0);
		session.publish("t/b", "2", error => results.push(error ? error.message : "ok"));
		timers.advance(0);
		assert.deepEqual(results.slice(1), ["ok"]);
		broker.holdAcks = true;
		session.publish("t/c", "3", error => results.push(error ? error.message : "ok"));
		timers.advance(0);
		broker.dropAll("connection reset");
		await flush();
		assert.deepEqual(results.slice(2), ["MQTT link lost before PUBACK (broker.test:1883): connection reset"]);
		timers.advance(60_000);
		await flush();
		assert.equal(results.length, 3, "failed once");
	});

	it("after close(): no reconnect, no timers, connect throws", () => {
		const {timers, session} = setup();
		session.connect();
		timers.advance(0);
		session.close();
		assert.deepEqual(timers.pending(), []);
		assert.throws(() => session.connect(), /closed/);
	});
});

describe("node agent on the core session (in-memory)", () => {
	it("runs the startup chain and reports changes made offline after the reconnect", () => {
		const {timers, broker, session} = setup();
		const agent = new NodeAgent({node: testNode("n1"), session, log: new RecordingLog()});
		agent.start();
		timers.advance(0);
		assert.deepEqual(
			broker.messages.map(m => m.topic),
			["node/n1/config", "node/n1/params/local/init"],
		);
		assert.ok(agent.started);
		broker.dropAll();
		agent.updateParams("Light", {Power: true});
		assert.equal(broker.on("node/n1/params/local").length, 0, "kept while offline");
		timers.advance(1000);
		assert.deepEqual(JSON.parse(broker.on("node/n1/params/local")[0].payload), {Light: {Power: true}});
	});
});
