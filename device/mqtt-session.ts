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
 * The adapter does what the port promises: QoS 1 publishes with PUBACK tracking (a publish whose
 * PUBACK has not arrived when the link drops fails with an Error; the core decides about
 * retrying), QoS 1 subscriptions remembered and sent again after every CONNACK, inbound QoS 1
 * acknowledged, keep-alive PINGREQ with a timeout, reconnect with exponential back-off.
 * TLS (docs/moddable.md §3): CA and client certificate in DER, the client key as PKCS#8 DER, ALPN
 * "x-amzn-mqtt-ca" on port 443; the manifest sets config.tls.DHE_RSA false because Moddable's TLS
 * cannot sign a client certificate verify with DHE_RSA.
 */
import {Socket} from "socket";
import SecureSocket from "securesocket";
import type {Log, MqttSession, PublishDone, TimerHandle, Timers} from "../rainmaker/ports";
import {
	CONNACK, PINGRESP, PUBACK, PUBLISH, SUBACK, UNSUBACK, MqttProtocolError, PacketReader, decodePacket,
	encodeConnect, encodeDisconnect, encodePingreq, encodePuback, encodePublish, encodeSubscribe, encodeUnsubscribe,
	utf8Decode, utf8Encode,
} from "./mqtt-packets";

export interface MqttTlsConfig {
	/** CA certificate (DER) that signed the broker's certificate chain. */
	readonly ca: ArrayBuffer;
	/** The node's certificate (DER). */
	readonly certificate: ArrayBuffer;
	/** The node's RSA private key as PKCS#8 DER. */
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
	readonly keepAliveSeconds: number;
	readonly tls?: MqttTlsConfig;
	/** First reconnect delay; doubled after each failure up to `maxBackoffMs`. */
	readonly minBackoffMs: number;
	readonly maxBackoffMs: number;
	/** CONNECT to CONNACK, milliseconds. */
	readonly connectTimeoutMs: number;
	/** Largest incoming packet accepted; larger ones drop the link (bounded memory). */
	readonly maxPacketBytes: number;
	/** Last will (RainMaker's connectivity message), optional. */
	readonly will?: {readonly topic: string; readonly payload: string};
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

interface PendingPublish {
	readonly done?: PublishDone;
}

export class DeviceMqttSession implements MqttSession {
	onConnect?: (first: boolean) => void;
	onDisconnect?: (reason: string) => void;
	onMessage?: (topic: string, payload: string) => void;

	readonly #config: MqttSessionConfig;
	readonly #timers: Timers;
	readonly #log: Log;
	readonly #topics = new Set<string>();
	readonly #inflight = new Map<number, PendingPublish>();
	#socket: StreamSocket | undefined;
	#reader: PacketReader | undefined;
	#outbound: Uint8Array[] = [];
	#connected = false;
	#started = false;
	#closed = false;
	#everConnected = false;
	#backoffMs: number;
	#nextId = 1;
	#retryTimer: TimerHandle | undefined;
	#pingTimer: TimerHandle | undefined;
	#connectTimer: TimerHandle | undefined;
	#lastWrite = 0;
	#lastRead = 0;

	constructor(config: MqttSessionConfig, timers: Timers, log: Log) {
		if (!config.host)
			throw new Error("MQTT host is not configured");
		if (!(config.port > 0 && config.port < 65536))
			throw new Error(`MQTT port ${config.port} is not a port number`);
		if (!config.clientId)
			throw new Error("MQTT client id (node id) is not configured");
		this.#config = config;
		this.#timers = timers;
		this.#log = log;
		this.#backoffMs = config.minBackoffMs;
	}

	get connected(): boolean {
		return this.#connected;
	}

