/*
 * device/mqtt-session.ts (the firmware's own MQTT 3.1.1 client over Moddable's socket /
 * securesocket) against a real aedes broker on 127.0.0.1, through the socket stand-ins that keep
 * Moddable's callback protocol and its "can't write all data" limit.
 */
import {strict as assert} from "node:assert";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {createPrivateKey, X509Certificate} from "node:crypto";
import {createServer, type AddressInfo} from "node:net";
import Aedes from "aedes";
import {startBroker, type TestBroker} from "./support/broker";
import {loadDevice} from "./support/moddable-loader";
import {HostTimers} from "../host/adapters/timers";
import {makeTestPki, type TestPki} from "../host/pki";
import type {Log, MqttSession, PublishDone} from "../rainmaker/ports";
import {secureSocketLog} from "./support/moddable/securesocket";
import {waitUntil} from "./support/wait";

interface SessionConfig {
	host: string;
	port: number;
	clientId: string;
	username?: string;
	keepAliveSeconds: number;
	tls?: {ca: ArrayBuffer; certificate: ArrayBuffer; key: ArrayBuffer; alpn?: string};
	minBackoffMs: number;
	maxBackoffMs: number;
	connectTimeoutMs: number;
	maxPacketBytes: number;
}
type SessionModule = {DeviceMqttSession: new (config: SessionConfig, timers: HostTimers, log: Log) => MqttSession};

const quietLog: Log = {info() {}, warn() {}, error() {}};

function derOf(pem: string): ArrayBuffer {
	const raw = new X509Certificate(pem).raw;
	return raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
}

const until = (condition: () => boolean, what: string, timeoutMs = 5000) => waitUntil(condition, what, timeoutMs);

function published(session: MqttSession, topic: string, payload: string): Promise<Error | undefined> {
	return new Promise(resolve => session.publish(topic, payload, (error => resolve(error)) as PublishDone));
}

