/*
 * The node's MQTT TLS credentials in the form Moddable's TLS client takes them: DER certificates
 * and an unencrypted PKCS#8 DER key. A node claimed with esp-rainmaker-cli keeps PEM in its fctry
 * partition: the certificate, and the key either as PKCS#8 "BEGIN PRIVATE KEY" (EC P-256, the CLI's
 * default) or as PKCS#1 "BEGIN RSA PRIVATE KEY" (`--key_type rsa`). PEM becomes DER here; a PKCS#1
 * RSA key is wrapped into PKCS#8 (the SDK's modules/crypt/etc/pkcs8.js reads that); an EC P-256 key
 * stays PKCS#8 (a SEC1 "EC PRIVATE KEY" is wrapped) and is signed with by device/tls/ (the SDK's
 * TLS client signs CertificateVerify with RSA only; docs/decisions.md §1.15).
 * Other keys (EC P-384, Ed25519, ...) are refused with an error that says what to claim with
 * (docs/device.md, "Claimed credentials"). Base64 decoding uses XS's Uint8Array.fromBase64
 * (native), not a JS loop.
 */

export class CredentialError extends Error {
	override name = "CredentialError";
}

const RSA_ENCRYPTION_OID: readonly number[] = Object.freeze([
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
]);
const EC_PUBLIC_KEY_OID: readonly number[] = Object.freeze([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);

/** secp256r1 (P-256), the one curve device/tls/ signs with. */
const P256_OID: readonly number[] = Object.freeze([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
const CURVE_NAMES: {readonly [oid: string]: string} = Object.freeze({
	"06052b81040022": "P-384",
	"06052b81040023": "P-521",
	"06082a8648ce3d030107": "P-256",
	"06052b8104000a": "secp256k1",
});

export const KEY_ADVICE =
	"the node signs with EC P-256 or RSA keys only: claim it again with `esp-rainmaker-cli claim` (its default EC P-256 key) or `esp-rainmaker-cli claim --key_type rsa`";

type Base64Decoder = (text: string) => Uint8Array;

function base64Decoder(): Base64Decoder {
	const fromBase64 = (Uint8Array as unknown as {fromBase64?: Base64Decoder}).fromBase64;
	if (typeof fromBase64 !== "function")
		throw new CredentialError("this runtime has no Uint8Array.fromBase64 (XS provides it)");
	return text => fromBase64.call(Uint8Array, text);
}

export interface PemBlock {
	/** The label after BEGIN ("CERTIFICATE", "PRIVATE KEY", "RSA PRIVATE KEY", ...). */
	readonly label: string;
	readonly der: Uint8Array;
}

/** The first PEM block of a text. */
export function pemBlock(pem: string, what: string): PemBlock {
	const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem);
	if (!begin) throw new CredentialError(`${what}: no PEM block (-----BEGIN ...-----)`);
	const label = begin[1];
	const endMarker = `-----END ${label}-----`;
	const end = pem.indexOf(endMarker, begin.index);
	if (end < 0) throw new CredentialError(`${what}: PEM block ${label} has no ${endMarker}`);
	const body = pem.slice(begin.index + begin[0].length, end).replace(/[\r\n\t ]/g, "");
	if (/^Proc-Type:/i.test(body)) throw new CredentialError(`${what}: encrypted PEM is not supported`);
	let der: Uint8Array;
	try {
		der = base64Decoder()(body);
	} catch (error) {
		throw new CredentialError(
			`${what}: bad base64 in PEM block ${label}: ${error instanceof Error ? error.message : String(error)}`,
		);
	}
	if (der.length < 2 || der[0] !== 0x30)
		throw new CredentialError(`${what}: PEM block ${label} is not DER (no SEQUENCE)`);
	return {label, der};
}

function derLength(length: number): number[] {
	if (length < 0x80) return [length];
	if (length < 0x100) return [0x81, length];
	if (length < 0x10000) return [0x82, length >> 8, length & 0xff];
	return [0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
}

/** Offset and length of the contents of the TLV at `at`. */
function tlv(der: Uint8Array, at: number): {tag: number; start: number; length: number} {
	const tag = der[at];
	let length = der[at + 1];
	let start = at + 2;
	if (length & 0x80) {
		const bytes = length & 0x7f;
		if (bytes < 1 || bytes > 3) throw new CredentialError("bad DER length");
		length = 0;
		for (let i = 0; i < bytes; i++) length = (length << 8) | der[start + i];
		start += bytes;
	}
	if (start + length > der.length) throw new CredentialError("truncated DER");
	return {tag, start, length};
}

function startsWith(der: Uint8Array, at: number, bytes: readonly number[]): boolean {
	for (let i = 0; i < bytes.length; i++) {
		if (der[at + i] !== bytes[i]) return false;
	}
	return true;
}

/** Wraps a PKCS#1 RSAPrivateKey into a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, NULL). */
export function wrapPkcs1(pkcs1: Uint8Array): Uint8Array {
	const algorithm = [0x30, 0x0d, ...RSA_ENCRYPTION_OID, 0x05, 0x00];
	const octets = [0x04, ...derLength(pkcs1.length)];
	const bodyLength = 3 + algorithm.length + octets.length + pkcs1.length;
	const head = [0x30, ...derLength(bodyLength), 0x02, 0x01, 0x00, ...algorithm, ...octets];
	const out = new Uint8Array(head.length + pkcs1.length);
	out.set(head, 0);
	out.set(pkcs1, head.length);
	return out;
}

export type KeyKind = "pkcs8-rsa" | "pkcs8-ec" | "pkcs8-other" | "pkcs1-rsa" | "sec1-ec";

/** What a DER private key is: PKCS#8 (by its algorithm OID) or PKCS#1 RSA. */
export function keyKind(der: Uint8Array): KeyKind {
	const outer = tlv(der, 0);
	if (outer.tag !== 0x30) throw new CredentialError("private key is not a DER SEQUENCE");
	const version = tlv(der, outer.start);
	const next = version.start + version.length;
	if (der[next] === 0x02) return "pkcs1-rsa"; // RSAPrivateKey: version, modulus, ...
	if (der[next] === 0x04 && version.length === 1 && der[version.start] === 1) return "sec1-ec"; // ECPrivateKey: version 1, privateKey OCTET STRING, ...
	if (der[next] !== 0x30) throw new CredentialError("private key is neither PKCS#8 nor PKCS#1");
	const algorithm = tlv(der, next);
	if (startsWith(der, algorithm.start, RSA_ENCRYPTION_OID)) return "pkcs8-rsa";
	if (startsWith(der, algorithm.start, EC_PUBLIC_KEY_OID)) return "pkcs8-ec";
	return "pkcs8-other";
}

/** The hex of `length` bytes of `der` from `at` (for OID names in messages). */
function hex(der: Uint8Array, at: number, length: number): string {
	return Array.from(der.subarray(at, at + length), byte => (byte < 16 ? "0" : "") + byte.toString(16)).join("");
}

/** The curve OID TLV (tag, length, value) of a SEC1 ECPrivateKey's [0] parameters, if it has them. */
function sec1CurveOid(der: Uint8Array): Uint8Array | undefined {
	const outer = tlv(der, 0);
	const version = tlv(der, outer.start);
	const secret = tlv(der, version.start + version.length);
	const at = secret.start + secret.length;
	if (at >= outer.start + outer.length || der[at] !== 0xa0) return undefined;
	const parameters = tlv(der, at);
	const oid = tlv(der, parameters.start);
	return der.subarray(parameters.start, oid.start + oid.length);
}

/** Wraps a SEC1 ECPrivateKey (with its curve in [0]) into a PKCS#8 PrivateKeyInfo (version 0, ecPublicKey + curve). */
export function wrapSec1(sec1: Uint8Array, what = "client key"): Uint8Array {
	const curve = sec1CurveOid(sec1);
	if (!curve)
		throw new CredentialError(
			`${what} is a SEC1 EC key without its curve: convert it with \`openssl pkcs8 -topk8 -nocrypt\``,
		);
	const algorithm = [0x30, ...derLength(EC_PUBLIC_KEY_OID.length + curve.length), ...EC_PUBLIC_KEY_OID, ...curve];
	const octets = [0x04, ...derLength(sec1.length)];
	const bodyLength = 3 + algorithm.length + octets.length + sec1.length;
	const head = [0x30, ...derLength(bodyLength), 0x02, 0x01, 0x00, ...algorithm, ...octets];
	const out = new Uint8Array(head.length + sec1.length);
	out.set(head, 0);
	out.set(sec1, head.length);
	return out;
}

/** An EC private key: its curve and its secret scalar (big-endian, as stored). */
export interface EcPrivateKey {
	readonly curve: "P-256";
	readonly secret: Uint8Array;
}

/** The curve and secret scalar of a PKCS#8 EC key; throws, with KEY_ADVICE, for a curve other than P-256. */
export function ecPrivateKey(pkcs8: Uint8Array, what = "client key"): EcPrivateKey {
	const outer = tlv(pkcs8, 0);
	const version = tlv(pkcs8, outer.start);
	const algorithm = tlv(pkcs8, version.start + version.length);
	if (algorithm.tag !== 0x30 || !startsWith(pkcs8, algorithm.start, EC_PUBLIC_KEY_OID))
		throw new CredentialError(`${what} is not a PKCS#8 EC key`);
	const curveAt = algorithm.start + EC_PUBLIC_KEY_OID.length;
	if (curveAt >= algorithm.start + algorithm.length || pkcs8[curveAt] !== 0x06)
		throw new CredentialError(`${what}: EC key without a named curve; ${KEY_ADVICE}`);
	const curveOid = tlv(pkcs8, curveAt);
	const curveLength = curveOid.start + curveOid.length - curveAt;
	if (curveLength !== P256_OID.length || !startsWith(pkcs8, curveAt, P256_OID)) {
		const name = CURVE_NAMES[hex(pkcs8, curveAt, curveLength)] ?? `curve ${hex(pkcs8, curveAt, curveLength)}`;
		throw new CredentialError(`${what} is an EC ${name} key: ${KEY_ADVICE}`);
	}
	const octets = tlv(pkcs8, algorithm.start + algorithm.length);
	if (octets.tag !== 0x04) throw new CredentialError(`${what}: PKCS#8 EC key without its private key OCTET STRING`);
	const sec1 = tlv(pkcs8, octets.start);
	const sec1Version = tlv(pkcs8, sec1.start);
	const secret = tlv(pkcs8, sec1Version.start + sec1Version.length);
	if (sec1.tag !== 0x30 || sec1Version.length !== 1 || pkcs8[sec1Version.start] !== 1 || secret.tag !== 0x04)
		throw new CredentialError(`${what}: PKCS#8 EC key does not hold a SEC1 ECPrivateKey (version 1)`);
	if (secret.length === 0 || secret.length > 32)
		throw new CredentialError(`${what}: EC P-256 private key of ${secret.length} bytes (expected 32)`);
	return {curve: "P-256", secret: pkcs8.slice(secret.start, secret.start + secret.length)};
}

/**
 * A private key (PEM, or DER bytes) as the PKCS#8 DER key the TLS client takes: RSA (PKCS#1 is
 * wrapped) or EC P-256 (SEC1 is wrapped); any other key throws with KEY_ADVICE.
 */
export function tlsPrivateKey(key: string | Uint8Array, what = "client key"): ArrayBuffer {
	let der: Uint8Array;
	if (typeof key === "string") {
		const block = pemBlock(key, what);
		if (block.label === "ENCRYPTED PRIVATE KEY")
			throw new CredentialError(`${what} is encrypted: the node needs an unencrypted key`);
		if (block.label !== "PRIVATE KEY" && block.label !== "RSA PRIVATE KEY" && block.label !== "EC PRIVATE KEY")
			throw new CredentialError(`${what}: unexpected PEM block ${block.label}`);
		der = block.der;
	} else der = key;
	const kind = keyKind(der);
	if (kind === "pkcs8-other")
		throw new CredentialError(`${what}: unsupported key algorithm (not RSA or EC); ${KEY_ADVICE}`);
	const pkcs8 = kind === "pkcs1-rsa" ? wrapPkcs1(der) : kind === "sec1-ec" ? wrapSec1(der, what) : der;
	if (kind === "pkcs8-ec" || kind === "sec1-ec") ecPrivateKey(pkcs8, what); // refuses other curves now, at start-up, not in the TLS handshake
	return pkcs8.slice().buffer as ArrayBuffer;
}

/** A certificate (PEM, or DER bytes) as DER. */
export function tlsCertificate(certificate: string | Uint8Array, what = "client certificate"): ArrayBuffer {
	if (typeof certificate !== "string") return certificate.slice().buffer as ArrayBuffer;
	const block = pemBlock(certificate, what);
	if (block.label !== "CERTIFICATE")
		throw new CredentialError(`${what}: expected a CERTIFICATE PEM block, found ${block.label}`);
	return block.der.slice().buffer as ArrayBuffer;
}
