/*
 * The cloud's MQTT broker: aedes in-process on plain TCP and, when given a key and certificate,
 * TLS (requiring a client certificate signed by `ca` when a CA is given, as RainMaker uses mutual
 * X.509, docs/protocol.md §3.1). Any username is accepted. Every PUBLISH from a client on a node→cloud topic, in
 * either form, is handed to the cloud; the `publish` event of aedes sees `$aws/...` topics too,
 * which a wildcard subscription never would (docs/protocol.md §12 broker caveat).
 */
import {createServer as createTcpServer, type Socket} from "node:net";
import {createServer as createTlsServer} from "node:tls";
import Aedes from "aedes";
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
	/** Plain TCP port (0 = any). */
	port: number;
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
	port: number;
	tlsPort?: number;
	/** Publishes from the broker at QoS 1, retain false, as every RainMaker message (docs/protocol.md §3.1). */
	publish(topic: string, payload: string): Promise<void>;
	/** Cuts every client connection (as a network loss would); clients may reconnect. */
	dropClients(): void;
	close(): Promise<void>;
}

export async function startMqttServer(options: MqttServerOptions, handlers: MqttServerHandlers): Promise<MqttServer> {
	const aedes = new Aedes();
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
		const plain = await listen(createTcpServer(handle), options.host, options.port, "MQTT");
		listeners.push(plain);
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
			port: plain.port,
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
