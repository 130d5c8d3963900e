/*
 * The NVS reader (idf/nvs.ts) on images written by the format rules of ESP-IDF's NVS partition
 * generator (host/tools/nvs-partition.ts). CRCs are cross-checked with Node's own zlib.crc32, an
 * implementation independent of the project's.
 */
import assert from "node:assert/strict";
import {crc32} from "node:zlib";
import {NvsPartition, NvsType, NVS_PAGE_SIZE, NvsPageState} from "../idf/nvs";
import {readClaimedCredentials} from "../idf/fctry";
import {NvsPartitionWriter, buildFctryImage} from "../host/tools/nvs-partition";
import {readFileSync} from "node:fs";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`fixtures/nvs/${name}`, import.meta.url)));
const fixtureText = (name: string) => readFileSync(new URL(`fixtures/nvs/${name}`, import.meta.url), "utf8");

const parse = (image: Uint8Array) =>
	new NvsPartition((offset, length) => image.slice(offset, offset + length), image.length);
const view = (image: Uint8Array) => new DataView(image.buffer, image.byteOffset, image.byteLength);
const entryAt = (page: number, index: number) => page * NVS_PAGE_SIZE + 64 + index * 32;

const CERT = "-----BEGIN CERTIFICATE-----\n" + "MIIB".padEnd(1100, "A") + "\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\n" + "MIGH".padEnd(180, "B") + "\n-----END PRIVATE KEY-----\n";

