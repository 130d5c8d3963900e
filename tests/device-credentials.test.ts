/*
 * device/credentials.ts: claim data PEM into what Moddable's TLS client takes (DER certificate,
 * PKCS#8 DER RSA key). Keys made with openssl as esp-rainmaker-cli makes them: EC P-256 PKCS#8
 * (its default) and RSA-2048 PKCS#1 (`--key_type rsa`); the converted key must be the same key
 * (node:crypto reads both and exports the same PKCS#8).
 */
import {strict as assert} from "node:assert";
import {createPrivateKey, generateKeyPairSync, X509Certificate} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {loadDevice} from "./support/moddable-loader";
import {makeTestPki, type TestPki} from "../host/pki";

type CredentialsModule = {
	tlsPrivateKey(key: string | Uint8Array, what?: string): ArrayBuffer;
	tlsCertificate(certificate: string | Uint8Array, what?: string): ArrayBuffer;
	keyKind(der: Uint8Array): string;
	wrapPkcs1(pkcs1: Uint8Array): Uint8Array;
};

describe("device credentials (PEM claim data to Moddable TLS form)", () => {
	let credentials: CredentialsModule;
	let dir: string;
	let pki: TestPki;

	before(async function () {
		this.timeout(180_000);	// openssl RSA key generation on a busy machine
		credentials = await loadDevice<CredentialsModule>("credentials");
		dir = mkdtempSync(join(tmpdir(), "credentials-"));
		pki = makeTestPki(dir, "cred-node");
	});
	after(() => rmSync(dir, {recursive: true, force: true}));

	it("wraps an RSA-2048 PKCS#1 key (--key_type rsa) into PKCS#8 DER holding the same key", function () {
		this.timeout(120_000);
		const {privateKey} = generateKeyPairSync("rsa", {modulusLength: 2048});
		const pkcs1 = privateKey.export({type: "pkcs1", format: "pem"}) as string;
		assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
		const der = new Uint8Array(credentials.tlsPrivateKey(pkcs1));
		assert.equal(credentials.keyKind(der), "pkcs8-rsa");
		const expected = privateKey.export({type: "pkcs8", format: "der"});
		assert.deepEqual(Buffer.from(der), expected, "the same bytes openssl pkcs8 -topk8 makes");
		assert.equal(createPrivateKey({key: Buffer.from(der), format: "der", type: "pkcs8"}).asymmetricKeyDetails?.modulusLength, 2048);
	});

	it("passes an RSA PKCS#8 PEM key and DER keys of either form", () => {
		const expected = createPrivateKey(pki.clientKey).export({type: "pkcs8", format: "der"});
		assert.deepEqual(Buffer.from(credentials.tlsPrivateKey(pki.clientKey)), expected);
		assert.deepEqual(Buffer.from(credentials.tlsPrivateKey(new Uint8Array(expected))), expected);
		const pkcs1 = createPrivateKey(pki.clientKey).export({type: "pkcs1", format: "der"});
		assert.deepEqual(Buffer.from(credentials.tlsPrivateKey(new Uint8Array(pkcs1))), expected);
	});

	it("refuses an EC P-256 key (the CLI's default), PKCS#8 or SEC1, naming --key_type rsa", () => {
		const {privateKey} = generateKeyPairSync("ec", {namedCurve: "P-256"});
		const pkcs8 = privateKey.export({type: "pkcs8", format: "pem"}) as string;
		assert.match(pkcs8, /BEGIN PRIVATE KEY/);
		assert.throws(() => credentials.tlsPrivateKey(pkcs8, "fctry client_key"), /fctry client_key is an EC key \(PKCS#8.*claim --key_type rsa/);
		const sec1 = privateKey.export({type: "sec1", format: "pem"}) as string;
		assert.throws(() => credentials.tlsPrivateKey(sec1), /EC key \(SEC1\).*--key_type rsa/);
	});

	it("converts the PEM certificate to its DER and refuses what is not one", () => {
		const der = Buffer.from(credentials.tlsCertificate(pki.clientCert));
		assert.deepEqual(der, new X509Certificate(pki.clientCert).raw);
		assert.throws(() => credentials.tlsCertificate(pki.clientKey), /expected a CERTIFICATE PEM block, found PRIVATE KEY/);
		assert.throws(() => credentials.tlsCertificate("node.crt contents"), /no PEM block/);
		assert.throws(() => credentials.tlsCertificate("-----BEGIN CERTIFICATE-----\nAAAA"), /has no -----END CERTIFICATE-----/);
		assert.throws(() => credentials.tlsCertificate("-----BEGIN CERTIFICATE-----\n#!?*\n-----END CERTIFICATE-----\n"), /bad base64/);
		assert.throws(() => credentials.tlsPrivateKey("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), /encrypted/);
	});
});