	connect(): void {
		if (this.#closed)
			throw new Error("MQTT session closed");
		if (this.#started)
			return;
		this.#started = true;
		this.#open();
	}

	close(): void {
		if (this.#closed)
			return;
		this.#closed = true;
		this.#timers.clear(this.#retryTimer);
		this.#retryTimer = undefined;
		if (this.#socket && this.#connected) {
			try {
				this.#socket.write(toArrayBuffer(encodeDisconnect()));
			}
			catch {
				// the link is going away anyway
			}
		}
		this.#drop("session closed", false);
	}

	publish(topic: string, payload: string, done?: PublishDone): void {
		if (!this.#connected) {
			this.#later(() => done?.(new Error(this.#closed ? "MQTT session closed" : "MQTT not connected")));
			return;
		}
		const id = this.#allocateId();
		let packet: Uint8Array;
		try {
			packet = encodePublish(topic, utf8Encode(payload), 1, id);
		}
		catch (error) {
			this.#later(() => done?.(error instanceof Error ? error : new Error(String(error))));
			return;
		}
		this.#inflight.set(id, {done});
		this.#send(packet);
	}

	subscribe(topic: string): void {
		if (this.#topics.has(topic))
			return;
		this.#topics.add(topic);
		if (this.#connected)
			this.#send(encodeSubscribe(this.#allocateId(), [topic], 1));
	}

	unsubscribe(topic: string): void {
		if (!this.#topics.delete(topic))
			return;
		if (this.#connected)
			this.#send(encodeUnsubscribe(this.#allocateId(), [topic]));
	}

	#open(): void {
		const config = this.#config;
		this.#reader = new PacketReader(config.maxPacketBytes);
		this.#outbound = [];
		let socket: StreamSocket;
		try {
			if (config.tls) {
				const secure = {
					protocolVersion: 0x0303,
					certificate: config.tls.ca,
					clientCertificates: [config.tls.certificate],
					clientKey: config.tls.key,
					...(config.tls.alpn ? {applicationLayerProtocolNegotiation: config.tls.alpn} : {}),
				};
				socket = new SecureSocket({host: config.host, port: config.port, secure}) as unknown as StreamSocket;
			}
			else {
				socket = new Socket({host: config.host, port: config.port}) as unknown as StreamSocket;
			}
		}
		catch (error) {
			this.#log.warn(`mqtt: cannot open ${config.host}:${config.port}: ${describe(error)}`);
			this.#scheduleReconnect();
			return;
		}
		this.#socket = socket;
		socket.callback = (message, value) => this.#onSocket(socket, message, value ?? 0);
		this.#connectTimer = this.#timers.set(() => this.#fail("no CONNACK within " + config.connectTimeoutMs + " ms"), config.connectTimeoutMs);
	}

	#onSocket(socket: StreamSocket, message: number, value: number): void {
		if (socket !== this.#socket)
			return;
		try {
			if (message === SOCKET_CONNECTED) {
				const will = this.#config.will;
				this.#send(encodeConnect({
					clientId: this.#config.clientId,
					keepAliveSeconds: this.#config.keepAliveSeconds,
					username: this.#config.username,
					will: will ? {topic: will.topic, payload: will.payload, qos: 1} : undefined,
				}));
			}
			else if (message === SOCKET_READABLE) {
				const bytes = socket.read(ArrayBuffer);
				if (bytes && bytes.byteLength)
					this.#receive(new Uint8Array(bytes));
			}
			else if (message === SOCKET_WRITABLE) {
				this.#flush();
			}
			else if (message < 0) {
				this.#fail(message === -1 ? "disconnected by peer" : `socket error ${message}`);
			}
		}
		catch (error) {
			this.#fail(describe(error));
		}
	}

	#receive(bytes: Uint8Array): void {
		this.#lastRead = this.#timers.now();
		const reader = this.#reader;
		if (!reader)
			return;
		for (const raw of reader.push(bytes)) {
			if (this.#socket === undefined)
				return;
			const incoming = decodePacket(raw);
			if (!this.#connected && incoming.type !== CONNACK)
				throw new MqttProtocolError(`packet type ${incoming.type} before CONNACK`);
			switch (incoming.type) {
				case CONNACK:
					if (this.#connected)
						throw new MqttProtocolError("second CONNACK");
					if (incoming.returnCode !== 0)
						throw new MqttProtocolError(`broker refused the connection (CONNACK code ${incoming.returnCode})`);
					this.#onConnack();
					break;
				case PUBLISH: {
					if (incoming.qos === 2)
						throw new MqttProtocolError("QoS 2 PUBLISH not supported (subscriptions are QoS 1)");
					if (incoming.qos === 1)
						this.#send(encodePuback(incoming.id));
					const payload = utf8Decode(incoming.payload);
					this.#deliver(incoming.topic, payload);
					break;
				}
				case PUBACK: {
					const pending = this.#inflight.get(incoming.id);
					this.#inflight.delete(incoming.id);
					pending?.done?.();
					break;
				}
				case SUBACK:
					if (incoming.granted.some(code => code === 0x80))
						this.#log.warn(`mqtt: subscription ${incoming.id} refused by the broker`);
					break;
				case UNSUBACK:
				case PINGRESP:
					break;
			}
		}
	}

	#deliver(topic: string, payload: string): void {
		try {
			this.onMessage?.(topic, payload);
		}
		catch (error) {
			this.#log.error(`mqtt: message handler for ${topic} failed: ${describe(error)}`);
		}
	}

	#onConnack(): void {
		this.#timers.clear(this.#connectTimer);
		this.#connectTimer = undefined;
		this.#connected = true;
		this.#backoffMs = this.#config.minBackoffMs;
		if (this.#topics.size)
			this.#send(encodeSubscribe(this.#allocateId(), Array.from(this.#topics), 1));
		this.#schedulePing();
		const first = !this.#everConnected;
		this.#everConnected = true;
		this.#log.info(`mqtt: connected to ${this.#config.host}:${this.#config.port}`);
		try {
			this.onConnect?.(first);
		}
		catch (error) {
			this.#log.error(`mqtt: connect handler failed: ${describe(error)}`);
		}
	}

	#schedulePing(): void {
		const keepAliveMs = this.#config.keepAliveSeconds * 1000;
		if (!keepAliveMs)
			return;
		this.#pingTimer = this.#timers.set(() => {
			this.#pingTimer = undefined;
			if (!this.#connected)
				return;
			const now = this.#timers.now();
			if (now - this.#lastRead > keepAliveMs * 1.5) {
				this.#fail("keep-alive timeout");
				return;
			}
			if (now - this.#lastWrite >= keepAliveMs * 0.75)
				this.#send(encodePingreq());
			this.#schedulePing();
		}, keepAliveMs / 4);
	}

	/** Queues a packet and writes what fits; a socket that refuses the write drops the link (callers never see the throw). */
	#send(packet: Uint8Array): void {
		this.#outbound.push(packet);
		try {
			this.#flush();
		}
		catch (error) {
			this.#fail(`write failed: ${describe(error)}`);
		}
	}

	/** Writes queued bytes as far as the socket has room (Moddable's write throws when a buffer does not fit). */
	#flush(): void {
		const socket = this.#socket;
		if (!socket)
			return;
		while (this.#outbound.length) {
			const room = socket.write();
			if (typeof room !== "number" || room <= 0)
				return;
			const head = this.#outbound[0];
			if (head.length <= room) {
				socket.write(toArrayBuffer(head));
				this.#outbound.shift();
			}
			else {
				socket.write(toArrayBuffer(head.subarray(0, room)));
				this.#outbound[0] = head.subarray(room);
			}
			this.#lastWrite = this.#timers.now();
		}
	}

	#fail(reason: string): void {
		this.#log.warn(`mqtt: ${reason}`);
		this.#drop(reason, true);
	}