describe("NVS partition format (idf/nvs.ts)", () => {
	it("writes page headers and entries with the generator's layout and zlib CRCs", () => {
		const image = new NvsPartitionWriter(0x3000).namespace("storage").entry("count", "u8", 7).build();
		const v = view(image);
		assert.equal(v.getUint32(0, true), NvsPageState.FULL, "a page before another is FULL");
		assert.equal(
			v.getUint32(NVS_PAGE_SIZE, true),
			NvsPageState.FULL,
			"the pages up to the reserved one get a header, FULL as the generator leaves them",
		);
		assert.equal(v.getUint32(NVS_PAGE_SIZE + 4, true), 1);
		assert.equal(v.getUint32(4, true), 0, "first page seq 0");
		assert.equal(image[8], 0xfe, "version 2");
		assert.equal(v.getUint32(28, true), crc32(image.subarray(4, 28), 0xffffffff));
		// bitmap: entries 0 and 1 written (0b10 each) = 0b1010 in the low nibble
		assert.equal(image[32], 0xfa);
		const ns = entryAt(0, 0);
		assert.deepEqual([...image.subarray(ns, ns + 4)], [0, NvsType.U8, 1, 0xff]);
		assert.equal(String.fromCharCode(...image.subarray(ns + 8, ns + 15)), "storage");
		assert.equal(image[ns + 24], 1, "first namespace index is 1");
		const crcInput = new Uint8Array([...image.subarray(ns, ns + 4), ...image.subarray(ns + 8, ns + 32)]);
		assert.equal(v.getUint32(ns + 4, true), crc32(crcInput, 0xffffffff));
		assert.ok(
			image.subarray(2 * NVS_PAGE_SIZE).every(b => b === 0xff),
			"the last page stays reserved (erased)",
		);
	});

	it("reads back primitives, strings and blobs that span pages", () => {
		const big = new Uint8Array(9000).map((_, i) => (i * 7) & 0xff);
		const image = new NvsPartitionWriter(0x6000)
			.namespace("one")
			.entry("u8", "u8", 200)
			.entry("i8", "i8", -5)
			.entry("u16", "u16", 65000)
			.entry("u32", "u32", 4000000000)
			.entry("i32", "i32", -123456)
			.entry("name", "string", "héllo")
			.namespace("two")
			.entry("blob", "binary", big)
			.entry("hex", "hex2bin", "00ff10")
			.entry("b64", "base64", "aGk=")
			.build();
		const nvs = parse(image);
		assert.deepEqual(nvs.namespaces(), ["one", "two"]);
		assert.equal(nvs.get("one", "u8"), 200);
		assert.equal(nvs.get("one", "i8"), -5);
		assert.equal(nvs.get("one", "u16"), 65000);
		assert.equal(nvs.get("one", "u32"), 4000000000);
		assert.equal(nvs.get("one", "i32"), -123456);
		assert.equal(nvs.get("one", "name"), "héllo");
		assert.deepEqual(nvs.get("two", "blob"), big);
		assert.deepEqual(nvs.get("two", "hex"), new Uint8Array([0, 0xff, 0x10]));
		assert.equal(nvs.text("two", "b64"), "hi");
		assert.equal(nvs.get("two", "u8"), undefined, "keys belong to their namespace");
		assert.equal(nvs.get("three", "u8"), undefined);
		assert.deepEqual(nvs.skipped, []);
		// the 9000-byte blob needed several BLOB_DATA chunks on successive pages, the earlier pages FULL
		assert.equal(view(image).getUint32(0, true), NvsPageState.FULL);
		assert.equal(view(image).getUint32(NVS_PAGE_SIZE, true), NvsPageState.FULL);
	});

	it("writes v1 blobs as single BLOB entries and reads them", () => {
		const image = new NvsPartitionWriter(0x3000, "v1")
			.namespace("ns")
			.entry("blob", "binary", new Uint8Array([1, 2, 3]))
			.build();
		assert.equal(image[8], 0xff);
		assert.equal(image[entryAt(0, 1) + 1], NvsType.BLOB);
		assert.deepEqual(parse(image).get("ns", "blob"), new Uint8Array([1, 2, 3]));
	});

	it("skips an entry with a bad CRC, a blob with a corrupt chunk and a page with a bad header CRC", () => {
		const image = new NvsPartitionWriter(0x4000)
			.namespace("ns")
			.entry("a", "u32", 1)
			.entry("b", "binary", "payload")
			.entry("c", "u8", 3)
			.build();
		image[entryAt(0, 1) + 24] ^= 1; // a's value: entry CRC no longer matches
		image[entryAt(0, 3)] ^= 0x20; // first data byte of b's chunk: data CRC no longer matches
		const nvs = parse(image);
		assert.equal(nvs.get("ns", "a"), undefined);
		assert.equal(nvs.get("ns", "b"), undefined);
		assert.equal(nvs.get("ns", "c"), 3);
		assert.match(nvs.skipped.join("\n"), /entry 1: bad entry CRC/);
		assert.match(nvs.skipped.join("\n"), /\(b\): bad data CRC/);
		image[5] ^= 1; // page seq: header CRC no longer matches
		const broken = parse(image);
		assert.deepEqual(broken.namespaces(), []);
		assert.match(broken.skipped.join("\n"), /page 0: bad header CRC/);
	});

	it("ignores erased entries and lets a later page replace a value", () => {
		const first = new NvsPartitionWriter(0x4000).namespace("ns").entry("k", "u8", 1).build();
		// erase entry 1 (bitmap 0b00): the value is gone
		const erased = first.slice();
		erased[32] &= ~0b1100;
		assert.equal(parse(erased).get("ns", "k"), undefined);
		// page 1 (seq 1) holds a newer value of the same key in the same namespace
		const second = new NvsPartitionWriter(0x4000).namespace("ns").entry("k", "u8", 2).build();
		const combined = first.slice();
		combined.set(second.subarray(0, NVS_PAGE_SIZE), NVS_PAGE_SIZE);
		view(combined).setUint32(NVS_PAGE_SIZE + 4, 1, true);
		view(combined).setUint32(
			NVS_PAGE_SIZE + 28,
			crc32(combined.subarray(NVS_PAGE_SIZE + 4, NVS_PAGE_SIZE + 28), 0xffffffff),
			true,
		);
		assert.equal(parse(combined).get("ns", "k"), 2);
	});

	it("refuses values the generator refuses", () => {
		assert.throws(() => new NvsPartitionWriter(0x2000), /at least 0x3000/);
		assert.throws(
			() => new NvsPartitionWriter(0x3000).namespace("ns").entry("a_key_that_is_too_long", "u8", 1),
			/1 to 15/,
		);
		assert.throws(
			() => new NvsPartitionWriter(0x3000).namespace("ns").entry("s", "string", "x".repeat(4000)),
			/exceeds max allowed length/,
		);
		assert.throws(
			() => new NvsPartitionWriter(0x3000).namespace("ns").entry("h", "hex2bin", "abc"),
			/multiple of 2/,
		);
		assert.throws(
			() => new NvsPartitionWriter(0x3000).namespace("ns").entry("big", "binary", new Uint8Array(9000)),
			/too small/,
		);
	});
});

