/*
 * An in-process aedes MQTT broker on 127.0.0.1 (TCP, or TLS with an optional client-certificate
 * requirement) for tests. It records every PUBLISH it routes, so tests can check what a node sent
 * and in which order.
 */
import {createServer as createTcpServer, type Server, type Socket} from "node:net";
import {createServer as createTlsServer} from "node:tls";
import type {AddressInfo} from "node:net";
import Aedes from "aedes";

export interface BrokerTlsOptions {
	key: string | Buffer;
	cert: string | Buffer;
	ca?: string | Buffer;
	/** Ask for a client certificate and refuse connections without a valid one (signed by `ca`). */
	requestCert: boolean;
}

export interface BrokerOptions {
	tls?: BrokerTlsOptions;
}

export interface RecordedMessage {
	topic: string;
	payload: string;
	/** Client id of the publisher, undefined for messages the broker itself published. */
	clientId?: string;
}

export interface RecordedSubscription {
	topic: string;
	qos: number;
	clientId: string;
}

export interface TestBroker {
	port: number;
	/** mqtt://127.0.0.1:<port> or mqtts://127.0.0.1:<port>. */
	url: string;
	aedes: Aedes;
	/** Every PUBLISH from a client or from `publish`, in order ($SYS topics left out). */
	messages: RecordedMessage[];
	/** Every completed SUBSCRIBE (one entry per topic filter), in order. */
	subscriptions: RecordedSubscription[];
	/** Resolves once `topic` was subscribed `count` times in all (a message published afterwards reaches the subscriber). */
	waitForSubscription(topic: string, count?: number, timeoutMs?: number): Promise<void>;
	/** Publishes at QoS 1 from the broker itself. */
	publish(topic: string, payload: string): Promise<void>;
	/** Cuts every client connection (the broker keeps listening, so clients can reconnect). */
	dropClients(): void;
	/** Resolves once a message matching `predicate` was recorded (also one recorded earlier), rejects after `timeoutMs`. */
	waitFor(predicate: (message: RecordedMessage) => boolean, timeoutMs?: number): Promise<RecordedMessage>;
	close(): Promise<void>;
}

export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
	const aedes = new Aedes();
	const messages: RecordedMessage[] = [];
	const waiters = new Set<{
		predicate: (message: RecordedMessage) => boolean;
		resolve: (message: RecordedMessage) => void;
	}>();
	aedes.on("publish", (packet, client) => {
		if (packet.topic.startsWith("$SYS/")) return;
		const message: RecordedMessage = {
			topic: packet.topic,
			payload: packet.payload.toString(),
			clientId: client?.id,
		};
		messages.push(message);
		for (const waiter of waiters) {
			if (waiter.predicate(message)) {
				waiters.delete(waiter);
				waiter.resolve(message);
			}
		}
	});
	const subscriptions: RecordedSubscription[] = [];
	const subscriptionWaiters = new Set<() => void>();
	// aedes emits "subscribe" once the subscription is in place, before the SUBACK.
	aedes.on("subscribe", (subscribed, client) => {
		for (const subscription of subscribed)
			subscriptions.push({topic: subscription.topic, qos: subscription.qos, clientId: client.id});
		for (const check of subscriptionWaiters) check();
	});
	const sockets = new Set<Socket>();
	const track = (socket: Socket) => {
		sockets.add(socket);
		socket.on("close", () => sockets.delete(socket));
		// A client that vanishes mid-handshake must not crash the test process.
		socket.on("error", () => {});
		aedes.handle(socket);
	};
	const tls = options.tls;
	const server: Server = tls
		? createTlsServer(
				{
					key: tls.key,
					cert: tls.cert,
					ca: tls.ca,
					requestCert: tls.requestCert,
					rejectUnauthorized: tls.requestCert,
				},
				track,
			)
		: createTcpServer(track);
	server.on("tlsClientError", () => {});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve());
	});
	const port = (server.address() as AddressInfo).port;
	return {
		port,
		url: `${tls ? "mqtts" : "mqtt"}://127.0.0.1:${port}`,
		aedes,
		messages,
		subscriptions,
		waitForSubscription(topic, count = 1, timeoutMs = 5000) {
			const seen = () => subscriptions.filter(subscription => subscription.topic === topic).length >= count;
			if (seen()) return Promise.resolve();
			return new Promise<void>((resolve, reject) => {
				const check = () => {
					if (seen()) {
						subscriptionWaiters.delete(check);
						clearTimeout(timer);
						resolve();
					}
				};
				const timer = setTimeout(() => {
					subscriptionWaiters.delete(check);
					reject(new Error(`broker: ${topic} not subscribed ${count} time(s) within ${timeoutMs} ms`));
				}, timeoutMs);
				subscriptionWaiters.add(check);
			});
		},
		publish(topic, payload) {
			return new Promise<void>((resolve, reject) => {
				aedes.publish(
					{cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false},
					error => (error ? reject(error) : resolve()),
				);
			});
		},
		dropClients() {
			for (const socket of sockets) socket.destroy();
		},
		waitFor(predicate, timeoutMs = 5000) {
			const earlier = messages.find(predicate);
			if (earlier) return Promise.resolve(earlier);
			return new Promise<RecordedMessage>((resolve, reject) => {
				const waiter = {
					predicate,
					resolve: (message: RecordedMessage) => {
						clearTimeout(timer);
						resolve(message);
					},
				};
				const timer = setTimeout(() => {
					waiters.delete(waiter);
					reject(new Error(`broker: no matching message within ${timeoutMs} ms`));
				}, timeoutMs);
				waiters.add(waiter);
			});
		},
		async close() {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>(resolve => server.close(() => resolve()));
			await new Promise<void>(resolve => aedes.close(() => resolve()));
		},
	};
}
