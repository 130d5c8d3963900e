/*
 * MqttSession on the Moddable SDK.
 *
 * Choice of client: none of the SDK's MQTT clients fits, so this adapter speaks MQTT 3.1.1 itself
 * (device/mqtt-packets.ts) over the legacy `socket` / `securesocket` modules:
 * - the legacy "mqtt" module drops PUBACKs (no delivery notification, no retransmission),
 *   subscribes at QoS 0 only and never reconnects (docs/moddable.md §2.2);
 * - the ECMA-419 "embedded:network/mqtt/client" (examples/io/tcp/mqttclient) does QoS 1, but its
 *   TLS socket (examples/io/tcp/tlssocket) needs modules/crypt/tls_419.json, which maps
 *   "ssl/session" to session_419.js, while `http` over SecureSocket needs tls.json's
 *   session_original.js under the same name with another API: one firmware cannot have both, and
 *   the OTA download needs `http` (docs/moddable.md §4.1).
 * So the node has one TLS stack (SecureSocket) for MQTT and HTTPS.
 *
 * The session logic (subscriptions renewed after every CONNACK, back-off, connect timeout, PUBACK
 * tracking, failing publishes in flight) is the core's (rainmaker/mqtt-session.ts); this adapter is
 * its transport: one socket per connection, packet framing (device/mqtt-packets.ts), packet ids,
 * inbound QoS 1 acknowledged, keep-alive PINGREQ with a timeout, and writes split to the socket's
 * room.
 * TLS (docs/moddable.md §3): CA and client certificate in DER, the client key (RSA, or EC P-256
 * signed by device/tls/: docs/decisions.md §1.15) as PKCS#8 DER, ALPN
 * "x-amzn-mqtt-ca" on port 443; the manifest sets config.tls.DHE_RSA false because Moddable's TLS
 * cannot sign a client certificate verify with DHE_RSA.
 */
import {Socket} from "socket";
import SecureSocket from "securesocket";
import {
	MQTT_DEFAULTS,
	ReconnectingMqttSession,
	type MqttTransport,
	type MqttTransportEvents,
} from "../rainmaker/mqtt-session";
import {errorText as describe} from "../rainmaker/error-text";
import type {Log, TimerHandle, Timers} from "../rainmaker/ports";
import {
	CONNACK,
	PINGRESP,
	PUBACK,
	PUBLISH,
	SUBACK,
	UNSUBACK,
	MqttProtocolError,
	PacketReader,
	decodePacket,
	encodeConnect,
	encodeDisconnect,
	encodePingreq,
	encodePuback,
	encodePublish,
	encodeSubscribe,
	encodeUnsubscribe,
	utf8Encode,
} from "./mqtt-packets";

export interface MqttTlsConfig {
	/** CA certificate (DER) that signed the broker's certificate chain. */
	readonly ca: ArrayBuffer;
	/** The node's certificate (DER). */
	readonly certificate: ArrayBuffer;
	/** The node's private key as PKCS#8 DER: RSA, or EC P-256 (device/credentials.ts tlsPrivateKey). */
	readonly key: ArrayBuffer;
	/** ALPN protocol, "x-amzn-mqtt-ca" for AWS IoT / RainMaker on port 443. */
	readonly alpn?: string;
}

export interface MqttSessionConfig {
	readonly host: string;
	readonly port: number;
	readonly clientId: string;
	/** RainMaker sends an AWS "PPI" string as user name; a local broker accepts any. */
	readonly username?: string;
	/** Default MQTT_DEFAULTS (the core's one set of defaults), as the timings below. */
	readonly keepAliveSeconds?: number;
	readonly tls?: MqttTlsConfig;
	/** First reconnect delay; doubled after each failure up to `maxBackoffMs`. */
	readonly minBackoffMs?: number;
	readonly maxBackoffMs?: number;
	/** CONNECT to CONNACK, milliseconds. */
	readonly connectTimeoutMs?: number;
	/** Largest incoming packet accepted; larger ones drop the link (bounded memory). */
	readonly maxPacketBytes?: number;
}

/** The part of Moddable's Socket / SecureSocket this adapter uses (both share this callback protocol). */
interface StreamSocket {
	callback: (message: number, value?: number) => void;
	read(type: typeof ArrayBuffer, until?: number): ArrayBuffer | undefined;
	write(data?: ArrayBuffer): number | void;
	close(): void;
}

