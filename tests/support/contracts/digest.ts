/*
 * The Digest contract (ota/ports.ts), for every adapter: MD5 and SHA-256 of the standard test
 * vectors, written in pieces (views into a larger buffer, an empty piece), the digest bytes at
 * close(), and a spent digest refusing more.
 */
import {strict as assert} from "node:assert";
import type {DigestFactory} from "../../../ota/ports";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** RFC 1321 and FIPS 180-2 test vectors. */
const VECTORS = [
	["MD5", "", "d41d8cd98f00b204e9800998ecf8427e"],
	["MD5", "abc", "900150983cd24fb0d6963f7d28e17f72"],
	["SHA256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
	["SHA256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
	[
		"SHA256",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	],
] as const;

export function digestContract(name: string, subject: () => Promise<DigestFactory>): void {
	describe(`Digest contract (ota/ports.ts): ${name}`, () => {
		let createDigest: DigestFactory;
		before(async () => {
			createDigest = await subject();
		});

		it("gives the standard test vectors of MD5 and SHA-256", () => {
			for (const [algorithm, text, expected] of VECTORS) {
				const digest = createDigest(algorithm);
				digest.write(new TextEncoder().encode(text));
				assert.equal(hex(digest.close()), expected, `${algorithm}("${text}")`);
			}
		});

		it("digests pieces written as views into a larger buffer, an empty piece among them", () => {
			const text = new TextEncoder().encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
			const buffer = new Uint8Array(text.length + 20);
			buffer.set(text, 10);
			const digest = createDigest("SHA256");
			digest.write(buffer.subarray(10, 13));
			digest.write(buffer.subarray(13, 13));
			digest.write(buffer.subarray(13, 10 + text.length));
			assert.equal(hex(digest.close()), VECTORS[4][2]);
		});

		it("refuses a write or a close once closed", () => {
			const digest = createDigest("MD5");
			digest.close();
			assert.throws(() => digest.write(Uint8Array.of(1)), Error);
			assert.throws(() => digest.close(), Error);
		});
	});
}
