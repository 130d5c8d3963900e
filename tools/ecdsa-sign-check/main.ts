/*
 * ECDSA P-256 signatures made on the Moddable runtime the way the TLS client makes its EC
 * CertificateVerify (device/tls/ecdsa-certificate-verify.ts signP256: the SDK's etc/ecdsa.js over
 * the native ec/mont arithmetic), of SHA-256 digests made with the SDK's Digest, and how long each
 * sign takes. Built with mcconfig -m -p lin -t build keyHex=<PKCS#8 DER hex> count=<n>; printed
 * lines (`sign <message hex> <DER signature hex> <ms>`) are checked with node:crypto by
 * tests/flash-lin-ecdsa.test.ts. Not part of the firmware.
 */
import config from "mc/config";
import {Digest} from "crypt";
import {ecPrivateKey} from "device/credentials";
import {signP256} from "device/tls/ecdsa-certificate-verify";

function hex(buffer: ArrayBuffer): string {
	return Array.from(new Uint8Array(buffer), byte => (byte < 16 ? "0" : "") + byte.toString(16)).join("");
}

const settings = config as unknown as {keyHex: string; count: number};
const keyHex = settings.keyHex;
const der = new Uint8Array(keyHex.length / 2);
for (let i = 0; i < der.length; i++) der[i] = parseInt(keyHex.slice(i * 2, i * 2 + 2), 16);
const key = ecPrivateKey(der, "keyHex");
const count = Number(settings.count);
let total = 0;
for (let i = 0; i < count; i++) {
	const message = ArrayBuffer.fromString(`handshake messages ${i}`);
	const hash = new Digest("SHA256");
	hash.write(message);
	const digest = hash.close();
	const started = Date.now();
	const signature = signP256(digest, key.secret);
	const ms = Date.now() - started;
	total += ms;
	trace(`sign ${hex(message)} ${hex(signature)} ${ms}\n`);
}
trace(`done: ${count} signatures, ${(total / count).toFixed(1)} ms each\n`);
