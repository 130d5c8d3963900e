/* "ssl/stream" of the Moddable SDK 8.2.3 (modules/crypt), untyped in the SDK; used by device/tls/ (types/ssl/README.md). */
declare module "ssl/stream" {
	export default class SSLStream {
		constructor(buffer?: ArrayBuffer | Uint8Array, initial?: number);
		writeChar(c: number): void;
		writeChars(v: number, n: number): void;
		writeChunk(a: ArrayBuffer | Uint8Array): void;
		getChunk(): ArrayBuffer;
	}
}
