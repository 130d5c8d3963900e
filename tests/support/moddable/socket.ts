/*
 * Stand-in of Moddable's TCP "socket" (modules/network/socket/lin/modSocket.c) on node:net, with
 * its callback protocol: callback(1) connected, callback(2, n) n bytes readable (read them with
 * read(ArrayBuffer[, n]) during the callback; what is left is offered again), callback(3, n) room
 * for n bytes after a write went out, callback(-1) closed by the peer, callback(-2) error.
 * write() without arguments returns the room left in the fixed write buffer; a write that does not
 * fit throws "can't write all data", as modSocket.c does. close() ends all callbacks.
 */
import {connect, type Socket as NetSocket} from "node:net";

/** modSocket.c's write buffer on lin. */
export const WRITE_BUFFER_BYTES = 1024;

export type SocketCallback = (message: number, value?: number) => void;

export class StreamSocketStandIn {
	callback: SocketCallback = () => {};
	protected readonly stream: NetSocket;
	#received: Buffer[] = [];
	#pending = 0;
	#closed = false;
	readonly #reserve: number;

	constructor(stream: NetSocket, connectEvent: string, reserve = 0) {
		this.stream = stream;
		this.#reserve = reserve;
		stream.on(connectEvent, () => this.#emit(1));
		stream.on("data", (data: Buffer) => {
			this.#received.push(data);
			this.#offer();
		});
		stream.on("end", () => this.#finish(-1));
		stream.on("close", () => this.#finish(-1));
		stream.on("error", () => this.#finish(-2));
	}

	#available(): number {
		return this.#received.reduce((sum, chunk) => sum + chunk.length, 0);
	}

	#offer(): void {
		let guard = 0;
		while (!this.#closed && this.#received.length && guard++ < 1000) {
			const before = this.#available();
			this.#emit(2, before);
			if (this.#available() === before) break; // the callback read nothing now; the bytes wait for the next data event
		}
	}

	#emit(message: number, value?: number): void {
		if (this.#closed) return;
		this.callback(message, value);
	}

	#finish(message: number): void {
		if (this.#closed) return;
		this.#offer();
		this.#emit(message);
		this.#closed = true;
	}

	read(type: typeof ArrayBuffer | typeof String | null, until?: number): ArrayBuffer | string | undefined {
		const all = Buffer.concat(this.#received);
		const count = until === undefined ? all.length : Math.min(until, all.length);
		const taken = all.subarray(0, count);
		const rest = all.subarray(count);
		this.#received = rest.length ? [Buffer.from(rest)] : [];
		if (type === String) return taken.toString("utf8");
		if (type === null) return undefined;
		return taken.buffer.slice(taken.byteOffset, taken.byteOffset + taken.byteLength) as ArrayBuffer;
	}

	write(...data: (ArrayBuffer | ArrayBufferView | string | number)[]): number | undefined {
		if (this.#closed) throw new Error("write on closed socket");
		const room = Math.max(0, WRITE_BUFFER_BYTES - this.#reserve - this.#pending);
		if (!data.length) return room;
		const parts = data.map(item =>
			typeof item === "string"
				? Buffer.from(item, "utf8")
				: typeof item === "number"
					? Buffer.of(item & 0xff)
					: item instanceof ArrayBuffer
						? Buffer.from(item)
						: Buffer.from(item.buffer, item.byteOffset, item.byteLength),
		);
		const bytes = Buffer.concat(parts);
		if (bytes.length > room) throw new Error("can't write all data");
		this.#pending += bytes.length;
		this.stream.write(bytes, () => {
			this.#pending -= bytes.length;
			this.#emit(3, Math.max(0, WRITE_BUFFER_BYTES - this.#reserve - this.#pending));
		});
		return undefined;
	}

	close(): void {
		this.#closed = true;
		this.stream.destroy();
	}
}

export class Socket extends StreamSocketStandIn {
	static readonly connected = 1;
	static readonly readable = 2;
	static readonly writable = 3;
	static readonly disconnected = -1;
	static readonly error = -2;

	constructor(dictionary: {host?: string; address?: string; port?: number}) {
		super(connect({host: dictionary.host ?? dictionary.address, port: dictionary.port ?? 80}), "connect");
	}
}
