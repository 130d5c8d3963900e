/*
 * MqttSession on the npm `mqtt` client (MQTT 3.1.1, clean session, QoS 1): the session logic is the
 * core's (rainmaker/mqtt-session.ts: subscriptions, back-off, PUBACK tracking, failing publishes
 * in flight); this adapter only wraps one mqtt.js client per connection attempt, with mqtt.js's own
 * reconnect and resubscribe turned off, so a publish in flight when a link drops fails instead of
 * being resent by the library on a later link, and tests drive the back-off on a virtual clock.
 */
import mqtt from "mqtt";
import type {IClientOptions, MqttClient} from "mqtt";
import {
	MQTT_DEFAULTS,
	ReconnectingMqttSession,
	type MqttTransport,
	type MqttTransportEvents,
} from "../../rainmaker/mqtt-session";
import type {Log, Timers} from "../../rainmaker/ports";
import {HostTimers} from "./timers";

export interface HostMqttSessionOptions {
	/** mqtt://127.0.0.1:1883 or mqtts://host:port. */
	url: string;
	/** The node id. */
	clientId: string;
	ca?: string | Buffer;
	cert?: string | Buffer;
	key?: string | Buffer;
	/** ALPN protocols, for example ["x-amzn-mqtt-ca"] for AWS IoT on port 443. */
	alpn?: string[];
	/** Sent as the MQTT username when set (the reference sends an AWS "PPI" string; a local broker accepts any). */
	username?: string;
	/** Default MQTT_DEFAULTS.keepAliveSeconds. */
	keepaliveSeconds?: number;
	/** First reconnect delay; doubled after each failed attempt up to reconnectMaxMs (defaults: MQTT_DEFAULTS). */
	reconnectMinMs?: number;
	reconnectMaxMs?: number;
	/** Time allowed for TCP/TLS/CONNACK of one attempt (default MQTT_DEFAULTS). */
	connectTimeoutMs?: number;
	log?: Log;
	/** Timers of the back-off. Default HostTimers. */
	timers?: Timers;
}

/** OpenSSL errors span lines; a log line keeps the first. */
function firstLine(text: string): string {
	return text.split("\n")[0].trim();
}

const silentLog: Log = {info() {}, warn() {}, error() {}};

/** "mqtt(s)://host:port" of a broker URL (default port filled in). */
function endpointOf(url: string): string {
	try {
		const parsed = new URL(url);
		return `${parsed.protocol}//${parsed.host.replace(/:\d+$/, "")}:${parsed.port || (parsed.protocol === "mqtts:" ? "8883" : "1883")}`;
	} catch {
		return url;
	}
}

/** One mqtt.js client per connection attempt. */
class MqttJsTransport implements MqttTransport {
	readonly endpoint: string;
	readonly #options: HostMqttSessionOptions;
	readonly #log: Log;
	#client: MqttClient | undefined;

	constructor(options: HostMqttSessionOptions, log: Log) {
		this.#options = options;
		this.#log = log;
		this.endpoint = endpointOf(options.url);
	}

	open(events: MqttTransportEvents): void {
		const o = this.#options;
		const options: IClientOptions = {
			clientId: o.clientId,
			protocolVersion: 4,
			clean: true,
			keepalive: o.keepaliveSeconds ?? MQTT_DEFAULTS.keepAliveSeconds,
			reconnectPeriod: 0,
			resubscribe: false,
			connectTimeout: o.connectTimeoutMs ?? MQTT_DEFAULTS.connectTimeoutMs,
		};
		if (o.username !== undefined) options.username = o.username;
		if (o.ca !== undefined) options.ca = o.ca;
		if (o.cert !== undefined) options.cert = o.cert;
		if (o.key !== undefined) options.key = o.key;
		if (o.alpn !== undefined) options.ALPNProtocols = o.alpn;
		const client = mqtt.connect(o.url, options);
		this.#client = client;
		let connected = false;
		let lastError: string | undefined;
		let ended = false;
		client.on("connect", () => {
			connected = true;
			events.connected();
		});
		client.on("message", (topic, payload, packet) =>
			events.message(
				topic,
				new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
				packet.retain,
			),
		);
		client.on("error", error => {
			lastError = firstLine(error.message);
		});
		// mqtt.js passes on only stream errors that have a code; a TLS alert from the broker (for
		// example a refused client certificate) has none, so listen to the stream itself too.
		client.stream?.on("error", (error: Error) => {
			lastError ??= firstLine(error.message);
		});
		client.on("close", () => {
			if (ended || client !== this.#client) return;
			ended = true;
			this.#client = undefined;
			client.end(true);
			events.lost(lastError ?? (connected ? "connection closed" : "connection closed before CONNACK"));
		});
	}

	close(): void {
		const client = this.#client;
		this.#client = undefined;
		client?.end(true);
	}

	publish(topic: string, payload: string | Uint8Array, acked: () => void): void {
		const client = this.#client;
		if (!client) throw new Error("not connected");
		const body =
			typeof payload === "string" ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
		client.publish(topic, body, {qos: 1, retain: false}, error => {
			if (!error) acked();
		});
	}

	subscribe(topics: readonly string[]): void {
		this.#client?.subscribe([...topics], {qos: 1}, (error, granted) => {
			if (error) {
				this.#log.warn(`mqtt: subscribe ${topics.join(", ")} failed: ${error.message}`);
				return;
			}
			for (const grant of granted ?? []) {
				if (grant.qos === 128) this.#log.warn(`mqtt: broker refused the subscription to ${grant.topic}`);
			}
		});
	}

	unsubscribe(topics: readonly string[]): void {
		this.#client?.unsubscribe([...topics], error => {
			if (error) this.#log.warn(`mqtt: unsubscribe ${topics.join(", ")} failed: ${error.message}`);
		});
	}
}

export class HostMqttSession extends ReconnectingMqttSession {
	constructor(options: HostMqttSessionOptions) {
		const log = options.log ?? silentLog;
		super(new MqttJsTransport(options, log), options.timers ?? new HostTimers(), log, {
			minBackoffMs: options.reconnectMinMs,
			maxBackoffMs: options.reconnectMaxMs,
			connectTimeoutMs: options.connectTimeoutMs,
		});
	}
}
