/*
 * The cloud's MQTT broker: aedes in-process on plain TCP and, when given a key and certificate,
 * TLS (requiring a client certificate signed by `ca` when a CA is given, as RainMaker uses mutual
 * X.509, docs/protocol.md §3.1). Any username is accepted. A client id must be a node id
 * (identity.ts); on a connection without a client certificate an id already connected is not taken
 * over (the id proves nothing there, and the takeover would hand the node's command topics to
 * whoever asked; docs/local-cloud.md, "MQTT identities"). Identities are enforced as the RainMaker policy on AWS
 * IoT does (identity.ts): a client publishes and subscribes only under its own node's topics, and
 * over mutual TLS its certificate's CN must be its client id. Every PUBLISH from a client on a
 * node→cloud topic, in either form, is handed to the cloud; the `publish` event of aedes sees
 * `$aws/...` topics too, which a wildcard subscription never would (docs/protocol.md §12 broker caveat).
 */
import {createServer as createTcpServer, type Socket} from "node:net";
import {createServer as createTlsServer, type TLSSocket} from "node:tls";
import Aedes from "aedes";
import {certificateIdentity, isNodeId, maySubscribe, MAX_MESSAGE_BYTES, publishRefusal} from "./identity";
import {listen, type Listener} from "./listen";
import {parseStreamTopic} from "./streams";
import {parseNodeTopic, type NodeTopic} from "./topics";

export interface MqttTls {
	key: string | Buffer;
	cert: string | Buffer;
	/** When given, clients must present a certificate signed by it. */
	ca?: string | Buffer;
}

export interface MqttServerOptions {
	host: string;
	/** Plain TCP port (0 = any); undefined = no plain listener. */
	port?: number;
	tls?: MqttTls & {port: number};
}

export interface MqttServerHandlers {
	onNodeMessage(topic: NodeTopic, payload: Buffer, clientId: string): void;
	/** A GetStream request of a node on its own stream's `get/cbor` topic (docs/protocol.md §5.10); `publish` answers it. */
	onStreamRequest?(
		nodeId: string,
		streamId: string,
		payload: Buffer,
		publish: (topic: string, payload: Uint8Array) => Promise<void>,
	): void;
	/** Checked before a node message is accepted (limits.ts): why it is refused, or undefined. */
	vetNodeMessage?(topic: NodeTopic, payload: string, clientId: string, address: string): string | undefined;
	onClientConnected(clientId: string): void;
	onClientDisconnected(clientId: string): void;
	onWarning(message: string): void;
}

export interface MqttServer {
	aedes: Aedes;
	/** The plain TCP port, when that listener runs. */
	port?: number;
	tlsPort?: number;
	/** Publishes from the broker at QoS 1, retain false, as every RainMaker message (docs/protocol.md §3.1). */
	publish(topic: string, payload: string | Uint8Array): Promise<void>;
	/** Cuts every client connection (as a network loss would); clients may reconnect. */
	dropClients(): void;
	close(): Promise<void>;
}