const SOCKET_CONNECTED = 1;
const SOCKET_READABLE = 2;
const SOCKET_WRITABLE = 3;

/** One socket per connection: framing, packet ids, keep-alive. */
class SocketTransport implements MqttTransport {
	readonly endpoint: string;
	readonly #config: MqttSessionConfig;
	readonly #timers: Timers;
	readonly #log: Log;
	readonly #keepAliveMs: number;
	readonly #acks = new Map<number, () => void>();
	#events: MqttTransportEvents | undefined;
	#socket: StreamSocket | undefined;
	#reader: PacketReader | undefined;
	#outbound: Uint8Array[] = [];
	#connected = false;
	#nextId = 1;
	#pingTimer: TimerHandle | undefined;
	#lastWrite = 0;
	#lastRead = 0;

	constructor(config: MqttSessionConfig, timers: Timers, log: Log) {
		this.#config = config;
		this.#timers = timers;
		this.#log = log;
		this.#keepAliveMs = (config.keepAliveSeconds ?? MQTT_DEFAULTS.keepAliveSeconds) * 1000;
		this.endpoint = `${config.host}:${config.port}`;
	}

	open(events: MqttTransportEvents): void {
		const config = this.#config;
		this.#events = events;
		this.#reader = new PacketReader(config.maxPacketBytes ?? MQTT_DEFAULTS.maxPacketBytes);
		this.#outbound = [];
		this.#connected = false;
		let socket: StreamSocket;
		if (config.tls) {
			const secure = {
				protocolVersion: 0x0303,
				certificate: config.tls.ca,
				clientCertificates: [config.tls.certificate],
				clientKey: config.tls.key,
				...(config.tls.alpn ? {applicationLayerProtocolNegotiation: config.tls.alpn} : {}),
			};
			socket = new SecureSocket({host: config.host, port: config.port, secure}) as unknown as StreamSocket;
		} else socket = new Socket({host: config.host, port: config.port}) as unknown as StreamSocket;
		this.#socket = socket;
		socket.callback = (message, value) => this.#onSocket(socket, message, value ?? 0);
	}

	close(): void {
		const socket = this.#socket;
		if (socket && this.#connected) {
			try {
				socket.write(toArrayBuffer(encodeDisconnect()));
			} catch {
				// the link is going away anyway
			}
		}
		this.#end();
	}

	publish(topic: string, payload: string | Uint8Array, acked: () => void): void {
		const id = this.#allocateId();
		const packet = encodePublish(topic, typeof payload === "string" ? utf8Encode(payload) : payload, 1, id);
		this.#acks.set(id, acked);
		this.#send(packet);
	}

	subscribe(topics: readonly string[]): void {
		this.#send(encodeSubscribe(this.#allocateId(), [...topics], 1));
	}

	unsubscribe(topics: readonly string[]): void {
		this.#send(encodeUnsubscribe(this.#allocateId(), [...topics]));
	}

