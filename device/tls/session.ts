/*
 * "ssl/session" of the firmware (manifest.json maps it here; SecureSocket imports it): the SDK's
 * TLS session (modules/crypt/ssl/session_original.js, mapped as "ssl/session-sdk") with one change,
 * for a client whose key is EC P-256 (esp-rainmaker-cli's default): its CertificateVerify is
 * signed with ECDSA (device/tls/ecdsa-certificate-verify.ts) instead of the SDK's RSA-only one,
 * and the server's CertificateRequest is scanned for the signature algorithms it takes
 * (device/tls/certificate-request.ts). With an RSA key nothing changes. docs/decisions.md §1.15.
 */
import SSLSession from "ssl/session-sdk";
import handshakeProtocol from "ssl/handshake";
import {CertificateRequestScan} from "device/tls/certificate-request";
import {ecdsaCertificateVerify, isEcClientKey} from "device/tls/ecdsa-certificate-verify";

export default class Session extends SSLSession {
	#scan: CertificateRequestScan | undefined;

	constructor(options: object = {}) {
		super(options);
		if (isEcClientKey(this.options.clientKey)) this.#scan = new CertificateRequestScan();
	}

	override readPacket(s: unknown, available: number): ArrayBuffer | undefined {
		const packet = super.readPacket(s, available);
		if (packet && this.#scan) this.#scan.record(new Uint8Array(packet));
		return packet;
	}

	override doProtocol(s: unknown, protocol: object, param1?: unknown, param2?: unknown): void {
		if (this.#scan && protocol === handshakeProtocol.certificateVerify) {
			const offer = this.#scan.offer;
			this.#scan = undefined;
			try {
				super.doProtocol(s, ecdsaCertificateVerify, param1, offer);
			} catch (error) {
				// SecureSocket turns any handshake exception into a bare error callback: say why here
				trace(`error: TLS: ${error instanceof Error ? error.message : String(error)}\n`);
				throw error;
			}
			return;
		}
		super.doProtocol(s, protocol, param1, param2);
	}
}