export async function startMqttServer(options: MqttServerOptions, handlers: MqttServerHandlers): Promise<MqttServer> {
	const aedes = new Aedes();
	const connectedClients = () =>
		(aedes as unknown as {clients: Record<string, {connected: boolean} | undefined>}).clients;
	aedes.authenticate = (client, _username, _password, callback) => {
		const refuse = (why: string) => {
			handlers.onWarning(`MQTT client ${JSON.stringify(client.id)} refused: ${why}`);
			callback(Object.assign(new Error(why), {returnCode: 5}), false);
		};
		const refuseId = (why: string) => {
			handlers.onWarning(`MQTT client ${JSON.stringify(client.id)} refused: ${why}`);
			callback(Object.assign(new Error(why), {returnCode: 2}), false);
		};
		if (!client.id) return refuseId("an empty client id is not a node identity");
		if (!isNodeId(client.id))
			return refuseId('a client id is a node id: 1 to 64 letters, digits, "_" or "-" (no "/", "+" or "#")');
		const socket = client.conn as unknown as Partial<TLSSocket>;
		const certified = typeof socket.getPeerCertificate === "function" && options.tls?.ca !== undefined;
		if (certified) {
			const identity = certificateIdentity(socket.getPeerCertificate!());
			if (identity !== client.id)
				return refuse(
					`the client certificate is for ${JSON.stringify(identity ?? "(no CN)")}, not for the client id`,
				);
		} else if (connectedClients()[client.id]?.connected) {
			return refuseId(
				"this client id is connected already, and without a client certificate nothing proves this is the same node; " +
					"it can connect once the other connection ends",
			);
		}
		callback(null, true);
	};
	aedes.authorizePublish = (client, packet, callback) => {
		if (!client) return callback(null);
		let why =
			packet.payload.length > MAX_MESSAGE_BYTES
				? `message of ${packet.payload.length} bytes exceeds ${MAX_MESSAGE_BYTES}`
				: publishRefusal(client.id, packet.topic, packet.retain);
		const topic = why === undefined ? parseNodeTopic(packet.topic) : undefined;
		if (topic && handlers.vetNodeMessage) {
			const address = (client.conn as unknown as Partial<Socket>).remoteAddress ?? "unknown";
			why = handlers.vetNodeMessage(topic, Buffer.from(packet.payload).toString("utf8"), client.id, address);
		}
		if (why === undefined) return callback(null);
		handlers.onWarning(`MQTT client ${client.id}: publish on ${packet.topic} refused (${why}); disconnected`);
		callback(new Error(`publish on ${packet.topic} refused: ${why}`));
	};
	aedes.authorizeSubscribe = (client, subscription, callback) => {
		if (maySubscribe(client.id, subscription.topic)) return callback(null, subscription);
		handlers.onWarning(`MQTT client ${client.id}: subscription to ${subscription.topic} refused`);
		callback(null, null);
	};
	const publish = (topic: string, payload: string | Uint8Array) =>
		new Promise<void>((resolve, reject) => {
			const body =
				typeof payload === "string"
					? Buffer.from(payload)
					: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
			aedes.publish({cmd: "publish", topic, payload: body, qos: 1, retain: false, dup: false}, error =>
				error ? reject(error) : resolve(),
			);
		});
	aedes.on("publish", (packet, client) => {
		if (!client) return;
		const stream = parseStreamTopic(packet.topic);
		if (stream) {
			if (stream.kind === "get/cbor" && stream.nodeId === client.id)
				try {
					handlers.onStreamRequest?.(stream.nodeId, stream.streamId, packet.payload as Buffer, publish);
				} catch (error) {
					handlers.onWarning(
						`handling ${packet.topic} from ${client.id} failed: ${(error as Error).message}`,
					);
				}
			return;
		}
		const topic = parseNodeTopic(packet.topic);
		if (!topic) return;
		try {
			handlers.onNodeMessage(topic, packet.payload as Buffer, client.id);
		} catch (error) {
			handlers.onWarning(`handling ${packet.topic} from ${client.id} failed: ${(error as Error).message}`);
		}
	});
	aedes.on("clientReady", client => handlers.onClientConnected(client.id));
	aedes.on("clientDisconnect", client => handlers.onClientDisconnected(client.id));
	aedes.on("clientError", (client, error) => handlers.onWarning(`MQTT client ${client.id}: ${error.message}`));
	aedes.on("connectionError", (_client, error) => handlers.onWarning(`MQTT connection: ${error.message}`));
	const handle = (socket: Socket) => {
		// A client that vanishes mid-handshake must not take the cloud down.
		socket.on("error", () => {});
		aedes.handle(socket);
	};
	const listeners: Listener[] = [];
	try {
		let plainPort: number | undefined;
		if (options.port !== undefined) {
			const plain = await listen(createTcpServer(handle), options.host, options.port, "MQTT");
			listeners.push(plain);
			plainPort = plain.port;
		}
		let tlsPort: number | undefined;
		if (options.tls) {
			const tls = options.tls;
			const server = createTlsServer(
				{
					key: tls.key,
					cert: tls.cert,
					ca: tls.ca,
					requestCert: tls.ca !== undefined,
					rejectUnauthorized: tls.ca !== undefined,
				},
				handle,
			);
			server.on("tlsClientError", error => handlers.onWarning(`MQTT TLS handshake: ${error.message}`));
			const secure = await listen(server, options.host, tls.port, "MQTT/TLS");
			listeners.push(secure);
			tlsPort = secure.port;
		}
		return {
			aedes,
			...(plainPort !== undefined ? {port: plainPort} : {}),
			...(tlsPort !== undefined ? {tlsPort} : {}),
			publish,
			dropClients() {
				for (const listener of listeners) listener.dropConnections();
			},
			async close() {
				await Promise.all(listeners.map(listener => listener.close()));
				await new Promise<void>(resolve => aedes.close(() => resolve()));
			},
		};
	} catch (error) {
		await Promise.all(listeners.map(listener => listener.close()));
		await new Promise<void>(resolve => aedes.close(() => resolve()));
		throw error;
	}
}
