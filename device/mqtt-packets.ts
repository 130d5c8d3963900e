/*
 * MQTT 3.1.1 packets, as far as a RainMaker node needs them: CONNECT, PUBLISH (QoS 0/1 both
 * ways), PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT out; CONNACK, PUBLISH, PUBACK,
 * SUBACK, UNSUBACK, PINGRESP in. No Moddable or Node imports, so device/mqtt-session.ts can use it
 * on the device and the tests can check it against a real broker. UTF-8 is coded here because
 * neither TextEncoder (Node) nor ArrayBuffer.fromString (Moddable) exists on both sides.
 */
import {utf8Decode} from "../rainmaker/utf8";

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

export class MqttProtocolError extends Error {
	override name = "MqttProtocolError";
}

export function utf8Encode(text: string): Uint8Array {
	const bytes: number[] = [];
	for (const character of text) {
		const code = character.codePointAt(0) ?? 0;
		if (code < 0x80) bytes.push(code);
		else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
		else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
		else
			bytes.push(
				0xf0 | (code >> 18),
				0x80 | ((code >> 12) & 0x3f),
				0x80 | ((code >> 6) & 0x3f),
				0x80 | (code & 0x3f),
			);
	}
	return Uint8Array.from(bytes);
}

/** Decodes UTF-8 (the core's decoder: the session decodes text payloads with it too). */
export {utf8Decode};

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
	if (bytes.length > 0xffff) throw new MqttProtocolError("string longer than 65535 bytes");
	const out = new Uint8Array(bytes.length + 2);
	out[0] = bytes.length >> 8;
	out[1] = bytes.length & 0xff;
	out.set(bytes, 2);
	return out;
}

function packet(typeAndFlags: number, ...parts: Uint8Array[]): Uint8Array {
	let length = 0;
	for (const part of parts) length += part.length;
	if (length > 268435455) throw new MqttProtocolError("packet too large");
	const header: number[] = [typeAndFlags];
	let remaining = length;
	do {
		let digit = remaining & 0x7f;
		remaining >>= 7;
		if (remaining) digit |= 0x80;
		header.push(digit);
	} while (remaining);
	const out = new Uint8Array(header.length + length);
	out.set(header, 0);
	let position = header.length;
	for (const part of parts) {
		out.set(part, position);
		position += part.length;
	}
	return out;
}

function packetId(id: number): Uint8Array {
	if (!(id >= 1 && id <= 0xffff)) throw new MqttProtocolError(`packet id ${id} out of range`);
	return Uint8Array.of(id >> 8, id & 0xff);
}

export interface ConnectOptions {
	clientId: string;
	keepAliveSeconds: number;
	username?: string;
	password?: string;
}

/** CONNECT with clean session (RainMaker's default), protocol level 4. */
export function encodeConnect(options: ConnectOptions): Uint8Array {
	let flags = 0x02;
	const payload: Uint8Array[] = [lengthPrefixed(utf8Encode(options.clientId))];
	if (options.username !== undefined) {
		flags |= 0x80;
		payload.push(lengthPrefixed(utf8Encode(options.username)));
	}
	if (options.password !== undefined) {
		flags |= 0x40;
		payload.push(lengthPrefixed(utf8Encode(options.password)));
	}
	const keepAlive = Math.max(0, Math.min(0xffff, Math.round(options.keepAliveSeconds)));
	const variableHeader = Uint8Array.of(0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, keepAlive >> 8, keepAlive & 0xff);
	return packet(CONNECT << 4, variableHeader, ...payload);
}

/** PUBLISH, retain false. `id` is required for QoS 1. */
export function encodePublish(topic: string, payload: Uint8Array, qos: 0 | 1, id = 0, duplicate = false): Uint8Array {
	const flags = (duplicate ? 0x08 : 0) | (qos << 1);
	const topicBytes = lengthPrefixed(utf8Encode(topic));
	return qos
		? packet((PUBLISH << 4) | flags, topicBytes, packetId(id), payload)
		: packet((PUBLISH << 4) | flags, topicBytes, payload);
}

export function encodePuback(id: number): Uint8Array {
	return packet(PUBACK << 4, packetId(id));
}

export function encodeSubscribe(id: number, topics: readonly string[], qos: 0 | 1): Uint8Array {
	const parts = topics.map(topic => {
		const bytes = lengthPrefixed(utf8Encode(topic));
		const withQos = new Uint8Array(bytes.length + 1);
		withQos.set(bytes, 0);
		withQos[bytes.length] = qos;
		return withQos;
	});
	return packet((SUBSCRIBE << 4) | 0x02, packetId(id), ...parts);
}

