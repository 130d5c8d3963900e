/*
 * The MqttSession contract (rainmaker/ports.ts), for every adapter, against a real broker (aedes on
 * 127.0.0.1): onConnect(first) after each CONNACK, QoS 1 publishes whose `done` runs once (on the
 * PUBACK, or with an Error when the session cannot send), subscriptions remembered and renewed on
 * every reconnect, the RETAIN flag passed on, unsubscribe, and close() ending the session for good.
 * The session's own timers (back-off, connect timeout) run on the virtual clock, so "it did not
 * reconnect" is checked after the clock passed every back-off; "nothing arrived" by a later
 * message on the same connection, which the broker delivers in order.
 */
import {strict as assert} from "node:assert";
import {VirtualTimers} from "../../../host/adapters/virtual-timers";
import type {MqttSession, Timers} from "../../../rainmaker/ports";
import {startBroker, type TestBroker} from "../broker";
import {waitUntil} from "../wait";

/**
 * Opens a session to the broker with client id `clientId`, its timers `timers`, a back-off of
 * 20 to 200 ms and a connect timeout of 60 s.
 */
export type MqttSessionSubject = (
	broker: {url: string; host: string; port: number},
	clientId: string,
	timers: Timers,
) => MqttSession;

/** The longest back-off the subjects are given. */
const MAX_BACKOFF_MS = 200;

interface Recorded {
	readonly connects: boolean[];
	readonly disconnects: string[];
	readonly messages: {topic: string; payload: string; retained: boolean}[];
}

function record(session: MqttSession): Recorded {
	const recorded: Recorded = {connects: [], disconnects: [], messages: []};
	session.onConnect = first => recorded.connects.push(first);
	session.onDisconnect = reason => recorded.disconnects.push(reason);
	session.onMessage = (topic, payload, retained) => recorded.messages.push({topic, payload, retained});
	return recorded;
}

function published(session: MqttSession, topic: string, payload: string): Promise<(Error | undefined)[]> {
	const calls: (Error | undefined)[] = [];
	return new Promise(resolve =>
		session.publish(topic, payload, error => {
			calls.push(error);
			// a second call would land here too: wait a turn of the loop before handing the calls on
			setImmediate(() => resolve(calls));
		}),
	);
}

