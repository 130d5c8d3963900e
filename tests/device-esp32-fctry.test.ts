/*
 * The ESP32 fctry reader (device/esp32/fctry.ts over FFI otaplat_fctry_size / otaplat_fctry_read of
 * native/otaplat_esp32.c) on string-typed entries. esp-rainmaker-cli writes its claim data as
 * binary files (blobs, tests/fixtures/nvs/claim.csv), but an fctry image made by hand with
 * nvs_partition_gen's "data,string" rows holds strings; ESP-IDF v6.0's nvs_get_blob answers
 * ESP_ERR_NVS_NOT_FOUND for those (tests/support/moddable/nvs.ts says why), so the C reads them
 * with nvs_get_str. docs/device.md, section 3.
 */
import {strict as assert} from "node:assert";
import type {ClaimedCredentials} from "../idf/fctry";
import {loadDevice} from "./support/moddable-loader";
import {chip, resetChip} from "./support/moddable/esp32-chip";
import {ESP_ERR_NVS_INVALID_LENGTH, ESP_ERR_NVS_NOT_FOUND, ESP_OK, nvsGetBlob, nvsGetStr} from "./support/moddable/nvs";

/** The two FFI functions the reader calls (a stand-in of native/otaplat_esp32.c's answers). */
type FctryNative = {
	otaplat_fctry_size(key: string): number;
	otaplat_fctry_read(key: string, buffer: ArrayBuffer, offset: number, length: number): number;
};
type FctryModule = {readFctryCredentials: (native?: FctryNative) => ClaimedCredentials | undefined};

const bytes = (text: string) => new TextEncoder().encode(text);
const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";

describe("ESP32 fctry reader: string-typed values", () => {
	let fctry: FctryModule;

	before(async () => {
		fctry = await loadDevice<FctryModule>("esp32/fctry");
	});
	beforeEach(() => {
		resetChip({running: new Uint8Array(0), slotBytes: 0});
	});

	it("the NVS stand-in answers as ESP-IDF v6.0: a blob read of a string key is NOT_FOUND, a string's size counts its NUL", () => {
		const ns = new Map<string, Uint8Array | string>([
			["s", "abc"],
			["b", bytes("xyz")],
		]);
		const size = {value: 0};
		assert.equal(nvsGetBlob(ns, "s", undefined, size), ESP_ERR_NVS_NOT_FOUND);
		assert.equal(nvsGetStr(ns, "b", undefined, size), ESP_ERR_NVS_NOT_FOUND);
		assert.equal(nvsGetStr(ns, "absent", undefined, size), ESP_ERR_NVS_NOT_FOUND);
		assert.equal(nvsGetStr(ns, "s", undefined, size), ESP_OK);
		assert.equal(size.value, 4);
		const out = new Uint8Array(4);
		size.value = 3;
		assert.equal(nvsGetStr(ns, "s", out, size), ESP_ERR_NVS_INVALID_LENGTH);
		assert.equal(size.value, 4);
		assert.equal(nvsGetStr(ns, "s", out, size), ESP_OK);
		assert.deepEqual([...out], [0x61, 0x62, 0x63, 0]);
	});

	it('reads a claim whose values are strings (nvs_set_str / "data,string"), without their NUL', () => {
		chip.fctry.set("node_id", "string-node-7");
		chip.fctry.set("mqtt_host", "a1b2c3-ats.iot.us-east-1.amazonaws.com");
		chip.fctry.set("client_cert", CERT);
		chip.fctry.set("client_key", KEY);
		chip.fctry.set("mqtt_cred_host", "cred.example.com");
		const claim = fctry.readFctryCredentials();
		assert.deepEqual(claim, {
			nodeId: "string-node-7",
			mqttHost: "a1b2c3-ats.iot.us-east-1.amazonaws.com",
			clientCert: CERT,
			clientKey: KEY,
			mqttCredHost: "cred.example.com",
			random: undefined,
		});
	});

	it("reads strings and blobs side by side, the random blob as bytes", () => {
		chip.fctry.set("node_id", bytes("blob-node"));
		chip.fctry.set("mqtt_host", "mqtt.example.com");
		chip.fctry.set("client_cert", bytes(CERT));
		chip.fctry.set("client_key", KEY);
		chip.fctry.set("random", new Uint8Array([0, 0x11, 0xff]));
		const claim = fctry.readFctryCredentials()!;
		assert.equal(claim.nodeId, "blob-node");
		assert.equal(claim.mqttHost, "mqtt.example.com");
		assert.equal(claim.clientKey, KEY);
		assert.equal(claim.mqttCredHost, undefined);
		assert.deepEqual([...claim.random!], [0, 0x11, 0xff]);
	});

	it("reads no claim when node_id is absent, and names a key that is missing", () => {
		assert.equal(fctry.readFctryCredentials(), undefined);
		chip.fctry.set("node_id", "n1");
		chip.fctry.set("mqtt_host", "h");
		assert.throws(() => fctry.readFctryCredentials(), /namespace rmaker_creds lacks client_cert, client_key/);
	});

	it("reads an absent fctry partition (ESP_ERR_NOT_FOUND, ESP_ERR_NVS_PART_NOT_FOUND 0x110f) as unclaimed, and names any other esp_err_t", () => {
		const failing = (code: number): FctryNative => ({
			otaplat_fctry_size: () => -code,
			otaplat_fctry_read: () => -code,
		});
		assert.equal(fctry.readFctryCredentials(failing(0x105)), undefined);
		assert.equal(fctry.readFctryCredentials(failing(0x110f)), undefined);
		assert.throws(
			() => fctry.readFctryCredentials(failing(0x1108)),
			/fctry partition: cannot read rmaker_creds\/node_id \(esp_err_t 0x1108\)/,
		);
		assert.throws(() => fctry.readFctryCredentials(failing(0x1101)), /esp_err_t 0x1101/);
	});
});
