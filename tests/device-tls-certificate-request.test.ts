/*
 * device/tls/certificate-request.ts: the signature algorithms a TLS 1.2 server offers in its
 * CertificateRequest, read from the plaintext handshake records as the client receives them
 * (messages spanning records, a header cut between records, several messages in one record), and
 * the verdict on that offer that device/tls/ecdsa-certificate-verify.ts acts on
 * (docs/decisions.md §1.15). The framing follows RFC 5246 sections 6.2.1 and 7.4.4.
 */
import {strict as assert} from "node:assert";
import {loadDevice} from "./support/moddable-loader";

type Offer = {types: number[]; algorithms: number[]};
type ScanModule = {
	CertificateRequestScan: new () => {record(record: Uint8Array): void; readonly offer: Offer | undefined};
	parseCertificateRequest(body: Uint8Array): Offer;
	offerProblem(offer: Offer | undefined): string | undefined;
};

/** A handshake message: type, 24-bit length, body. */
function message(type: number, body: Uint8Array): Uint8Array {
	return Uint8Array.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff, ...body]);
}

/** TLS records (type, version 1.2, 16-bit length) cutting `bytes` at the given offsets. */
function records(type: number, bytes: Uint8Array, cuts: number[] = []): Uint8Array[] {
	const bounds = [0, ...cuts, bytes.length];
	return bounds
		.slice(1)
		.map((end, i) =>
			Uint8Array.from([
				type,
				3,
				3,
				(end - bounds[i]) >> 8,
				(end - bounds[i]) & 0xff,
				...bytes.subarray(bounds[i], end),
			]),
		);
}

/** A CertificateRequest body as OpenSSL 3 sends it: rsa_sign, dss_sign, ecdsa_sign; its signature algorithms; one CA DN. */
function certificateRequest(algorithms: number[], dn = new Uint8Array(60).fill(0x41)): Uint8Array {
	const list = algorithms.flatMap(value => [value >> 8, value & 0xff]);
	return Uint8Array.from([
		3,
		1,
		2,
		64,
		list.length >> 8,
		list.length & 0xff,
		...list,
		0,
		dn.length + 2,
		0,
		dn.length,
		...dn,
	]);
}

const OPENSSL_ALGORITHMS = [0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601];

describe("device TLS: the server's CertificateRequest offer", () => {
	let scan: ScanModule;

	before(async () => {
		scan = await loadDevice<ScanModule>("tls/certificate-request");
	});

	it("finds the offer after a Certificate that spans records, with a header cut between records", () => {
		const flight = Uint8Array.from([
			...message(2, new Uint8Array(70)), // ServerHello
			...message(11, new Uint8Array(3000).fill(0x30)), // Certificate
			...message(12, new Uint8Array(300)), // ServerKeyExchange
			...message(13, certificateRequest(OPENSSL_ALGORITHMS)),
			...message(14, new Uint8Array(0)), // ServerHelloDone
		]);
		const certificateEnd = 4 + 70 + 4 + 3000;
		const scanner = new scan.CertificateRequestScan();
		for (const record of records(22, flight, [50, 1000, 2500, certificateEnd + 2, certificateEnd + 4 + 300 + 3]))
			scanner.record(record);
		assert.deepEqual(scanner.offer, {types: [1, 2, 64], algorithms: OPENSSL_ALGORITHMS});
	});

	it("finds it in one record holding the whole flight, and nothing without a CertificateRequest", () => {
		const scanner = new scan.CertificateRequestScan();
		scanner.record(
			records(
				22,
				Uint8Array.from([...message(13, certificateRequest([0x0401])), ...message(14, new Uint8Array(0))]),
			)[0],
		);
		assert.deepEqual(scanner.offer, {types: [1, 2, 64], algorithms: [0x0401]});
		const none = new scan.CertificateRequestScan();
		none.record(
			records(22, Uint8Array.from([...message(2, new Uint8Array(40)), ...message(14, new Uint8Array(0))]))[0],
		);
		assert.equal(none.offer, undefined);
	});

	it("stops at the server's ChangeCipherSpec (what follows is encrypted)", () => {
		const scanner = new scan.CertificateRequestScan();
		scanner.record(records(20, Uint8Array.of(1))[0]);
		scanner.record(records(22, message(13, certificateRequest([0x0403])))[0]);
		assert.equal(scanner.offer, undefined);
	});

	it("keeps only the first bytes of a CertificateRequest with a long CA list", () => {
		const scanner = new scan.CertificateRequestScan();
		const body = certificateRequest([0x0403, 0x0401], new Uint8Array(5000).fill(0x31));
		for (const record of records(22, message(13, body), [100, 2000])) scanner.record(record);
		assert.deepEqual(scanner.offer?.algorithms, [0x0403, 0x0401]);
	});

	it("accepts an offer with ecdsa_sign and ecdsa_secp256r1_sha256, and names what is missing otherwise", () => {
		assert.equal(scan.offerProblem(undefined), undefined);
		assert.equal(scan.offerProblem({types: [1, 64], algorithms: OPENSSL_ALGORITHMS}), undefined);
		assert.match(
			scan.offerProblem({types: [1], algorithms: OPENSSL_ALGORITHMS})!,
			/certificate types \[1\], not ecdsa_sign \(64\)/,
		);
		assert.match(
			scan.offerProblem({types: [1, 64], algorithms: [0x0401, 0x0503]})!,
			/does not offer ecdsa_secp256r1_sha256 \(0x0403\) among its signature algorithms \[0x0401, 0x0503\]/,
		);
	});
});