	#onSocket(socket: StreamSocket, message: number, _value: number): void {
		if (socket !== this.#socket) return;
		try {
			if (message === SOCKET_CONNECTED) {
				this.#send(
					encodeConnect({
						clientId: this.#config.clientId,
						keepAliveSeconds: this.#keepAliveMs / 1000,
						username: this.#config.username,
					}),
				);
			} else if (message === SOCKET_READABLE) {
				const bytes = socket.read(ArrayBuffer);
				if (bytes && bytes.byteLength) this.#receive(new Uint8Array(bytes));
			} else if (message === SOCKET_WRITABLE) this.#flush();
			else if (message < 0) this.#fail(message === -1 ? "disconnected by peer" : `socket error ${message}`);
		} catch (error) {
			this.#fail(describe(error));
		}
	}

	#receive(bytes: Uint8Array): void {
		this.#lastRead = this.#timers.now();
		const reader = this.#reader;
		if (!reader) return;
		for (const raw of reader.push(bytes)) {
			if (this.#socket === undefined) return;
			const incoming = decodePacket(raw);
			if (!this.#connected && incoming.type !== CONNACK)
				throw new MqttProtocolError(`packet type ${incoming.type} before CONNACK`);
			switch (incoming.type) {
				case CONNACK:
					if (this.#connected) throw new MqttProtocolError("second CONNACK");
					if (incoming.returnCode !== 0)
						throw new MqttProtocolError(
							`broker refused the connection (CONNACK code ${incoming.returnCode})`,
						);
					this.#connected = true;
					this.#schedulePing();
					this.#events?.connected();
					break;
				case PUBLISH: {
					if (incoming.qos === 2)
						throw new MqttProtocolError("QoS 2 PUBLISH not supported (subscriptions are QoS 1)");
					if (incoming.qos === 1) this.#send(encodePuback(incoming.id));
					this.#events?.message(incoming.topic, incoming.payload, incoming.retain);
					break;
				}
				case PUBACK: {
					const acked = this.#acks.get(incoming.id);
					this.#acks.delete(incoming.id);
					acked?.();
					break;
				}
				case SUBACK:
					if (incoming.granted.some(code => code === 0x80))
						this.#log.warn(`mqtt ${this.endpoint}: subscription ${incoming.id} refused by the broker`);
					break;
				case UNSUBACK:
				case PINGRESP:
					break;
			}
		}
	}

	#schedulePing(): void {
		const keepAliveMs = this.#keepAliveMs;
		if (!keepAliveMs) return;
		this.#pingTimer = this.#timers.set(() => {
			this.#pingTimer = undefined;
			if (!this.#connected) return;
			const now = this.#timers.now();
			if (now - this.#lastRead > keepAliveMs * 1.5) {
				this.#fail("keep-alive timeout");
				return;
			}
			if (now - this.#lastWrite >= keepAliveMs * 0.75) this.#send(encodePingreq());
			this.#schedulePing();
		}, keepAliveMs / 4);
	}

	/** Queues a packet and writes what fits (Moddable's write throws when a buffer does not fit its room). */
	#send(packet: Uint8Array): void {
		if (!this.#socket) throw new Error("not connected");
		this.#outbound.push(packet);
		this.#flush();
	}

	#flush(): void {
		const socket = this.#socket;
		if (!socket) return;
		while (this.#outbound.length) {
			const room = socket.write();
			if (typeof room !== "number" || room <= 0) return;
			const head = this.#outbound[0];
			if (head.length <= room) {
				socket.write(toArrayBuffer(head));
				this.#outbound.shift();
			} else {
				socket.write(toArrayBuffer(head.subarray(0, room)));
				this.#outbound[0] = head.subarray(room);
			}
			this.#lastWrite = this.#timers.now();
		}
	}

	/** The connection failed: tell the core once (it schedules the reconnect). */
	#fail(reason: string): void {
		const events = this.#events;
		this.#end();
		events?.lost(reason);
	}

	#end(): void {
		this.#timers.clear(this.#pingTimer);
		this.#pingTimer = undefined;
		this.#connected = false;
		this.#events = undefined;
		const socket = this.#socket;
		this.#socket = undefined;
		this.#reader = undefined;
		this.#outbound = [];
		this.#acks.clear();
		if (socket) {
			try {
				socket.close();
			} catch {
				// already closed by the peer
			}
		}
	}

	#allocateId(): number {
		for (let tries = 0; tries < 0xffff; tries++) {
			const id = this.#nextId;
			this.#nextId = id === 0xffff ? 1 : id + 1;
			if (!this.#acks.has(id)) return id;
		}
		throw new Error("no free MQTT packet id");
	}
}

export class DeviceMqttSession extends ReconnectingMqttSession {
	constructor(config: MqttSessionConfig, timers: Timers, log: Log) {
		if (!config.host) throw new Error("MQTT host is not configured");
		if (!(config.port > 0 && config.port < 65536)) throw new Error(`MQTT port ${config.port} is not a port number`);
		if (!config.clientId) throw new Error("MQTT client id (node id) is not configured");
		super(new SocketTransport(config, timers, log), timers, log, config);
	}
}

/** An ArrayBuffer holding exactly the view's bytes (Moddable's socket write takes a buffer). */
function toArrayBuffer(view: Uint8Array): ArrayBuffer {
	if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer)
		return view.buffer;
	return view.slice().buffer as ArrayBuffer;
}
