/*
 * device/credentials.ts: claim data PEM into what the node's TLS client takes (DER certificate,
 * PKCS#8 DER key). Keys made as esp-rainmaker-cli makes them: EC P-256 PKCS#8 (its default) and
 * RSA-2048 PKCS#1 (`--key_type rsa`); the converted key must be the same key (node:crypto reads
 * both and exports the same PKCS#8), and the EC secret the one node:crypto reads (JWK "d").
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
	ecPrivateKey(pkcs8: Uint8Array, what?: string): {curve: string; secret: Uint8Array};
};

describe("device credentials (PEM claim data to Moddable TLS form)", () => {
	let credentials: CredentialsModule;
	let dir: string;
	let pki: TestPki;

	before(async function () {
		this.timeout(180_000); // openssl RSA key generation on a busy machine
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
		assert.equal(
			createPrivateKey({key: Buffer.from(der), format: "der", type: "pkcs8"}).asymmetricKeyDetails?.modulusLength,
			2048,
		);
	});

	it("passes an RSA PKCS#8 PEM key and DER keys of either form", () => {
		const expected = createPrivateKey(pki.clientKey).export({type: "pkcs8", format: "der"});
		assert.deepEqual(Buffer.from(credentials.tlsPrivateKey(pki.clientKey)), expected);
		assert.deepEqual(Buffer.from(credentials.tlsPrivateKey(new Uint8Array(expected))), expected);
		const pkcs1 = createPrivateKey(pki.clientKey).export({type: "pkcs1", format: "der"});
		assert.deepEqual(Buffer.from(credentials.tlsPrivateKey(new Uint8Array(pkcs1))), expected);
	});

	it("passes an EC P-256 PKCS#8 key (the CLI's default) and wraps a SEC1 one into the same PKCS#8", () => {
		const {privateKey} = generateKeyPairSync("ec", {namedCurve: "P-256"});
		const pkcs8 = privateKey.export({type: "pkcs8", format: "pem"}) as string;
		assert.match(pkcs8, /BEGIN PRIVATE KEY/);
		const expected = privateKey.export({type: "pkcs8", format: "der"});
		const der = new Uint8Array(credentials.tlsPrivateKey(pkcs8, "fctry client_key"));
		assert.deepEqual(Buffer.from(der), expected);
		assert.equal(credentials.keyKind(der), "pkcs8-ec");
		const sec1 = privateKey.export({type: "sec1", format: "pem"}) as string;
		assert.match(sec1, /BEGIN EC PRIVATE KEY/);
		const wrapped = Buffer.from(credentials.tlsPrivateKey(sec1));
		assert.deepEqual(
			createPrivateKey({key: wrapped, format: "der", type: "pkcs8"}).export({format: "jwk"}),
			privateKey.export({format: "jwk"}),
			"the same key",
		);
		assert.equal(credentials.keyKind(new Uint8Array(privateKey.export({type: "sec1", format: "der"}))), "sec1-ec");
	});

	it("reads the P-256 secret scalar that node:crypto reads", () => {
		for (let i = 0; i < 4; i++) {
			const {privateKey} = generateKeyPairSync("ec", {namedCurve: "P-256"});
			const key = credentials.ecPrivateKey(new Uint8Array(privateKey.export({type: "pkcs8", format: "der"})));
			assert.equal(key.curve, "P-256");
			assert.equal(Buffer.from(key.secret).toString("base64url"), privateKey.export({format: "jwk"}).d);
		}
	});

	it("refuses EC P-384 and Ed25519 keys at start-up, saying what to claim with", () => {
		const p384 = generateKeyPairSync("ec", {namedCurve: "P-384"}).privateKey.export({
			type: "pkcs8",
			format: "pem",
		}) as string;
		assert.throws(
			() => credentials.tlsPrivateKey(p384, "fctry client_key"),
			/fctry client_key is an EC P-384 key: the node signs with EC P-256 or RSA keys only: claim it again with `esp-rainmaker-cli claim` \(its default EC P-256 key\) or `esp-rainmaker-cli claim --key_type rsa`/,
		);
		const p384Sec1 = generateKeyPairSync("ec", {namedCurve: "P-384"}).privateKey.export({
			type: "sec1",
			format: "pem",
		}) as string;
		assert.throws(() => credentials.tlsPrivateKey(p384Sec1), /EC P-384 key: .*--key_type rsa/);
		const ed25519 = generateKeyPairSync("ed25519").privateKey.export({type: "pkcs8", format: "pem"}) as string;
		assert.throws(
			() => credentials.tlsPrivateKey(ed25519, "fctry client_key"),
			/fctry client_key: unsupported key algorithm \(not RSA or EC\); .*EC P-256 key.*--key_type rsa/,
		);
	});

	it("converts the PEM certificate to its DER and refuses what is not one", () => {
		const der = Buffer.from(credentials.tlsCertificate(pki.clientCert));
		assert.deepEqual(der, new X509Certificate(pki.clientCert).raw);
		assert.throws(
			() => credentials.tlsCertificate(pki.clientKey),
			/expected a CERTIFICATE PEM block, found PRIVATE KEY/,
		);
		assert.throws(() => credentials.tlsCertificate("node.crt contents"), /no PEM block/);
		assert.throws(
			() => credentials.tlsCertificate("-----BEGIN CERTIFICATE-----\nAAAA"),
			/has no -----END CERTIFICATE-----/,
		);
		assert.throws(
			() => credentials.tlsCertificate("-----BEGIN CERTIFICATE-----\n#!?*\n-----END CERTIFICATE-----\n"),
			/bad base64/,
		);
		assert.throws(
			() =>
				credentials.tlsPrivateKey(
					"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
				),
			/encrypted/,
		);
	});
});