export function mqttSessionContract(name: string, open: () => Promise<MqttSessionSubject>): void {
	describe(`MqttSession contract (rainmaker/ports.ts): ${name}`, () => {
		let subject: MqttSessionSubject;
		let broker: TestBroker;
		let session: MqttSession | undefined;
		let timers: VirtualTimers;
		/** Client ids of every connection the broker accepted, in order. */
		let clients: string[];
		const connect = (clientId: string) => {
			session = subject({url: broker.url, host: "127.0.0.1", port: broker.port}, clientId, timers);
			return session;
		};
		/** Waits for `condition`, letting the virtual clock run (a back-off falls due) between checks. */
		const runUntil = (condition: () => boolean, what: string) =>
			waitUntil(
				() => {
					if (condition()) return true;
					timers.advance(20);
					return false;
				},
				what,
				10_000,
			);

		before(async () => {
			subject = await open();
		});
		beforeEach(async () => {
			broker = await startBroker();
			timers = new VirtualTimers();
			clients = [];
			broker.aedes.on("client", client => clients.push(client.id));
		});
		afterEach(async () => {
			session?.close();
			session = undefined;
			await broker.close();
		});

		it("connects: onConnect(true), connected, a QoS 1 publish reaches the broker from the node id and done() runs once without an error", async () => {
			const node = connect("node-c1");
			const recorded = record(node);
			assert.equal(node.connected, false);
			node.connect();
			await waitUntil(() => recorded.connects.length > 0, "the CONNACK");
			assert.deepEqual(recorded.connects, [true]);
			assert.equal(node.connected, true);
			assert.deepEqual(await published(node, "node/node-c1/params/local", '{"a":1}'), [undefined]);
			const message = await broker.waitFor(m => m.topic === "node/node-c1/params/local");
			assert.equal(message.payload, '{"a":1}');
			assert.equal(message.clientId, "node-c1");
		});

		it("subscribes (also before connecting), delivers messages with retained false, and unsubscribes", async () => {
			const node = connect("node-c2");
			const recorded = record(node);
			node.subscribe("node/node-c2/otaurl");
			node.subscribe("node/node-c2/params/remote");
			node.connect();
			await broker.waitForSubscription("node/node-c2/otaurl");
			await broker.waitForSubscription("node/node-c2/params/remote");
			await broker.publish("node/node-c2/otaurl", '{"url":"x"}');
			await waitUntil(() => recorded.messages.length === 1, "the message");
			assert.deepEqual(recorded.messages, [
				{topic: "node/node-c2/otaurl", payload: '{"url":"x"}', retained: false},
			]);
			node.unsubscribe("node/node-c2/otaurl");
			await waitUntil(
				() => broker.aedes.connectedClients > 0 && !hasSubscription(broker, "node-c2", "node/node-c2/otaurl"),
				"the UNSUBSCRIBE",
			);
			await broker.publish("node/node-c2/otaurl", "after unsubscribe");
			await broker.publish("node/node-c2/params/remote", "marker");
			await waitUntil(() => recorded.messages.some(m => m.payload === "marker"), "the marker");
			assert.deepEqual(
				recorded.messages.map(m => m.payload),
				['{"url":"x"}', "marker"],
				"nothing on the unsubscribed topic",
			);
		});

		it("passes the RETAIN flag on: a retained message delivered on subscribe has retained true", async () => {
			await new Promise<void>((resolve, reject) =>
				broker.aedes.publish(
					{
						cmd: "publish",
						topic: "node/node-c3/config",
						payload: Buffer.from("kept"),
						qos: 1,
						retain: true,
						dup: false,
					},
					error => (error ? reject(error) : resolve()),
				),
			);
			const node = connect("node-c3");
			const recorded = record(node);
			node.subscribe("node/node-c3/config");
			node.connect();
			await waitUntil(() => recorded.messages.length === 1, "the retained message");
			assert.deepEqual(recorded.messages, [{topic: "node/node-c3/config", payload: "kept", retained: true}]);
		});

		it("after a lost link: onDisconnect, then it reconnects by itself with onConnect(false) and its subscriptions renewed", async () => {
			const node = connect("node-c4");
			const recorded = record(node);
			node.subscribe("node/node-c4/otaurl");
			node.connect();
			await broker.waitForSubscription("node/node-c4/otaurl", 1);
			await waitUntil(() => recorded.connects.length === 1, "the first CONNACK");
			broker.dropClients();
			await waitUntil(() => recorded.disconnects.length === 1, "onDisconnect");
			assert.equal(typeof recorded.disconnects[0], "string");
			await runUntil(() => recorded.connects.length === 2 && node.connected, "the second CONNACK");
			await broker.waitForSubscription("node/node-c4/otaurl", 2);
			assert.deepEqual(recorded.connects, [true, false]);
			await broker.publish("node/node-c4/otaurl", "again");
			await waitUntil(() => recorded.messages.length === 1, "a message after the reconnect");
			assert.equal(recorded.messages[0].payload, "again");
		});

		it("a publish it cannot send (not connected yet, or closed) ends in done(Error), once", async () => {
			const node = connect("node-c5");
			const before = await published(node, "node/node-c5/otastatus", "{}");
			assert.equal(before.length, 1);
			assert.ok(before[0] instanceof Error, "not connected: an Error");
			const recorded = record(node);
			node.connect();
			await waitUntil(() => recorded.connects.length === 1, "the CONNACK");
			node.close();
			assert.equal(node.connected, false);
			const after = await published(node, "node/node-c5/otastatus", "{}");
			assert.equal(after.length, 1);
			assert.ok(after[0] instanceof Error, "closed: an Error");
		});

		it("close() ends the session for good: no reconnect when the broker is there", async () => {
			const node = connect("node-c6");
			const recorded = record(node);
			node.subscribe("node/node-c6/otaurl");
			node.connect();
			await waitUntil(() => recorded.connects.length === 1, "the CONNACK");
			node.close();
			await waitUntil(() => broker.aedes.connectedClients === 0, "the broker to see the client go");
			timers.advance(10 * MAX_BACKOFF_MS); // every back-off falls due: a session still alive would dial now
			// Another client's connection, made after that, is a marker: a dial of the closed session would be before it.
			const other = connect("node-c6b");
			const otherRecorded = record(other);
			other.connect();
			await waitUntil(() => otherRecorded.connects.length === 1, "the other client's CONNACK");
			assert.deepEqual(clients, ["node-c6", "node-c6b"]);
			assert.deepEqual(recorded.connects, [true]);
			other.close();
		});
	});
}

function hasSubscription(broker: TestBroker, clientId: string, topic: string): boolean {
	const client = (broker.aedes as unknown as {clients: {[id: string]: {subscriptions?: {[topic: string]: unknown}}}})
		.clients[clientId];
	return client?.subscriptions?.[topic] !== undefined;
}
