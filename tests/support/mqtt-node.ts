/*
 * A node played by a plain mqtt.js client, for tests of the cloud and the approval client: it
 * subscribes like a RainMaker node (otaurl, params/remote), publishes on node topics in the plain
 * or the basic-ingest form, and records what it receives with the packet flags.
 */
import mqtt, {type IClientOptions, type MqttClient} from "mqtt";

export interface ReceivedMessage {
	topic: string;
	payload: string;
	qos: number;
	retain: boolean;
}

export interface MqttNode {
	nodeId: string;
	client: MqttClient;
	received: ReceivedMessage[];
	/** Publishes on `node/<id>/<suffix>`, or `$aws/rules/<rule>/node/<id>/<suffix>` with `rule`; resolves on PUBACK. */
	publish(suffix: string, payload: unknown, rule?: string): Promise<void>;
	/** The next (or an earlier unclaimed) message on `node/<id>/<suffix>` matching `predicate`. */
	next(
		suffix: string,
		predicate?: (message: ReceivedMessage) => boolean,
		timeoutMs?: number,
	): Promise<ReceivedMessage>;
	/** Messages received on `node/<id>/<suffix>` so far. */
	on(suffix: string): ReceivedMessage[];
	close(): Promise<void>;
}

export async function connectMqttNode(url: string, nodeId: string, options: IClientOptions = {}): Promise<MqttNode> {
	const client = await mqtt.connectAsync(url, {
		clientId: nodeId,
		username: "RMDev;1x0;EX00",
		reconnectPeriod: 0,
		connectTimeout: 5000,
		...options,
	});
	const received: ReceivedMessage[] = [];
	const claimed = new Set<ReceivedMessage>();
	const waiters = new Set<() => void>();
	client.on("message", (topic, payload, packet) => {
		received.push({topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain});
		for (const waiter of [...waiters]) waiter();
	});
	await client.subscribeAsync([`node/${nodeId}/otaurl`, `node/${nodeId}/params/remote`], {qos: 1});
	const topicOf = (suffix: string) => `node/${nodeId}/${suffix}`;
	return {
		nodeId,
		client,
		received,
		async publish(suffix, payload, rule) {
			const topic = rule === undefined ? topicOf(suffix) : `$aws/rules/${rule}/node/${nodeId}/${suffix}`;
			await client.publishAsync(topic, typeof payload === "string" ? payload : JSON.stringify(payload), {qos: 1});
		},
		next(suffix, predicate = () => true, timeoutMs = 5000) {
			const find = () =>
				received.find(
					message => !claimed.has(message) && message.topic === topicOf(suffix) && predicate(message),
				);
			return new Promise<ReceivedMessage>((resolve, reject) => {
				const check = () => {
					const message = find();
					if (!message) return;
					claimed.add(message);
					waiters.delete(check);
					clearTimeout(timer);
					resolve(message);
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`node ${nodeId}: nothing on ${topicOf(suffix)} within ${timeoutMs} ms`));
				}, timeoutMs);
				waiters.add(check);
				check();
			});
		},
		on(suffix) {
			return received.filter(message => message.topic === topicOf(suffix));
		},
		async close() {
			await client.endAsync(true);
		},
	};
}
