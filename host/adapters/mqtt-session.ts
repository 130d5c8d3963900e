/*
 * MqttSession port on the npm `mqtt` client (MQTT 3.1.1, clean session, QoS 1).
 *
 * Reconnection and re-subscription are done here, not by mqtt.js: every connection attempt is a
 * fresh client with mqtt.js's own reconnect and resubscribe turned off. That makes the behaviour
 * the port's (as the reference glue does: exponential back-off, subscribe again to every stored
 * topic on each connect, then report "connected") and lets tests drive the back-off with a
 * virtual clock. Publishes in flight when a link drops fail with an Error instead of being
 * resent by the library on a later link, so the caller decides what to send again.
 */
import mqtt from "mqtt";
import type {IClientOptions, MqttClient} from "mqtt";
import type {Log, MqttSession, PublishDone, TimerHandle, Timers} from "../../rainmaker/ports";
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
	/** Default 120, the reference's CONFIG_ESP_RMAKER_MQTT_KEEP_ALIVE_INTERVAL. */
	keepaliveSeconds?: number;
	/** First reconnect delay; doubled after each failed attempt up to reconnectMaxMs. Default 1000. */
	reconnectMinMs?: number;
	/** Default 30000. */
	reconnectMaxMs?: number;
	/** Time allowed for TCP/TLS/CONNACK of one attempt. Default 30000. */
	connectTimeoutMs?: number;
	log?: Log;
	/** Timers of the back-off. Default HostTimers. */
	timers?: Timers;
}

interface InFlight {
	done?: PublishDone;
}

/** OpenSSL errors span lines; a log line keeps the first. */
function firstLine(text: string): string {
	return text.split("\n")[0].trim();
}

const silentLog: Log = {info() {}, warn() {}, error() {}};

export class HostMqttSession implements MqttSession {
	onConnect?: (first: boolean) => void;
	onDisconnect?: (reason: string) => void;
	onMessage?: (topic: string, payload: string) => void;

	private readonly options: HostMqttSessionOptions;
	private readonly log: Log;
	private readonly timers: Timers;
	private readonly reconnectMinMs: number;
	private readonly reconnectMaxMs: number;
	private readonly topics = new Set<string>();
	private readonly inFlight = new Set<InFlight>();
	private client?: MqttClient;
	private linkUp = false;
	private started = false;
	private closed = false;
	private connections = 0;
	private failedAttempts = 0;
	private retryTimer?: TimerHandle;
	private lastErrorText?: string;
	private retryDelay?: number;

	constructor(options: HostMqttSessionOptions) {
		this.options = options;
		this.log = options.log ?? silentLog;
		this.timers = options.timers ?? new HostTimers();
		this.reconnectMinMs = options.reconnectMinMs ?? 1000;
		this.reconnectMaxMs = options.reconnectMaxMs ?? 30000;
	}

	get connected(): boolean {
		return this.linkUp;
	}

	/** The last connection error (TLS refusal, CONNACK refusal, socket error), for diagnostics. */
	get lastError(): string | undefined {
		return this.lastErrorText;
	}

	/** Delay of the scheduled reconnect attempt, undefined when none is scheduled. */
	get nextRetryDelayMs(): number | undefined {
		return this.retryTimer ? this.retryDelay : undefined;
	}

	/** Number of CONNACKs received so far. */
	get connectionCount(): number {
		return this.connections;
	}

	connect(): void {
		if (this.closed)
			throw new Error("MQTT session: closed sessions cannot connect again");
		if (this.started)
			return;
		this.started = true;
		this.attempt();
	}

	close(): void {
		if (this.closed)
			return;
		this.closed = true;
		this.timers.clear(this.retryTimer);
		this.retryTimer = undefined;
		const client = this.client;
		this.client = undefined;
		this.linkUp = false;
		this.failInFlight(new Error("session closed"));
		client?.end(true);
	}

	publish(topic: string, payload: string, done?: PublishDone): void {
		const client = this.client;
		if (!this.linkUp || !client) {
			if (done)
				queueMicrotask(() => done(new Error("not connected")));
			return;
		}
		const entry: InFlight = {done};
		this.inFlight.add(entry);
		client.publish(topic, payload, {qos: 1, retain: false}, (error) => {
			if (this.inFlight.delete(entry))
				entry.done?.(error ?? undefined);
		});
	}

	subscribe(topic: string): void {
		this.topics.add(topic);
		if (this.linkUp && this.client)
			this.sendSubscribe(this.client, [topic]);
	}