export function encodeUnsubscribe(id: number, topics: readonly string[]): Uint8Array {
	return packet((UNSUBSCRIBE << 4) | 0x02, packetId(id), ...topics.map(topic => lengthPrefixed(utf8Encode(topic))));
}

export function encodePingreq(): Uint8Array {
	return Uint8Array.of(PINGREQ << 4, 0);
}

export function encodeDisconnect(): Uint8Array {
	return Uint8Array.of(DISCONNECT << 4, 0);
}

/** One complete incoming packet. */
export interface RawPacket {
	type: number;
	flags: number;
	body: Uint8Array;
}

export type IncomingPacket =
	| {type: typeof CONNACK; sessionPresent: boolean; returnCode: number}
	| {type: typeof PUBLISH; topic: string; payload: Uint8Array; qos: number; id: number; retain: boolean}
	| {type: typeof PUBACK | typeof UNSUBACK; id: number}
	| {type: typeof SUBACK; id: number; granted: number[]}
	| {type: typeof PINGRESP};

/** Interprets a packet a client can receive; throws MqttProtocolError for anything else or malformed. */
export function decodePacket(raw: RawPacket): IncomingPacket {
	const body = raw.body;
	const id = () => {
		if (body.length < 2) throw new MqttProtocolError(`packet type ${raw.type} too short`);
		return (body[0] << 8) | body[1];
	};
	switch (raw.type) {
		case CONNACK:
			if (body.length !== 2) throw new MqttProtocolError("bad CONNACK length");
			return {type: CONNACK, sessionPresent: (body[0] & 1) === 1, returnCode: body[1]};
		case PUBLISH: {
			const qos = (raw.flags >> 1) & 3;
			if (qos > 2) throw new MqttProtocolError("PUBLISH with QoS 3");
			if (body.length < 2) throw new MqttProtocolError("PUBLISH too short");
			const topicLength = (body[0] << 8) | body[1];
			let position = 2 + topicLength;
			if (position + (qos ? 2 : 0) > body.length)
				throw new MqttProtocolError("PUBLISH topic overruns the packet");
			const topic = utf8Decode(body.subarray(2, position));
			let packetIdentifier = 0;
			if (qos) {
				packetIdentifier = (body[position] << 8) | body[position + 1];
				position += 2;
			}
			return {
				type: PUBLISH,
				topic,
				payload: body.subarray(position),
				qos,
				id: packetIdentifier,
				retain: (raw.flags & 1) === 1,
			};
		}
		case PUBACK:
			return {type: PUBACK, id: id()};
		case UNSUBACK:
			return {type: UNSUBACK, id: id()};
		case SUBACK:
			return {type: SUBACK, id: id(), granted: Array.from(body.subarray(2))};
		case PINGRESP:
			return {type: PINGRESP};
		default:
			throw new MqttProtocolError(`unexpected packet type ${raw.type}`);
	}
}

/**
 * Splits a byte stream into packets. Bounded memory: a packet whose remaining length exceeds
 * `maxPacketBytes` is refused before it is buffered (the session then drops the connection).
 */
export class PacketReader {
	#header: number[] = [];
	#body: Uint8Array | undefined;
	#filled = 0;
	readonly #maxPacketBytes: number;

	constructor(maxPacketBytes: number) {
		this.#maxPacketBytes = maxPacketBytes;
	}

	/** Feeds bytes; returns the packets completed by them, in order. */
	push(bytes: Uint8Array): RawPacket[] {
		const packets: RawPacket[] = [];
		let position = 0;
		while (position < bytes.length) {
			if (!this.#body) {
				this.#header.push(bytes[position++]);
				const header = this.#header;
				if (header.length === 1) continue;
				const last = header[header.length - 1];
				if (last & 0x80) {
					if (header.length === 5) throw new MqttProtocolError("malformed remaining length");
					continue;
				}
				let length = 0;
				for (let i = header.length - 1; i >= 1; i--) length = length * 128 + (header[i] & 0x7f);
				if (length > this.#maxPacketBytes)
					throw new MqttProtocolError(
						`incoming packet of ${length} bytes exceeds the limit of ${this.#maxPacketBytes}`,
					);
				this.#body = new Uint8Array(length);
				this.#filled = 0;
			}
			const body = this.#body;
			const count = Math.min(body.length - this.#filled, bytes.length - position);
			body.set(bytes.subarray(position, position + count), this.#filled);
			this.#filled += count;
			position += count;
			if (this.#filled === body.length) {
				packets.push({type: this.#header[0] >> 4, flags: this.#header[0] & 0x0f, body});
				this.#header = [];
				this.#body = undefined;
			}
		}
		return packets;
	}
}
