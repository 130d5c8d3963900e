/* "ssl/session-sdk" of the Moddable SDK 8.2.3 (modules/crypt), untyped in the SDK; used by device/tls/ (types/ssl/README.md). */
declare module "ssl/session-sdk" {
	import type {HandshakeMessage} from "ssl/handshake";
	export default class SSLSession {
		constructor(options?: object);
		readonly options: {clientKey?: ArrayBuffer; [key: string]: unknown};
		readonly protocolVersion: number;
		doProtocol(s: unknown, protocol: HandshakeMessage | object, param1?: unknown, param2?: unknown): void;
		readPacket(s: unknown, available: number): ArrayBuffer | undefined;
		traceProtocol(protocol: object): void;
	}
}