	unsubscribe(topic: string): void {
		this.topics.delete(topic);
		if (this.linkUp && this.client) {
			this.client.unsubscribe(topic, (error) => {
				if (error)
					this.log.warn(`mqtt: unsubscribe ${topic} failed: ${error.message}`);
			});
		}
	}

	private attempt(): void {
		const options: IClientOptions = {
			clientId: this.options.clientId,
			protocolVersion: 4,
			clean: true,
			keepalive: this.options.keepaliveSeconds ?? 120,
			reconnectPeriod: 0,
			resubscribe: false,
			connectTimeout: this.options.connectTimeoutMs ?? 30000,
		};
		if (this.options.username !== undefined)
			options.username = this.options.username;
		if (this.options.ca !== undefined)
			options.ca = this.options.ca;
		if (this.options.cert !== undefined)
			options.cert = this.options.cert;
		if (this.options.key !== undefined)
			options.key = this.options.key;
		if (this.options.alpn !== undefined)
			options.ALPNProtocols = this.options.alpn;
		this.lastErrorText = undefined;
		const client = mqtt.connect(this.options.url, options);
		this.client = client;
		let ended = false;
		client.on("connect", () => {
			if (client !== this.client)
				return;
			this.failedAttempts = 0;
			this.lastErrorText = undefined;
			if (this.topics.size > 0)
				this.sendSubscribe(client, Array.from(this.topics));
			this.linkUp = true;
			const first = this.connections === 0;
			this.connections++;
			this.log.info(`mqtt: connected to ${this.options.url} as ${this.options.clientId}`);
			try {
				this.onConnect?.(first);
			} catch (error) {
				this.log.error(`mqtt: connect handler failed: ${error instanceof Error ? error.message : String(error)}`);
			}
		});
		client.on("message", (topic, payload) => {
			if (client !== this.client)
				return;
			try {
				this.onMessage?.(topic, payload.toString("utf8"));
			} catch (error) {
				this.log.error(`mqtt: message handler for ${topic} failed: ${error instanceof Error ? error.message : String(error)}`);
			}
		});
		client.on("error", (error) => {
			if (client !== this.client)
				return;
			const text = firstLine(error.message);
			// mqtt.js reports a TLS verification error twice (from its TLS wrapper and its stream handler).
			if (text !== this.lastErrorText)
				this.log.warn(`mqtt: ${text}`);
			this.lastErrorText = text;
		});
		// mqtt.js passes on only stream errors that have a code; a TLS alert from the broker (for
		// example a refused client certificate) has none, so listen to the stream itself too.
		client.stream?.on("error", (error: Error) => {
			if (client === this.client)
				this.lastErrorText = firstLine(error.message);
		});
		client.on("close", () => {
			if (ended || client !== this.client)
				return;
			ended = true;
			if (!this.linkUp && this.lastErrorText === undefined)
				this.lastErrorText = "connection closed before CONNACK";
			this.linkLost(client);
		});
	}

	private linkLost(client: MqttClient): void {
		const wasUp = this.linkUp;
		this.linkUp = false;
		this.client = undefined;
		this.failInFlight(new Error("connection lost"));
		client.end(true);
		const reason = this.lastErrorText ?? "connection closed";
		if (wasUp) {
			try {
				this.onDisconnect?.(reason);
			} catch (error) {
				this.log.error(`mqtt: disconnect handler failed: ${error instanceof Error ? error.message : String(error)}`);
			}
		}
		if (this.closed)
			return;
		const delay = Math.min(this.reconnectMaxMs, this.reconnectMinMs * 2 ** Math.min(this.failedAttempts, 30));
		this.failedAttempts++;
		this.retryDelay = delay;
		this.log.info(`mqtt: ${wasUp ? "link lost" : "connection failed"} (${reason}); next attempt in ${delay} ms`);
		this.retryTimer = this.timers.set(() => {
			this.retryTimer = undefined;
			if (!this.closed)
				this.attempt();
		}, delay);
	}

	private sendSubscribe(client: MqttClient, topics: string[]): void {
		client.subscribe(topics, {qos: 1}, (error, granted) => {
			if (error) {
				this.log.warn(`mqtt: subscribe ${topics.join(", ")} failed: ${error.message}`);
				return;
			}
			for (const grant of granted ?? []) {
				if (grant.qos === 128)
					this.log.warn(`mqtt: broker refused the subscription to ${grant.topic}`);
			}
		});
	}

	private failInFlight(error: Error): void {
		const entries = Array.from(this.inFlight);
		this.inFlight.clear();
		for (const entry of entries)
			entry.done?.(error);
	}
}
