/*
 * An in-memory MQTT broker for the fast lane, and a transport to it under the core session
 * (rainmaker/mqtt-session.ts): no sockets; every CONNACK, delivery and PUBACK runs as a 0 ms timer
 * of the test's VirtualTimers, so a test drives the whole exchange with timers.advance(), and the
 * session logic under test is the firmware's own.
 */
import {ReconnectingMqttSession, type MqttTransport, type MqttTransportEvents} from "../../../rainmaker/mqtt-session";
import type {Log} from "../../../rainmaker/ports";
import type {VirtualTimers} from "../../../host/adapters/virtual-timers";

export interface Message {
	readonly clientId: string;
	readonly topic: string;
	/** The text ("" for a binary publish). */
	readonly payload: string;
	/** The bytes of a binary publish (an MQTT file stream's CBOR). */
	readonly bytes?: Uint8Array;
}

const quiet: Log = {info() {}, warn() {}, error() {}};

export class MemoryBroker {
	readonly timers: VirtualTimers;
	readonly messages: Message[] = [];
	readonly #links = new Set<MemoryTransport>();
	/** Called for every publish a client makes (the cloud's rules). */
	onPublish?: (message: Message) => void;
	/** False: connection attempts are refused. */
	reachable = true;
	/** Answer CONNECT at all (false: the attempt hangs until the session's connect timeout). */
	answers = true;
	/** Refuses a publish: no PUBACK, the link drops (as an MQTT 3.1.1 broker does). */
	refuse?: (message: Message) => boolean;
	/** Withholds PUBACKs (the publish stays in flight). */
	holdAcks = false;

	constructor(timers: VirtualTimers) {
		this.timers = timers;
	}

	/** A session of the core over a transport to this broker. */
	session(clientId: string, log: Log = quiet): ReconnectingMqttSession & {transport: MemoryTransport} {
		const transport = new MemoryTransport(this, clientId);
		const session = new ReconnectingMqttSession(transport, this.timers, log) as ReconnectingMqttSession & {
			transport: MemoryTransport;
		};
		session.transport = transport;
		return session;
	}

	/** Publishes to every connected client subscribed to `topic` (exact match); `retained` sets the RETAIN flag of the delivery. */
	publish(topic: string, payload: string, retained = false): void {
		this.messages.push({clientId: "", topic, payload});
		for (const link of this.#links) link.deliver(topic, payload, retained);
	}

	on(topic: string): Message[] {
		return this.messages.filter(message => message.topic === topic);
	}

	/** Publishes bytes (a stream's CBOR) to every connected client subscribed to `topic`. */
	publishBytes(topic: string, payload: Uint8Array): void {
		this.messages.push({clientId: "", topic, payload: "", bytes: payload});
		for (const link of this.#links) link.deliver(topic, payload, false);
	}

	/** Drops every connection (the sessions reconnect after their back-off). */
	dropAll(reason = "connection reset"): void {
		for (const link of Array.from(this.#links)) link.drop(reason);
	}

	attach(link: MemoryTransport): void {
		this.#links.add(link);
	}

	detach(link: MemoryTransport): void {
		this.#links.delete(link);
	}

	received(message: Message): boolean {
		if (this.refuse?.(message)) return false;
		this.messages.push(message);
		this.onPublish?.(message);
		return true;
	}
}

export class MemoryTransport implements MqttTransport {
	readonly endpoint = "broker.test:1883";
	readonly #broker: MemoryBroker;
	readonly clientId: string;
	readonly subscriptions: string[] = [];
	#topics = new Set<string>();
	#events: MqttTransportEvents | undefined;
	#up = false;
	opens = 0;

	constructor(broker: MemoryBroker, clientId: string) {
		this.#broker = broker;
		this.clientId = clientId;
	}

	open(events: MqttTransportEvents): void {
		this.opens++;
		this.#events = events;
		this.#topics = new Set();
		const broker = this.#broker;
		broker.timers.set(() => {
			if (this.#events !== events || !broker.answers) return;
			if (!broker.reachable) {
				this.#events = undefined;
				events.lost("connection refused");
				return;
			}
			this.#up = true;
			broker.attach(this);
			events.connected();
		}, 0);
	}

	close(): void {
		this.#up = false;
		this.#events = undefined;
		this.#broker.detach(this);
	}

	publish(topic: string, payload: string | Uint8Array, acked: () => void): void {
		if (!this.#up) throw new Error("not connected");
		const message =
			typeof payload === "string"
				? {clientId: this.clientId, topic, payload}
				: {clientId: this.clientId, topic, payload: "", bytes: payload.slice()};
		const events = this.#events;
		const broker = this.#broker;
		broker.timers.set(() => {
			if (this.#events !== events || !this.#up) return;
			if (!broker.received(message)) {
				this.drop("publish refused");
				return;
			}
			if (!broker.holdAcks) acked();
		}, 0);
	}

	subscribe(topics: readonly string[]): void {
		for (const topic of topics) {
			this.#topics.add(topic);
			this.subscriptions.push(topic);
		}
	}

	unsubscribe(topics: readonly string[]): void {
		for (const topic of topics) this.#topics.delete(topic);
	}

	deliver(topic: string, payload: string | Uint8Array, retained = false): void {
		const events = this.#events;
		if (!this.#up || !this.#topics.has(topic) || !events) return;
		this.#broker.timers.set(() => {
			if (this.#events === events) events.message(topic, payload, retained);
		}, 0);
	}

	/** The connection drops. */
	drop(reason: string): void {
		const events = this.#events;
		if (!events) return;
		this.close();
		events.lost(reason);
	}
}
