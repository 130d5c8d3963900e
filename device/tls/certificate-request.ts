/*
 * What the server asked for in its TLS 1.2 CertificateRequest: certificate_types and
 * supported_signature_algorithms (RFC 5246, section 7.4.4). The SDK's ssl_handshake.js reads and discards
 * that list; device/tls/session.ts feeds this scanner the plaintext handshake records the client
 * receives (before the server's ChangeCipherSpec), so that the EC CertificateVerify
 * (device/tls/ecdsa-certificate-verify.ts) can say clearly when the server does not take
 * ecdsa_secp256r1_sha256 (docs/decisions.md §1.15). Handshake messages may span
 * records (a server's Certificate often does): the scanner keeps a 4-byte header and skips bodies
 * by length, copying only a CertificateRequest's first bytes (bounded; the DN list that follows the
 * algorithms is not needed). Pure TypeScript: no SDK imports.
 */

const HANDSHAKE = 22;
const CHANGE_CIPHER_SPEC = 20;
const CERTIFICATE_REQUEST = 13;
/** Enough for certificate_types (≤ 256) and supported_signature_algorithms (≤ 2 + 2 × 64 in practice). */
const CAPTURE_LIMIT = 512;
/** SignatureScheme ecdsa_secp256r1_sha256: hash sha256 (4), signature ecdsa (3). */
export const ECDSA_SECP256R1_SHA256 = 0x0403;
/** ClientCertificateType ecdsa_sign. */
const ECDSA_SIGN = 64;

export interface CertificateRequestOffer {
	/** ClientCertificateType values (1 rsa_sign, 64 ecdsa_sign, ...). */
	readonly types: readonly number[];
	/** SignatureAndHashAlgorithm values as 16-bit numbers (0x0403 ecdsa_secp256r1_sha256, ...). */
	readonly algorithms: readonly number[];
}

export class CertificateRequestScan {
	#header = new Uint8Array(4);
	#headerLength = 0;
	#type = -1;
	#remaining = 0;
	#body: Uint8Array | undefined;
	#bodyLength = 0;
	#stopped = false;
	#offer: CertificateRequestOffer | undefined;

	/** The server's offer, once its CertificateRequest was seen. */
	get offer(): CertificateRequestOffer | undefined {
		return this.#offer;
	}

	/** One TLS record as received (5-byte header included). */
	record(record: Uint8Array): void {
		if (this.#stopped) return;
		if (record[0] === CHANGE_CIPHER_SPEC) {
			this.#stopped = true; // what follows is encrypted
			return;
		}
		if (record[0] !== HANDSHAKE || record.length < 5) return;
		let at = 5;
		while (at < record.length) {
			if (this.#headerLength < 4) {
				const count = Math.min(4 - this.#headerLength, record.length - at);
				this.#header.set(record.subarray(at, at + count), this.#headerLength);
				this.#headerLength += count;
				at += count;
				if (this.#headerLength === 4) this.#begin();
				continue;
			}
			const count = Math.min(this.#remaining, record.length - at);
			if (this.#body && this.#bodyLength < this.#body.length) {
				const copy = Math.min(count, this.#body.length - this.#bodyLength);
				this.#body.set(record.subarray(at, at + copy), this.#bodyLength);
				this.#bodyLength += copy;
			}
			at += count;
			this.#remaining -= count;
			if (this.#remaining === 0) this.#end();
		}
	}

	#begin(): void {
		const header = this.#header;
		this.#type = header[0];
		this.#remaining = (header[1] << 16) | (header[2] << 8) | header[3];
		this.#body =
			this.#type === CERTIFICATE_REQUEST ? new Uint8Array(Math.min(this.#remaining, CAPTURE_LIMIT)) : undefined;
		this.#bodyLength = 0;
		if (this.#remaining === 0) this.#end();
	}

	#end(): void {
		if (this.#body) this.#offer = parseCertificateRequest(this.#body.subarray(0, this.#bodyLength));
		this.#body = undefined;
		this.#headerLength = 0;
		this.#type = -1;
	}
}

/** certificate_types and supported_signature_algorithms of a TLS 1.2 CertificateRequest body (maybe cut after them). */
export function parseCertificateRequest(body: Uint8Array): CertificateRequestOffer {
	const typeCount = body[0] ?? 0;
	const types = Array.from(body.subarray(1, 1 + typeCount));
	const at = 1 + typeCount;
	const length = ((body[at] ?? 0) << 8) | (body[at + 1] ?? 0);
	const algorithms: number[] = [];
	for (let i = at + 2; i + 1 < Math.min(at + 2 + length, body.length); i += 2)
		algorithms.push((body[i] << 8) | body[i + 1]);
	return {types, algorithms};
}

/** Why the server's CertificateRequest rules out an ECDSA P-256 signature, or undefined if it does not. */
export function offerProblem(offer: CertificateRequestOffer | undefined): string | undefined {
	if (!offer) return undefined;
	if (!offer.types.includes(ECDSA_SIGN))
		return `the server's CertificateRequest takes certificate types [${offer.types.join(", ")}], not ecdsa_sign (64)`;
	if (!offer.algorithms.includes(ECDSA_SECP256R1_SHA256))
		return `the server's CertificateRequest does not offer ecdsa_secp256r1_sha256 (0x0403) among its signature algorithms [${offer.algorithms.map(value => "0x" + value.toString(16).padStart(4, "0")).join(", ")}]`;
	return undefined;
}
