/*
 * An in-memory MQTT broker and session for the fast lane: no sockets, every delivery and PUBACK
 * runs as a 0 ms timer of the test's VirtualTimers, so a test drives the whole exchange with
 * timers.advance(). The session keeps the port's promises (QoS 1 PUBACK callbacks, subscriptions
 * renewed on every connect, in-flight publishes failed when the link drops).
 */
import type {MqttSession, PublishDone} from "../../../rainmaker/ports";
import type {VirtualTimers} from "../../../host/adapters/virtual-timers";

export interface Message {
	readonly clientId: string;
	readonly topic: string;
	readonly payload: string;
}

export class MemoryBroker {
	readonly timers: VirtualTimers;
	readonly messages: Message[] = [];
	readonly #sessions = new Set<MemorySession>();
	/** Called for every publish a client makes (the cloud's rules). */
	onPublish?: (message: Message) => void;
	/** False: connections fail (the node retries every second). */
	reachable = true;
	/** Refuses a publish (no PUBACK, the link drops, as an MQTT 3.1.1 broker does). */
	refuse?: (message: Message) => boolean;

	constructor(timers: VirtualTimers) {
		this.timers = timers;
	}

	session(clientId: string): MemorySession {
		return new MemorySession(this, clientId);
	}

	/** Publishes to every session subscribed to `topic` (exact match; the node subscribes to exact topics). */
	publish(topic: string, payload: string): void {
		this.messages.push({clientId: "", topic, payload});
		for (const session of this.#sessions)
			session.deliver(topic, payload);
	}

	on(topic: string): Message[] {
		return this.messages.filter(message => message.topic === topic);
	}

	attach(session: MemorySession): void {
		this.#sessions.add(session);
	}

	detach(session: MemorySession): void {
		this.#sessions.delete(session);
	}

	/** A client's publish arrives. Returns false when the broker refuses it. */
	received(message: Message): boolean {
		if (this.refuse?.(message))
			return false;
		this.messages.push(message);
		this.onPublish?.(message);
		return true;
	}
}

export class MemorySession implements MqttSession {
	onConnect?: (first: boolean) => void;
	onDisconnect?: (reason: string) => void;
	onMessage?: (topic: string, payload: string) => void;
	readonly #broker: MemoryBroker;
	readonly #clientId: string;
	readonly #topics = new Set<string>();
	readonly #inFlight = new Set<PublishDone | undefined>();
	#linkUp = false;
	#closed = false;
	#connections = 0;

	constructor(broker: MemoryBroker, clientId: string) {
		this.#broker = broker;
		this.#clientId = clientId;
	}

	get connected(): boolean {
		return this.#linkUp;
	}

	connect(): void {
		this.#broker.timers.set(() => this.#up(), 0);
	}

	close(): void {
		this.#closed = true;
		this.#down("session closed");
	}

	/** The link drops (the session reconnects after 1 s). */
	drop(reason = "connection lost"): void {
		if (!this.#linkUp)
			return;
		this.#down(reason);
		this.onDisconnect?.(reason);
		this.#broker.timers.set(() => this.#up(), 1000);
	}

	publish(topic: string, payload: string, done?: PublishDone): void {
		const timers = this.#broker.timers;
		if (!this.#linkUp) {
			timers.set(() => done?.(new Error("not connected")), 0);
			return;
		}
		const entry = done ?? (() => {});
		this.#inFlight.add(entry);
		timers.set(() => {
			if (!this.#inFlight.has(entry))
				return;
			if (!this.#broker.received({clientId: this.#clientId, topic, payload})) {
				this.drop("publish refused");
				return;
			}
			this.#inFlight.delete(entry);
			entry();
		}, 0);
	}

	subscribe(topic: string): void {
		this.#topics.add(topic);
	}

	unsubscribe(topic: string): void {
		this.#topics.delete(topic);
	}

	deliver(topic: string, payload: string): void {
		if (!this.#linkUp || !this.#topics.has(topic))
			return;
		this.#broker.timers.set(() => {
			if (this.#linkUp)
				this.onMessage?.(topic, payload);
		}, 0);
	}

	#up(): void {
		if (this.#closed || this.#linkUp)
			return;
		if (!this.#broker.reachable) {
			this.#broker.timers.set(() => this.#up(), 1000);
			return;
		}
		this.#linkUp = true;
		this.#broker.attach(this);
		this.onConnect?.(this.#connections++ === 0);
	}

	#down(reason: string): void {
		this.#linkUp = false;
		this.#broker.detach(this);
		const entries = Array.from(this.#inFlight);
		this.#inFlight.clear();
		for (const entry of entries)
			entry?.(new Error(reason));
	}
}
