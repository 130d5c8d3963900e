import assert from "node:assert/strict";
import {execFileSync} from "node:child_process";
import {X509Certificate, createPrivateKey, createPublicKey} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {makeTestPki} from "../host/pki";

describe("test PKI helper", () => {
	let dir: string;
	before(() => {
		dir = mkdtempSync(join(tmpdir(), "rmx-pki-"));
	});
	after(() => rmSync(dir, {recursive: true, force: true}));

	it("issues a loopback server certificate and a client certificate with CN = node id, both signed by the CA", () => {
		const pki = makeTestPki(dir, "node-pki-1");
		const ca = new X509Certificate(pki.caCert);
		const server = new X509Certificate(pki.serverCert);
		const client = new X509Certificate(pki.clientCert);
		assert.ok(server.verify(ca.publicKey) && client.verify(ca.publicKey));
		assert.ok(server.checkIP("127.0.0.1") && server.checkHost("localhost"));
		assert.equal(client.subject, "CN=node-pki-1");
		assert.equal(createPrivateKey(pki.clientKey).asymmetricKeyDetails?.modulusLength, 2048);
		assert.ok(
			client.publicKey.equals(
				createPublicKey(createPrivateKey({key: pki.clientKeyPkcs8Der, format: "der", type: "pkcs8"})),
			),
		);
		const verified = execFileSync("openssl", [
			"verify",
			"-CAfile",
			pki.paths.caCert,
			pki.paths.serverCert,
			pki.paths.clientCert,
		]).toString();
		assert.match(verified, /server\.crt: OK[\s\S]*client-node-pki-1\.crt: OK/);
	});

	it("reuses the CA of a directory for another node and refuses node ids unfit for a subject", () => {
		const first = makeTestPki(dir, "node-pki-1");
		const second = makeTestPki(dir, {nodeId: "node-pki-2"});
		assert.equal(second.caCert, first.caCert);
		assert.equal(second.clientCert === first.clientCert, false);
		assert.ok(new X509Certificate(second.clientCert).verify(new X509Certificate(first.caCert).publicKey));
		assert.throws(() => makeTestPki(dir, "bad/id"), /node id "bad\/id"/);
	});
});