describe("NVS images of ESP-IDF's nvs_partition_gen.py (tests/fixtures/nvs)", () => {
	it("reads every value of the generator's image, and the writer makes the same bytes", () => {
		const image = fixture("mixed-nvs_partition_gen.bin");
		const nvs = parse(image);
		assert.deepEqual(nvs.skipped, []);
		assert.equal(nvs.get("storage", "u8key"), 200);
		assert.equal(nvs.get("storage", "i8key"), -5);
		assert.equal(nvs.get("storage", "u16key"), 65000);
		assert.equal(nvs.get("storage", "u32key"), 4000000000);
		assert.equal(nvs.get("storage", "i32key"), -123456);
		assert.equal(nvs.get("storage", "name"), "hello world");
		assert.deepEqual(nvs.get("other", "big"), fixture("big.bin"));
		assert.deepEqual(nvs.get("other", "hex"), new Uint8Array([0, 0xff, 0x10]));
		assert.equal(nvs.text("other", "b64"), "hi");
		const mine = new NvsPartitionWriter(0x8000)
			.namespace("storage")
			.entry("u8key", "u8", 200)
			.entry("i8key", "i8", -5)
			.entry("u16key", "u16", 65000)
			.entry("u32key", "u32", 4000000000)
			.entry("i32key", "i32", -123456)
			.entry("name", "string", "hello world")
			.namespace("other")
			.entry("big", "binary", fixture("big.bin"))
			.entry("hex", "hex2bin", "00ff10")
			.entry("b64", "base64", "aGk=")
			.build();
		assert.ok(Buffer.from(mine).equals(Buffer.from(image)), "byte for byte");
	});

	it("reads the claim data of a generator image with esp-rainmaker-cli's layout, and buildFctryImage makes the same bytes", () => {
		const image = fixture("claim-nvs_partition_gen.bin");
		const creds = readClaimedCredentials(parse(image))!;
		assert.equal(creds.nodeId, fixtureText("node.info"));
		assert.equal(creds.mqttHost, fixtureText("endpoint.info"));
		assert.equal(creds.mqttCredHost, fixtureText("credhost.info"));
		assert.equal(creds.clientCert, fixtureText("fx.crt"));
		assert.equal(creds.clientKey, fixtureText("fx.key"));
		assert.equal(Buffer.from(creds.random!).toString("hex"), "00112233445566778899aabbccddeeff");
		const mine = buildFctryImage({
			nodeId: creds.nodeId,
			mqttHost: creds.mqttHost,
			mqttCredHost: creds.mqttCredHost,
			clientCert: creds.clientCert,
			clientKey: creds.clientKey,
			random: "00112233445566778899aabbccddeeff",
		});
		assert.ok(Buffer.from(mine).equals(Buffer.from(image)), "byte for byte");
	});
});

describe("RainMaker claim data in the fctry partition (idf/fctry.ts)", () => {
	it("reads node_id, mqtt_host, client_cert, client_key, mqtt_cred_host and random as esp-rainmaker-cli stores them", () => {
		const image = buildFctryImage({
			nodeId: "node-42",
			mqttHost: "a1b2.iot.us-east-1.amazonaws.com",
			clientCert: CERT,
			clientKey: KEY,
			mqttCredHost: "c3d4.credentials.iot.us-east-1.amazonaws.com",
			random: "00112233445566778899aabbccddeeff",
		});
		assert.equal(image.length, 0x6000);
		const creds = readClaimedCredentials(parse(image));
		assert.ok(creds);
		assert.equal(creds.nodeId, "node-42");
		assert.equal(creds.mqttHost, "a1b2.iot.us-east-1.amazonaws.com");
		assert.equal(creds.clientCert, CERT);
		assert.equal(creds.clientKey, KEY);
		assert.equal(creds.mqttCredHost, "c3d4.credentials.iot.us-east-1.amazonaws.com");
		assert.deepEqual(creds.random, Uint8Array.from(Buffer.from("00112233445566778899aabbccddeeff", "hex")));
	});

	it("is undefined for an unclaimed (erased) partition and names what an incomplete one lacks", () => {
		assert.equal(readClaimedCredentials(parse(new Uint8Array(0x6000).fill(0xff))), undefined);
		const partial = new NvsPartitionWriter(0x6000)
			.namespace("rmaker_creds")
			.entry("node_id", "binary", "n1")
			.build();
		assert.throws(() => readClaimedCredentials(parse(partial)), /lacks mqtt_host, client_cert, client_key/);
	});
});