	#drop(reason: string, reconnect: boolean): void {
		const wasConnected = this.#connected;
		this.#connected = false;
		this.#timers.clear(this.#pingTimer);
		this.#timers.clear(this.#connectTimer);
		this.#pingTimer = this.#connectTimer = undefined;
		const socket = this.#socket;
		this.#socket = undefined;
		this.#reader = undefined;
		this.#outbound = [];
		if (socket) {
			try {
				socket.close();
			}
			catch {
				// already closed by the peer
			}
		}
		const inflight = Array.from(this.#inflight.values());
		this.#inflight.clear();
		for (const pending of inflight)
			this.#later(() => pending.done?.(new Error(`MQTT link lost before PUBACK: ${reason}`)));
		if (wasConnected && reconnect) {	// close() is not a lost link
			try {
				this.onDisconnect?.(reason);
			}
			catch (error) {
				this.#log.error(`mqtt: disconnect handler failed: ${describe(error)}`);
			}
		}
		if (reconnect && !this.#closed)
			this.#scheduleReconnect();
	}

	#scheduleReconnect(): void {
		const delay = this.#backoffMs;
		this.#backoffMs = Math.min(this.#config.maxBackoffMs, this.#backoffMs * 2);
		this.#log.info(`mqtt: reconnecting in ${delay} ms`);
		this.#retryTimer = this.#timers.set(() => {
			this.#retryTimer = undefined;
			if (!this.#closed)
				this.#open();
		}, delay);
	}

	#allocateId(): number {
		for (let tries = 0; tries < 0xFFFF; tries++) {
			const id = this.#nextId;
			this.#nextId = id === 0xFFFF ? 1 : id + 1;
			if (!this.#inflight.has(id))
				return id;
		}
		throw new Error("no free MQTT packet id");
	}

	/** Callbacks of the port run asynchronously, never inside the caller's call. */
	#later(callback: () => void): void {
		this.#timers.set(callback, 0);
	}
}

/** An ArrayBuffer holding exactly the view's bytes (Moddable's socket write takes a buffer). */
function toArrayBuffer(view: Uint8Array): ArrayBuffer {
	if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer)
		return view.buffer;
	return view.slice().buffer as ArrayBuffer;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