describe("device MQTT session (Moddable socket stand-in, real aedes broker)", function () {
	let DeviceMqttSession: SessionModule["DeviceMqttSession"];
	let broker: TestBroker;
	let session: MqttSession | undefined;
	const timers = new HostTimers();

	const config = (overrides: Partial<SessionConfig> = {}): SessionConfig => ({
		host: "127.0.0.1",
		port: broker.port,
		clientId: "node-a",
		keepAliveSeconds: 60,
		minBackoffMs: 20,
		maxBackoffMs: 200,
		connectTimeoutMs: 2000,
		maxPacketBytes: 4096,
		...overrides,
	});

	before(async () => {
		({DeviceMqttSession} = await loadDevice<SessionModule>("mqtt-session"));
	});
	beforeEach(async () => {
		broker = await startBroker();
	});
	afterEach(async () => {
		session?.close();
		session = undefined;
		await broker.close();
	});

	it("connects with the node id as client id, publishes at QoS 1 and reports the PUBACK", async () => {
		session = new DeviceMqttSession(config(), timers, quietLog);
		const firsts: boolean[] = [];
		session.onConnect = first => firsts.push(first);
		session.connect();
		await until(() => session!.connected, "CONNACK");
		assert.deepEqual(firsts, [true]);
		const error = await published(session, "node/node-a/params/local", '{"x":"é ✓"}');
		assert.equal(error, undefined);
		const message = await broker.waitFor(m => m.topic === "node/node-a/params/local");
		assert.equal(message.payload, '{"x":"é ✓"}');
		assert.equal(message.clientId, "node-a");
	});

	it("subscribes at QoS 1, delivers messages, and renews subscriptions after a dropped link", async () => {
		session = new DeviceMqttSession(config(), timers, quietLog);
		const received: [string, string][] = [];
		const connects: boolean[] = [];
		const disconnects: string[] = [];
		session.onMessage = (topic, payload) => received.push([topic, payload]);
		session.onConnect = first => connects.push(first);
		session.onDisconnect = reason => disconnects.push(reason);
		session.subscribe("node/node-a/otaurl");
		session.connect();
		await broker.waitForSubscription("node/node-a/otaurl", 1);
		assert.equal(broker.subscriptions.find(s => s.topic === "node/node-a/otaurl")?.qos, 1);
		await broker.publish("node/node-a/otaurl", '{"url":"first"}');
		await until(() => received.length === 1, "first message");

		broker.dropClients();
		await until(() => disconnects.length === 1, "disconnect");
		assert.equal(session.connected, false);
		await broker.waitForSubscription("node/node-a/otaurl", 2);
		await until(() => session!.connected, "reconnect");
		assert.deepEqual(connects, [true, false]);
		await broker.publish("node/node-a/otaurl", '{"url":"second"}');
		await until(() => received.length === 2, "second message");
		assert.deepEqual(
			received.map(([, payload]) => payload),
			['{"url":"first"}', '{"url":"second"}'],
		);
	});

	it("fails a publish whose PUBACK can no longer come, and a publish while offline, asynchronously", async () => {
		session = new DeviceMqttSession(config(), timers, quietLog);
		let syncError: Error | undefined | "pending" = "pending";
		session.publish("t", "early", error => {
			syncError = error;
		});
		assert.equal(syncError, "pending", "done must not run inside publish()");
		await until(() => syncError !== "pending", "offline publish failure");
		assert.match(String((syncError as unknown as Error).message), /not connected/);

		// a broker that never acknowledges: aedes' authorizePublish callback withheld
		let arrived = false;
		broker.aedes.authorizePublish = () => {
			arrived = true;
		};
		session.connect();
		await until(() => session!.connected, "CONNACK");
		const outcome = published(session, "node/node-a/otastatus", "{}");
		await until(() => arrived, "the publish at the broker");
		broker.dropClients();
		const error = await outcome;
		assert.ok(error instanceof Error);
		assert.match(error.message, /link lost before PUBACK/);
	});

	it("splits packets larger than the socket's write room (Moddable throws instead of buffering)", async () => {
		session = new DeviceMqttSession(config(), timers, quietLog);
		session.connect();
		await until(() => session!.connected, "CONNACK");
		const big = "x".repeat(5000); // > 1024-byte write buffer of the socket stand-in
		assert.equal(await published(session, "big/topic", big), undefined);
		assert.equal((await broker.waitFor(m => m.topic === "big/topic")).payload.length, 5000);
	});

	it("drops the link on an incoming packet over the limit and reconnects (bounded memory)", async () => {
		session = new DeviceMqttSession(config({maxPacketBytes: 256}), timers, quietLog);
		const disconnects: string[] = [];
		session.onDisconnect = reason => disconnects.push(reason);
		session.subscribe("node/node-a/params/remote");
		session.connect();
		await broker.waitForSubscription("node/node-a/params/remote", 1);
		await broker.publish("node/node-a/params/remote", "y".repeat(1000));
		await until(() => disconnects.length === 1, "drop");
		assert.match(disconnects[0], /exceeds the limit of 256/);
		await until(() => session!.connected, "reconnect");
	});

	it("keeps retrying with growing back-off while the broker is away, then connects on its own", async () => {
		const port = broker.port;
		await broker.close();
		const delays: number[] = [];
		const log: Log = {
			info: m => {
				const match = /reconnecting in (\d+) ms/.exec(m);
				if (match) delays.push(Number(match[1]));
			},
			warn() {},
			error() {},
		};
		session = new DeviceMqttSession(config({port}), timers, log);
		session.connect();
		await until(() => delays.length >= 4, "four failed attempts");
		assert.equal(session.connected, false);
		assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 160]);
		// a broker comes back on the same port: the session's next attempt succeeds
		const aedes = new Aedes();
		const server = createServer(socket => aedes.handle(socket));
		await new Promise<void>(resolve => server.listen(port, "127.0.0.1", () => resolve()));
		try {
			await until(() => session!.connected, "reconnect to the returning broker");
		} finally {
			session.close();
			session = undefined;
			await new Promise<void>(resolve => aedes.close(() => resolve()));
			await new Promise<void>(resolve => server.close(() => resolve()));
		}
		broker = await startBroker();
	});

	it("keeps an idle link alive with PINGREQ and drops a broker that stops answering (keep-alive timeout)", async () => {
		// keep-alive 0.2 s: PINGREQ after 150 ms of silence, failure after 300 ms without any packet
		session = new DeviceMqttSession(config({keepAliveSeconds: 0.2}), timers, quietLog);
		const disconnects: string[] = [];
		session.onDisconnect = reason => disconnects.push(reason);
		session.connect();
		// Four PINGREQs answered: more than twice the 300 ms without a packet after which an
		// unanswered (or unread) PINGRESP would have dropped the link.
		let pings = 0;
		const onPing = () => pings++;
		broker.aedes.on("ping", onPing);
		try {
			await until(() => session!.connected, "CONNACK");
			await until(() => pings >= 4, "four PINGREQs");
		} finally {
			broker.aedes.off("ping", onPing);
		}
		assert.equal(disconnects.length, 0, "aedes answers the pings");
		session.close();
		assert.equal(disconnects.length, 0, "close() is not reported as a lost link");

		// a server that sends CONNACK, then nothing
		const silent = createServer(socket => {
			socket.once("data", () => socket.write(Buffer.of(0x20, 2, 0, 0)));
			socket.on("error", () => {});
		});
		await new Promise<void>(resolve => silent.listen(0, "127.0.0.1", () => resolve()));
		try {
			session = new DeviceMqttSession(
				config({port: (silent.address() as AddressInfo).port, keepAliveSeconds: 0.2}),
				timers,
				quietLog,
			);
			session.onDisconnect = reason => disconnects.push(reason);
			session.connect();
			await until(() => disconnects.length === 1, "keep-alive timeout");
			assert.equal(disconnects[0], "keep-alive timeout");
		} finally {
			session?.close();
			session = undefined;
			silent.close();
		}
	});

	it("gives up a connection attempt without CONNACK after the connect timeout, and retries", async () => {
		const mute = createServer(socket => socket.on("error", () => {}));
		await new Promise<void>(resolve => mute.listen(0, "127.0.0.1", () => resolve()));
		const warnings: string[] = [];
		try {
			session = new DeviceMqttSession(
				config({port: (mute.address() as AddressInfo).port, connectTimeoutMs: 100}),
				timers,
				{info() {}, warn: m => warnings.push(m), error() {}},
			);
			session.connect();
			await until(
				() => warnings.filter(w => /no CONNACK within 100 ms/.test(w)).length >= 2,
				"two timed-out attempts",
			);
			assert.equal(session.connected, false);
		} finally {
			session?.close();
			session = undefined;
			mute.close();
		}
	});

	it("rejects a configuration without host, port or client id with a clear error", () => {
		assert.throws(() => new DeviceMqttSession(config({host: ""}), timers, quietLog), /MQTT host is not configured/);
		assert.throws(() => new DeviceMqttSession(config({port: 0}), timers, quietLog), /not a port number/);
		assert.throws(() => new DeviceMqttSession(config({clientId: ""}), timers, quietLog), /client id/);
	});

	describe("over TLS with a client certificate (RainMaker's mutual X.509)", () => {
		let dir: string;
		let pki: TestPki;
		let tlsBroker: TestBroker;

		before(() => {
			dir = mkdtempSync(join(tmpdir(), "device-mqtt-"));
			pki = makeTestPki(dir, "node-tls");
		});
		after(() => rmSync(dir, {recursive: true, force: true}));
		beforeEach(async () => {
			tlsBroker = await startBroker({
				tls: {key: pki.serverKey, cert: pki.serverCert + pki.caCert, ca: pki.caCert, requestCert: true},
			});
		});
		afterEach(async () => {
			session?.close();
			session = undefined;
			await tlsBroker.close();
		});

		const tlsConfig = (key: ArrayBuffer) =>
			config({
				port: tlsBroker.port,
				clientId: "node-tls",
				tls: {ca: derOf(pki.caCert), certificate: derOf(pki.clientCert), key, alpn: "x-amzn-mqtt-ca"},
			});

		it("connects with the CA, certificate and PKCS#8 key in DER and asks for the ALPN protocol", async () => {
			const key = pki.clientKeyPkcs8Der;
			session = new DeviceMqttSession(
				tlsConfig(key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength) as ArrayBuffer),
				timers,
				quietLog,
			);
			session.connect();
			await until(() => session!.connected, "TLS CONNACK");
			assert.equal(await published(session, "node/node-tls/config", "{}"), undefined);
			assert.equal((await tlsBroker.waitFor(m => m.topic === "node/node-tls/config")).clientId, "node-tls");
			const secure = secureSocketLog[secureSocketLog.length - 1].secure;
			assert.equal(secure.applicationLayerProtocolNegotiation, "x-amzn-mqtt-ca");
			assert.equal(secure.protocolVersion, 0x0303);
		});

		it("does not connect with a PKCS#1 (not PKCS#8) DER key, and keeps retrying instead of crashing", async () => {
			const pkcs1 = createPrivateKey(pki.clientKey).export({type: "pkcs1", format: "der"});
			const bad = pkcs1.buffer.slice(pkcs1.byteOffset, pkcs1.byteOffset + pkcs1.byteLength) as ArrayBuffer;
			const warnings: string[] = [];
			session = new DeviceMqttSession(tlsConfig(bad), timers, {
				info() {},
				warn: m => warnings.push(m),
				error() {},
			});
			session.connect();
			await until(() => warnings.filter(w => /cannot open/.test(w)).length >= 2, "two failed attempts");
			assert.equal(session.connected, false);
		});
	});
});
