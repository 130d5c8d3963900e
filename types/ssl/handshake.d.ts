/* "ssl/handshake" of the Moddable SDK 8.2.3 (modules/crypt), untyped in the SDK; used by device/tls/ (types/ssl/README.md). */
declare module "ssl/handshake" {
	import type SSLStream from "ssl/stream";
	/** The session as the handshake protocol objects see it (fields of session_original.js). */
	export interface HandshakeSession {
		readonly protocolVersion: number;
		readonly options: {clientKey?: ArrayBuffer; [key: string]: unknown};
		readonly myCert?: ArrayBuffer;
		traceProtocol(protocol: object): void;
	}
	export interface HandshakeMessage {
		readonly name: string;
		readonly msgType: number;
		packetize(session: HandshakeSession, ...params: unknown[]): ArrayBuffer | undefined;
	}
	const handshakeProtocol: {
		readonly certificateVerify: HandshakeMessage & {
			/** The digest of the handshake messages so far (SHA-256 from TLS 1.2 on). */
			calculateDigest(session: HandshakeSession): ArrayBuffer;
		};
		/** Frames a handshake message (type, 24-bit length, body), adds it to the handshake digest, makes the record. */
		packetize(session: HandshakeSession, msgType: number, body: SSLStream): ArrayBuffer;
	};
	export default handshakeProtocol;
}
