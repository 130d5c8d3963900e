/*
 * The TLS 1.2 CertificateVerify of a client with an EC P-256 key (RFC 5246 section 7.4.8, RFC 8422 section 5.8):
 * SignatureAndHashAlgorithm ecdsa_secp256r1_sha256 (0x0403), then the DER ECDSA-Sig-Value of the
 * SHA-256 digest of the handshake messages so far. The SDK's ssl_handshake.js signs with RSA only
 * (`certificateVerify.packetize` throws "unimplemented" otherwise); this message takes its place
 * for EC keys (device/tls/session.ts), with the SDK's own pieces: the handshake digest
 * (`certificateVerify.calculateDigest`), the handshake framing (`handshakeProtocol.packetize`),
 * and the ECDSA signer (modules/crypt/etc/ecdsa.js over the native `ec`/`mont` arithmetic, with a
 * random nonce from `rng`). docs/decisions.md §1.15.
 */
import handshakeProtocol, {type HandshakeSession} from "ssl/handshake";
import SSLStream from "ssl/stream";
import TLSError from "ssl/error";
import ECDSA from "ecdsa";
import Curve from "curve";
import {ecPrivateKey, keyKind} from "device/credentials";
import {ECDSA_SECP256R1_SHA256, offerProblem, type CertificateRequestOffer} from "device/tls/certificate-request";

const CERTIFICATE_VERIFY = 15;
const TLS_1_2 = 0x0303;

/** Whether a clientKey (PKCS#8 DER, device/credentials.ts) is an EC key. */
export function isEcClientKey(key: unknown): boolean {
	return key instanceof ArrayBuffer && key.byteLength > 8 && keyKind(new Uint8Array(key)) === "pkcs8-ec";
}

/** The DER ECDSA-Sig-Value of a SHA-256 digest with a P-256 secret scalar (big-endian). */
export function signP256(digest: ArrayBuffer, secret: Uint8Array): ArrayBuffer {
	const d = BigInt.fromArrayBuffer(secret.slice().buffer) as bigint;
	return new ECDSA(d, new Curve("secp256r1")).sign(digest, true);
}

export const ecdsaCertificateVerify = Object.freeze({
	name: "certificateVerify (ECDSA P-256)",
	msgType: CERTIFICATE_VERIFY,
	packetize(session: HandshakeSession, _cert: unknown, offer?: CertificateRequestOffer): ArrayBuffer {
		session.traceProtocol(this);
		if (session.protocolVersion < TLS_1_2)
			throw new TLSError(
				`EC client key: the server chose TLS ${session.protocolVersion.toString(16)}, the node signs CertificateVerify with an EC key in TLS 1.2 only`,
			);
		const problem = offerProblem(offer);
		if (problem)
			throw new TLSError(
				`EC client key: ${problem}; the node needs a broker that takes ECDSA P-256 client certificates, or a node claimed with --key_type rsa`,
			);
		const key = ecPrivateKey(new Uint8Array(session.options.clientKey as ArrayBuffer), "TLS client key");
		const signature = signP256(handshakeProtocol.certificateVerify.calculateDigest(session), key.secret);
		const body = new SSLStream();
		body.writeChars(ECDSA_SECP256R1_SHA256, 2);
		body.writeChars(signature.byteLength, 2);
		body.writeChunk(signature);
		return handshakeProtocol.packetize(session, CERTIFICATE_VERIFY, body);
	},
});
