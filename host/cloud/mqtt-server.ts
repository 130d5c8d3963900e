/*
 * The cloud's MQTT broker: aedes in-process on plain TCP and, when given a key and certificate,
 * TLS (requiring a client certificate signed by `ca` when a CA is given, as RainMaker uses mutual
 * X.509, docs/protocol.md §3.1). Any username is accepted. Identities are enforced as the RainMaker policy on AWS
 * IoT does (identity.ts): a client publishes and subscribes only under its own node's topics, and
 * over mutual TLS its certificate's CN must be its client id. Every PUBLISH from a client on a
 * node→cloud topic, in either form, is handed to the cloud; the `publish` event of aedes sees
 * `$aws/...` topics too, which a wildcard subscription never would (docs/protocol.md §12 broker caveat).
 */
import {createServer as createTcpServer, type Socket} from "node:net";
import {createServer as createTlsServer, type TLSSocket} from "node:tls";
import Aedes from "aedes";
import {certificateIdentity, mayPublish, maySubscribe, MAX_MESSAGE_BYTES} from "./identity";
import {listen, type Listener} from "./listen";
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
	publish(topic: string, payload: string): Promise<void>;
	/** Cuts every client connection (as a network loss would); clients may reconnect. */
	dropClients(): void;
	close(): Promise<void>;
}

export async function startMqttServer(options: MqttServerOptions, handlers: MqttServerHandlers): Promise<MqttServer> {
	const aedes = new Aedes();
	aedes.authenticate = (client, _username, _password, callback) => {
		const refuse = (why: string) => {
			handlers.onWarning(`MQTT client ${JSON.stringify(client.id)} refused: ${why}`);
			callback(Object.assign(new Error(why), {returnCode: 5}), false);
		};
		if (!client.id)
			return refuse("an empty client id is not a node identity");
		const socket = client.conn as unknown as Partial<TLSSocket>;
		if (typeof socket.getPeerCertificate === "function" && options.tls?.ca !== undefined) {
			const identity = certificateIdentity(socket.getPeerCertificate());
			if (identity !== client.id)
				return refuse(`the client certificate is for ${JSON.stringify(identity ?? "(no CN)")}, not for the client id`);
		}
		callback(null, true);
	};
	aedes.authorizePublish = (client, packet, callback) => {
		if (!client)
			return callback(null);
		const why = packet.payload.length > MAX_MESSAGE_BYTES
			? `message of ${packet.payload.length} bytes exceeds ${MAX_MESSAGE_BYTES}`
			: mayPublish(client.id, packet.topic) ? undefined : "not this client's node topic";
		if (why === undefined)
			return callback(null);
		handlers.onWarning(`MQTT client ${client.id}: publish on ${packet.topic} refused (${why}); disconnected`);
		callback(new Error(`publish on ${packet.topic} refused: ${why}`));
	};
	aedes.authorizeSubscribe = (client, subscription, callback) => {
		if (maySubscribe(client.id, subscription.topic))
			return callback(null, subscription);
		handlers.onWarning(`MQTT client ${client.id}: subscription to ${subscription.topic} refused`);
		callback(null, null);
	};
	aedes.on("publish", (packet, client) => {
		if (!client)
			return;
		const topic = parseNodeTopic(packet.topic);
		if (!topic)
			return;
		try {
			handlers.onNodeMessage(topic, packet.payload as Buffer, client.id);
		} catch (error) {
			handlers.onWarning(`handling ${packet.topic} from ${client.id} failed: ${(error as Error).message}`);
		}
	});
	aedes.on("clientReady", (client) => handlers.onClientConnected(client.id));
	aedes.on("clientDisconnect", (client) => handlers.onClientDisconnected(client.id));
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
			const server = createTlsServer({key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.ca !== undefined, rejectUnauthorized: tls.ca !== undefined}, handle);
			server.on("tlsClientError", (error) => handlers.onWarning(`MQTT TLS handshake: ${error.message}`));
			const secure = await listen(server, options.host, tls.port, "MQTT/TLS");
			listeners.push(secure);
			tlsPort = secure.port;
		}
		return {
			aedes,
			...(plainPort !== undefined ? {port: plainPort} : {}),
			...(tlsPort !== undefined ? {tlsPort} : {}),
			publish(topic, payload) {
				return new Promise<void>((resolve, reject) => {
					aedes.publish({cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false}, (error) => error ? reject(error) : resolve());
				});
			},
			dropClients() {
				for (const listener of listeners)
					listener.dropConnections();
			},
			async close() {
				await Promise.all(listeners.map((listener) => listener.close()));
				await new Promise<void>((resolve) => aedes.close(() => resolve()));
			},
		};
	} catch (error) {
		await Promise.all(listeners.map((listener) => listener.close()));
		await new Promise<void>((resolve) => aedes.close(() => resolve()));
		throw error;
	}
}
