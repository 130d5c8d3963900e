/*
 * The MQTT session logic, written once: what outlives a single connection. Subscriptions are
 * remembered and sent again after every CONNACK; a lost link or failed attempt is retried with
 * exponential back-off; every QoS 1 publish is tracked until its PUBACK, and the ones in flight
 * when the link drops fail with an Error (the caller decides what to send again); publishing while
 * offline fails asynchronously; an attempt without CONNACK within the connect timeout is given up.
 * Log lines and `lastError` name the broker's host and port.
 *
 * Below it, a thin transport (MqttTransport) makes one connection at a time: the device adapter
 * frames MQTT 3.1.1 packets over Moddable's sockets (device/mqtt-session.ts), the host adapter wraps
 * mqtt.js (host/adapters/mqtt-session.ts). Like the reference's esp_rmaker_mqtt glue over the
 * esp-mqtt client.
 */
import {errorText as describe} from "./error-text";
import {utf8Decode} from "./utf8";
import type {Log, MqttSession, PublishDone, TimerHandle, Timers} from "./ports";

/** The one set of session defaults (the reference's keep-alive; the device's and host's back-off). */
export const MQTT_DEFAULTS = Object.freeze({
	/** CONFIG_ESP_RMAKER_MQTT_KEEP_ALIVE_INTERVAL. */
	keepAliveSeconds: 120,
	/** First reconnect delay; doubled after each failure (the reference's esp-mqtt waits 10 s between attempts). */
	minBackoffMs: 1000,
	maxBackoffMs: 60000,
	/** Connection attempt (TCP, TLS, CONNECT) to CONNACK. */
	connectTimeoutMs: 30000,
	/** Largest incoming packet the device accepts (bounded memory): otaurl and params/remote are far below it. */
	maxPacketBytes: 8192,
});

export interface MqttSessionTimings {
	readonly minBackoffMs?: number;
	readonly maxBackoffMs?: number;
	readonly connectTimeoutMs?: number;
}

/** What a transport reports about its connection. */
export interface MqttTransportEvents {
	/** The broker accepted the connection (CONNACK 0). */
	connected(): void;
	/** The connection ended or the attempt failed, before or after CONNACK. At most once per open(). */
	lost(reason: string): void;
	/**
	 * An incoming PUBLISH (the transport acknowledges QoS 1 itself); `retained`: its RETAIN flag.
	 * Bytes (valid only during the call) or text already decoded; the session decodes bytes of text topics.
	 */
	message(topic: string, payload: string | Uint8Array, retained: boolean): void;
}

/** One MQTT 3.1.1 connection at a time; nothing here survives a connection. */
export interface MqttTransport {
	/** "host:port" of the broker, for log lines and errors. */
	readonly endpoint: string;
	/** Starts a connection attempt (TCP/TLS, CONNECT with clean session). Throws when it cannot even start. */
	open(events: MqttTransportEvents): void;
	/** Ends the current connection at once (DISCONNECT when it can); no events afterwards. */
	close(): void;
	/** Sends a QoS 1 PUBLISH (a string as UTF-8); `acked` runs on its PUBACK. Throws when the packet cannot be sent. */
	publish(topic: string, payload: string | Uint8Array, acked: () => void): void;
	/** Sends SUBSCRIBE at QoS 1. */
	subscribe(topics: readonly string[]): void;
	unsubscribe(topics: readonly string[]): void;
}

export class ReconnectingMqttSession implements MqttSession {
	onConnect?: (first: boolean) => void;
	onDisconnect?: (reason: string) => void;
	onMessage?: (topic: string, payload: string, retained: boolean) => void;
	onBinaryMessage?: (topic: string, payload: Uint8Array) => void;

	readonly #transport: MqttTransport;
	readonly #timers: Timers;
	readonly #log: Log;
	readonly #minBackoffMs: number;
	readonly #maxBackoffMs: number;
	readonly #connectTimeoutMs: number;
	readonly #topics = new Set<string>();
	readonly #binaryTopics = new Set<string>();
	readonly #inFlight = new Set<{done?: PublishDone}>();
	#linkUp = false;
	#started = false;
	#closed = false;
	#connections = 0;
	#failures = 0;
	#generation = 0; // identifies the current attempt, so late events of an old one are ignored
	#retryTimer: TimerHandle | undefined;
	#retryDelay: number | undefined;
	#connectTimer: TimerHandle | undefined;
	#lastError: string | undefined;

	constructor(transport: MqttTransport, timers: Timers, log: Log, timings: MqttSessionTimings = {}) {
		this.#transport = transport;
		this.#timers = timers;
		this.#log = log;
		this.#minBackoffMs = timings.minBackoffMs ?? MQTT_DEFAULTS.minBackoffMs;
		this.#maxBackoffMs = timings.maxBackoffMs ?? MQTT_DEFAULTS.maxBackoffMs;
		this.#connectTimeoutMs = timings.connectTimeoutMs ?? MQTT_DEFAULTS.connectTimeoutMs;
	}

	get connected(): boolean {
		return this.#linkUp;
	}

	/** The last connection error with the broker's host and port, for diagnostics. */
	get lastError(): string | undefined {
		return this.#lastError;
	}

	/** Delay of the scheduled reconnect attempt, undefined when none is scheduled. */
	get nextRetryDelayMs(): number | undefined {
		return this.#retryTimer ? this.#retryDelay : undefined;
	}

	/** Number of CONNACKs received so far. */
	get connectionCount(): number {
		return this.#connections;
	}

