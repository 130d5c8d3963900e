import assert from "node:assert/strict";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {TLSSocket} from "node:tls";
import {HostMqttSession} from "../host/adapters/mqtt-session";
import type {HostMqttSessionOptions} from "../host/adapters/mqtt-session";
import {VirtualTimers} from "../host/adapters/virtual-timers";
import {makeTestPki} from "../host/pki";
import type {TestPki} from "../host/pki";
import {NodeAgent} from "../rainmaker/agent";
import {startBroker} from "./support/broker";
import type {TestBroker} from "./support/broker";
import {RecordingLog} from "./support/recording-log";
import {testNode} from "./support/seed-node";
import {waitUntil} from "./support/wait";

const nodeId = "node-session-1";

describe("host MQTT session (mqtt.js) against a real broker", () => {
	let pkiDir: string;
	let pki: TestPki;
	let foreignPki: TestPki;
	const cleanups: Array<() => unknown> = [];

	before(() => {
		pkiDir = mkdtempSync(join(tmpdir(), "rmx-session-"));
		pki = makeTestPki(join(pkiDir, "good"), nodeId);
		// Same node id, but a CA the broker does not trust.
		foreignPki = makeTestPki(join(pkiDir, "foreign"), nodeId);
	});

	after(() => rmSync(pkiDir, {recursive: true, force: true}));

	afterEach(async () => {
		for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	});

	async function broker(options?: Parameters<typeof startBroker>[0]): Promise<TestBroker> {
		const started = await startBroker(options);
		cleanups.push(() => started.close());
		return started;
	}

	function session(options: Partial<HostMqttSessionOptions> & {url: string}): {
		session: HostMqttSession;
		timers: VirtualTimers;
		log: RecordingLog;
	} {
		const timers = new VirtualTimers();
		const log = new RecordingLog();
		const created = new HostMqttSession({clientId: nodeId, timers, log, ...options});
		cleanups.push(() => created.close());
		return {session: created, timers, log};
	}

	function tlsBroker(): Promise<TestBroker> {
		return broker({tls: {key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert, requestCert: true}});
	}

	it("runs the node agent over TLS with a client certificate whose CN is the node id", async () => {
		const server = await tlsBroker();
		assert.ok(server.url.startsWith("mqtts://127.0.0.1:"));
		const peers: string[] = [];
		server.aedes.on("clientReady", client => {
			const certificate = (client.conn as TLSSocket).getPeerCertificate();
			peers.push(`${client.id} CN=${certificate.subject.CN}`);
		});
		const {session: tlsSession, log} = session({
			url: server.url,
			ca: pki.caCert,
			cert: pki.clientCert,
			key: pki.clientKey,
		});
		const agent = new NodeAgent({node: testNode(nodeId), session: tlsSession, log});
		agent.start();
		const init = await server.waitFor(message => message.topic === `node/${nodeId}/params/local/init`);
		assert.deepEqual(JSON.parse(init.payload), agent.node.paramsJson());
		assert.equal(server.messages[0].topic, `node/${nodeId}/config`);
		assert.deepEqual(peers, [`${nodeId} CN=${nodeId}`]);
		assert.ok(agent.started && tlsSession.connected);
	});

	const refusals: Array<[string, (good: TestPki, foreign: TestPki) => Partial<HostMqttSessionOptions>]> = [
		[
			"a client certificate from a foreign CA",
			(good, foreign) => ({ca: good.caCert, cert: foreign.clientCert, key: foreign.clientKey}),
		],
		["no client certificate", good => ({ca: good.caCert})],
		[
			"a server the client does not trust",
			(_good, foreign) => ({ca: foreign.caCert, cert: foreign.clientCert, key: foreign.clientKey}),
		],
	];
	for (const [title, credentials] of refusals) {
		it(`never connects with ${title}, and retries with back-off`, async () => {
			const server = await tlsBroker();
			let ready = 0;
			server.aedes.on("clientReady", () => ready++);
			const {session: refused, timers} = session({url: server.url, ...credentials(pki, foreignPki)});
			let connects = 0;
			refused.onConnect = () => connects++;
			refused.connect();
			await waitUntil(() => refused.nextRetryDelayMs !== undefined, "the failed attempt");
			assert.equal(refused.nextRetryDelayMs, 1000);
			assert.ok(refused.lastError, "the refusal is reported");
			timers.advance(1000);
			await waitUntil(() => refused.nextRetryDelayMs !== undefined, "the second failed attempt");
			assert.equal(refused.nextRetryDelayMs, 2000);
			assert.equal(connects, 0);
			assert.equal(refused.connected, false);
			assert.equal(refused.connectionCount, 0);
			assert.equal(ready, 0);
			assert.deepEqual(server.messages, []);
		});
	}

	it("backs off exponentially from min to max while refused, and resets after a successful connect", async () => {
		const server = await broker();
		let attempts = 0;
		let allow = false;
		server.aedes.authenticate = (_client, _username, _password, done) => {
			attempts++;
			if (allow) done(null, true);
			else done(Object.assign(new Error("not authorized"), {returnCode: 5 as const}), false);
		};
		const {session: backingOff, timers} = session({url: server.url, reconnectMinMs: 1000, reconnectMaxMs: 30000});
		backingOff.connect();
		const delays: number[] = [];
		for (let attempt = 1; attempt <= 7; attempt++) {
			await waitUntil(() => backingOff.nextRetryDelayMs !== undefined, `failed attempt ${attempt}`);
			assert.equal(attempts, attempt);
			assert.match(backingOff.lastError ?? "", /Not authorized/i);
			const delay = backingOff.nextRetryDelayMs!;
			delays.push(delay);
			assert.deepEqual(timers.pending(), [delay]);
			if (attempt === 7) allow = true;
			// Nothing happens a millisecond early.
			timers.advance(delay - 1);
			assert.equal(backingOff.nextRetryDelayMs, delay);
			timers.advance(1);
		}
		assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
		await waitUntil(() => backingOff.connected, "the connect after the refusals");
		assert.equal(attempts, 8);
		server.dropClients();
		await waitUntil(() => backingOff.nextRetryDelayMs !== undefined, "the link loss");
		assert.equal(backingOff.nextRetryDelayMs, 1000);
	});

	it("fails a publish at once (asynchronously) while disconnected, before the first connect and after a drop", async () => {
		const server = await broker();
		const {session: offline} = session({url: server.url});
		const results: Array<Error | undefined> = [];
		offline.publish("node/x/a", "1", error => results.push(error));
		assert.equal(results.length, 0, "not called synchronously");
		await Promise.resolve();
		assert.equal(results.length, 1);
		assert.equal(results[0]?.message, "not connected");

		offline.connect();
		await waitUntil(() => offline.connected, "the connect");
		server.dropClients();
		await waitUntil(() => !offline.connected, "the link loss");
		offline.publish("node/x/b", "2", error => results.push(error));
		await Promise.resolve();
		assert.equal(results[1]?.message, "not connected");
		assert.deepEqual(server.messages, []);
	});

	it("calls done on PUBACK, and fails a publish in flight once when the link drops", async () => {
		const server = await broker();
		let heldAtBroker = false;
		server.aedes.authorizePublish = (_client, packet, callback) => {
			// Hold this one: the broker never acknowledges it.
			if (packet.topic !== "hold/me") callback(null);
			else heldAtBroker = true;
		};
		const {session: publisher, timers} = session({url: server.url});
		publisher.connect();
		await waitUntil(() => publisher.connected, "the connect");
		const acked = await new Promise<Error | undefined>(resolve =>
			publisher.publish("node/x/config", "{}", resolve),
		);
		assert.equal(acked, undefined);
		assert.deepEqual(
			server.messages.map(message => message.topic),
			["node/x/config"],
		);
		const held: Array<Error | undefined> = [];
		publisher.publish("hold/me", "x", error => held.push(error));
		await waitUntil(() => heldAtBroker, "the held publish at the broker");
		assert.equal(held.length, 0);
		server.dropClients();
		await waitUntil(() => held.length > 0, "the failure of the held publish");
		// Once reconnected (the back-off runs on the virtual clock) the link loss is behind it: still one call.
		timers.advance(1000);
		await waitUntil(() => publisher.connected, "the reconnect");
		assert.equal(held.length, 1);
		assert.match(held[0]?.message ?? "", /^MQTT link lost before PUBACK \(mqtt:\/\/127\.0\.0\.1:\d+\): /);
	});

	it("renews its subscriptions on every connect and survives a throwing message handler", async () => {
		const server = await broker();
		const subscribes: string[] = [];
		server.aedes.on("subscribe", subscriptions =>
			subscribes.push(...subscriptions.map(subscription => `${subscription.topic}@${subscription.qos}`)),
		);
		const {session: subscriber, timers, log} = session({url: server.url});
		const received: string[] = [];
		subscriber.onMessage = (topic, payload) => {
			if (payload === "boom") throw new Error("handler bug");
			received.push(`${topic} ${payload}`);
		};
		subscriber.subscribe("node/x/otaurl");
		const firsts: boolean[] = [];
		subscriber.onConnect = first => firsts.push(first);
		subscriber.connect();
		await waitUntil(() => subscribes.length === 1, "the first subscription");
		await server.publish("node/x/otaurl", "boom");
		await server.publish("node/x/otaurl", "one");
		await waitUntil(() => received.length === 1, "the first message");
		assert.ok(log.messages("error").includes("mqtt: message handler for node/x/otaurl failed: handler bug"));
		server.dropClients();
		await waitUntil(() => subscriber.nextRetryDelayMs !== undefined, "the link loss");
		timers.advance(subscriber.nextRetryDelayMs!);
		await waitUntil(() => subscribes.length === 2, "the renewed subscription");
		await server.publish("node/x/otaurl", "two");
		await waitUntil(() => received.length === 2, "the message after the reconnect");
		assert.deepEqual(received, ["node/x/otaurl one", "node/x/otaurl two"]);
		assert.deepEqual(subscribes, ["node/x/otaurl@1", "node/x/otaurl@1"]);
		assert.deepEqual(firsts, [true, false]);
		const unsubscribes: string[] = [];
		server.aedes.on("unsubscribe", topics => unsubscribes.push(...topics));
		subscriber.unsubscribe("node/x/otaurl");
		await waitUntil(() => unsubscribes.length === 1, "the unsubscribe");
		assert.deepEqual(unsubscribes, ["node/x/otaurl"]);
	});

	it("stays closed after close(): no reconnect, publishes fail, connect throws", async () => {
		const server = await broker();
		const {session: closing, timers} = session({url: server.url});
		closing.connect();
		await waitUntil(() => closing.connected, "the connect");
		closing.close();
		assert.equal(closing.connected, false);
		await waitUntil(() => server.aedes.connectedClients === 0, "the broker to see the client leave");
		assert.deepEqual(timers.pending(), []);
		const error = await new Promise<Error | undefined>(resolve => closing.publish("node/x/a", "1", resolve));
		assert.equal(error?.message, "not connected");
		assert.throws(() => closing.connect(), /closed/);
	});
});
