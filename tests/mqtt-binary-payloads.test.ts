/*
 * Binary payloads through the MqttSession port (an MQTT file stream's CBOR, docs/protocol.md §5.10),
 * the same checks against both adapters and a real aedes broker: the device's own client
 * (device/mqtt-session.ts over the Moddable socket stand-in) and the host's (mqtt.js). A byte
 * string that is not UTF-8 goes out and comes back unchanged on a topic subscribed as binary; a
 * text topic still gets text.
 */
import {strict as assert} from "node:assert";
import {HostMqttSession} from "../host/adapters/mqtt-session";
import {HostTimers} from "../host/adapters/timers";
import type {Log, MqttSession} from "../rainmaker/ports";
import {startBroker, type TestBroker} from "./support/broker";
import {loadDevice} from "./support/moddable-loader";
import {waitUntil} from "./support/wait";

const quiet: Log = {info() {}, warn() {}, error() {}};
type DeviceModule = {
	DeviceMqttSession: new (config: {[key: string]: unknown}, timers: HostTimers, log: Log) => MqttSession;
};

/** Every byte value, twice, then a lone 0xff: not UTF-8. */
const BYTES = Uint8Array.from({length: 513}, (_, i) => (i === 512 ? 0xff : i & 0xff));

const adapters: [string, (broker: TestBroker) => Promise<MqttSession>][] = [
	[
		"device adapter (device/mqtt-session.ts)",
		async broker => {
			const {DeviceMqttSession} = await loadDevice<DeviceModule>("mqtt-session");
			return new DeviceMqttSession(
				{host: "127.0.0.1", port: broker.port, clientId: "bin-node", keepAliveSeconds: 60, minBackoffMs: 20},
				new HostTimers(),
				quiet,
			);
		},
	],
	[
		"host adapter (host/adapters/mqtt-session.ts)",
		async broker => new HostMqttSession({url: broker.url, clientId: "bin-node", log: quiet, reconnectMinMs: 20}),
	],
];

for (const [name, make] of adapters)
	describe(`binary payloads: ${name}`, function () {
		let broker: TestBroker;
		let session: MqttSession | undefined;
		beforeEach(async () => {
			broker = await startBroker();
		});
		afterEach(async () => {
			session?.close();
			session = undefined;
			await broker.close();
		});

		it("publishes bytes as they are and hands bytes of a binary topic to onBinaryMessage, text to onMessage", async () => {
			session = await make(broker);
			const published: Buffer[] = [];
			broker.aedes.on("publish", (packet, client) => {
				if (client && packet.topic === "$aws/things/bin-node/streams/s/get/cbor")
					published.push(Buffer.from(packet.payload as Buffer));
			});
			const binary: [string, Uint8Array][] = [];
			const text: [string, string][] = [];
			session.onBinaryMessage = (topic, payload) => binary.push([topic, payload.slice()]);
			session.onMessage = (topic, payload) => text.push([topic, payload]);
			session.subscribe("$aws/things/bin-node/streams/s/data/cbor", true);
			session.subscribe("node/bin-node/otaurl");
			session.connect();
			await broker.waitForSubscription("$aws/things/bin-node/streams/s/data/cbor", 1);
			await broker.waitForSubscription("node/bin-node/otaurl", 1);
			await waitUntil(() => session!.connected, "connected");

			const acked = await new Promise<Error | undefined>(resolve =>
				session!.publish("$aws/things/bin-node/streams/s/get/cbor", BYTES, resolve),
			);
			assert.equal(acked, undefined);
			await waitUntil(() => published.length === 1, "the broker got the bytes");
			assert.deepEqual(new Uint8Array(published[0]), BYTES);

			await new Promise<void>((resolve, reject) =>
				broker.aedes.publish(
					{
						cmd: "publish",
						topic: "$aws/things/bin-node/streams/s/data/cbor",
						payload: Buffer.from(BYTES),
						qos: 1,
						retain: false,
						dup: false,
					},
					error => (error ? reject(error) : resolve()),
				),
			);
			await broker.publish("node/bin-node/otaurl", '{"x":"é"}');
			await waitUntil(() => binary.length === 1 && text.length === 1, "both messages");
			assert.equal(binary[0][0], "$aws/things/bin-node/streams/s/data/cbor");
			assert.deepEqual(binary[0][1], BYTES);
			assert.deepEqual(text, [["node/bin-node/otaurl", '{"x":"é"}']]);
		});
	});