	connect(): void {
		if (this.#closed) throw new Error("MQTT session closed: it cannot connect again");
		if (this.#started) return;
		this.#started = true;
		this.#open();
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#generation++;
		this.#timers.clear(this.#retryTimer);
		this.#timers.clear(this.#connectTimer);
		this.#retryTimer = this.#connectTimer = undefined;
		this.#linkUp = false;
		try {
			this.#transport.close();
		} catch (error) {
			this.#log.warn(`mqtt ${this.#transport.endpoint}: close failed: ${describe(error)}`);
		}
		this.#failInFlight("session closed");
	}

	publish(topic: string, payload: string | Uint8Array, done?: PublishDone): void {
		if (!this.#linkUp) {
			if (done) later(() => done(new Error("not connected")));
			return;
		}
		const entry: {done?: PublishDone} = {done};
		this.#inFlight.add(entry);
		try {
			this.#transport.publish(topic, payload, () => {
				if (this.#inFlight.delete(entry)) entry.done?.();
			});
		} catch (error) {
			this.#inFlight.delete(entry);
			if (done) later(() => done(error instanceof Error ? error : new Error(String(error))));
		}
	}

	subscribe(topic: string, binary = false): void {
		if (binary) this.#binaryTopics.add(topic);
		else this.#binaryTopics.delete(topic);
		if (this.#topics.has(topic)) return;
		this.#topics.add(topic);
		if (this.#linkUp) this.#send(() => this.#transport.subscribe([topic]));
	}

	unsubscribe(topic: string): void {
		// A binary topic stays marked: bytes still in flight after the unsubscribe are not read as text.
		if (!this.#topics.delete(topic)) return;
		if (this.#linkUp) this.#send(() => this.#transport.unsubscribe([topic]));
	}

	#open(): void {
		const generation = ++this.#generation;
		const current = () => generation === this.#generation && !this.#closed;
		this.#connectTimer = this.#timers.set(() => {
			this.#connectTimer = undefined;
			if (current() && !this.#linkUp) this.#lost(`no CONNACK within ${this.#connectTimeoutMs} ms`, true);
		}, this.#connectTimeoutMs);
		try {
			this.#transport.open({
				connected: () => {
					if (current()) this.#up();
				},
				lost: reason => {
					if (current()) this.#lost(reason, false);
				},
				message: (topic, payload, retained) => {
					if (!current()) return;
					try {
						if (this.#binaryTopics.has(topic)) {
							if (typeof payload !== "string") this.onBinaryMessage?.(topic, payload);
						} else
							this.onMessage?.(
								topic,
								typeof payload === "string" ? payload : utf8Decode(payload),
								retained,
							);
					} catch (error) {
						this.#log.error(`mqtt: message handler for ${topic} failed: ${describe(error)}`);
					}
				},
			});
		} catch (error) {
			this.#lost(`cannot open a connection: ${describe(error)}`, true);
		}
	}

	#up(): void {
		this.#timers.clear(this.#connectTimer);
		this.#connectTimer = undefined;
		this.#linkUp = true;
		this.#failures = 0;
		this.#lastError = undefined;
		if (this.#topics.size > 0) this.#send(() => this.#transport.subscribe(Array.from(this.#topics)));
		if (!this.#linkUp)
			// the subscribe could not be sent: the link is gone again
			return;
		const first = this.#connections === 0;
		this.#connections++;
		this.#log.info(`mqtt: connected to ${this.#transport.endpoint}`);
		try {
			this.onConnect?.(first);
		} catch (error) {
			this.#log.error(`mqtt: connect handler failed: ${describe(error)}`);
		}
	}

	/** The attempt or link ended; `closeTransport` when the core decided it (timeout, a failed send). */
	#lost(reason: string, closeTransport: boolean): void {
		const wasUp = this.#linkUp;
		this.#generation++;
		this.#linkUp = false;
		this.#timers.clear(this.#connectTimer);
		this.#connectTimer = undefined;
		if (closeTransport) {
			try {
				this.#transport.close();
			} catch {
				// going away anyway
			}
		}
		this.#lastError = `${reason} (${this.#transport.endpoint})`;
		this.#log.warn(`mqtt ${this.#transport.endpoint}: ${reason}`);
		this.#failInFlight(reason);
		if (wasUp) {
			try {
				this.onDisconnect?.(reason);
			} catch (error) {
				this.#log.error(`mqtt: disconnect handler failed: ${describe(error)}`);
			}
		}
		if (this.#closed) return;
		const delay = Math.min(this.#maxBackoffMs, this.#minBackoffMs * 2 ** Math.min(this.#failures, 30));
		this.#failures++;
		this.#retryDelay = delay;
		this.#log.info(`mqtt ${this.#transport.endpoint}: reconnecting in ${delay} ms`);
		this.#retryTimer = this.#timers.set(() => {
			this.#retryTimer = undefined;
			if (!this.#closed) this.#open();
		}, delay);
	}

	/** Runs a transport send; a throw drops the link (callers never see it). */
	#send(send: () => void): void {
		try {
			send();
		} catch (error) {
			this.#lost(`write failed: ${describe(error)}`, true);
		}
	}

	#failInFlight(reason: string): void {
		const entries = Array.from(this.#inFlight);
		this.#inFlight.clear();
		const error = new Error(`MQTT link lost before PUBACK (${this.#transport.endpoint}): ${reason}`);
		for (const entry of entries) {
			const done = entry.done;
			if (done) later(() => done(error));
		}
	}
}

/** Port callbacks run asynchronously, never inside the caller's call (a microtask: XS and Node both have them). */
function later(callback: () => void): void {
	void Promise.resolve().then(callback);
}
